"""The request type of views under /o/<org_slug>/, as the middleware fills it in."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from crm.models import Membership, Organization, User


class OrgRequest(HttpRequest):
    org: Organization
    membership: Membership
    user: User
    htmx: HtmxDetails
