"""Template context every page needs: the product, the organisation, navigation, permissions."""

from typing import TypedDict

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from crm import contributions
from crm.contributions import navigation
from crm.models import Membership
from crm.permissions import PermsFor, can


class NavItem(TypedDict):
    label: str
    url: str
    current: bool
    icon: str


def _nav(request: HttpRequest, slug: str, membership: Membership | None) -> list[NavItem]:
    """The sections the apps registered, those this member may use, the current one marked."""
    items: list[NavItem] = []
    for entry in navigation():
        if entry.action and not can(membership, entry.action):
            continue
        url = reverse(entry.url_name, args=[slug])
        home = url == f"/o/{slug}/"
        current = request.path == url or (not home and request.path.startswith(url))
        items.append({"label": entry.label, "url": url, "current": current, "icon": entry.icon})
    return items


def ui(request: HttpRequest) -> dict[str, object]:
    context: dict[str, object] = {"product_name": settings.PRODUCT_NAME, "nav_items": []}
    org = getattr(request, "org", None)
    membership = getattr(request, "membership", None)
    if org is not None:
        context.update(
            org=org,
            membership=membership,
            perms_for=PermsFor(membership),
            nav_items=_nav(request, org.slug, membership),
            # Read by the middleware, which found this page's membership among them.
            my_memberships=getattr(request, "my_memberships", []),
            topbar_templates=contributions.topbar(),
        )
    return context
