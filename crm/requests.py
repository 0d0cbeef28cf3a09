"""The request type of views under /o/<org_slug>/, as the middleware fills it in, and the
client's address as the deployment's proxies pass it on."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from crm.models import Membership, Organization, User


class OrgRequest(HttpRequest):
    org: Organization
    membership: Membership
    user: User
    htmx: HtmxDetails


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the peer's, or, behind TRUSTED_PROXY_COUNT proxies that each
    append the address they saw to X-Forwarded-For, the one the outermost of them saw
    (counting from the right: what a client writes there itself is further left). A header
    with fewer hops than that, or an entry that is no address, falls back to the peer."""
    peer = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("x-forwarded-for", "")
    if count <= 0 or not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",")]
    if len(hops) < count:
        return peer
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return peer
