"""Template context every page needs: the product, the organisation, navigation, permissions."""

from typing import TypedDict

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from crm.permissions import PermsFor


class NavItem(TypedDict):
    label: str
    url: str | None
    current: bool


# The left navigation inside an organisation; a None URL name is a section not shipped yet.
_SECTIONS: list[tuple[str, str | None]] = [
    ("Home", "crm:home"),
    ("Contacts", "contact:list"),
    ("Companies", "company:list"),
    ("Deals", None),
    ("Tickets", None),
    ("Tasks", None),
    ("Segments", None),
    ("Dashboards", None),
]


def _nav(request: HttpRequest, slug: str) -> list[NavItem]:
    items: list[NavItem] = []
    for label, url_name in _SECTIONS:
        try:
            url = reverse(url_name, args=[slug]) if url_name else None
        except NoReverseMatch:
            url = None
        current = url is not None and (
            request.path == url or (url_name != "crm:home" and request.path.startswith(url))
        )
        items.append({"label": label, "url": url, "current": current})
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
            nav_items=_nav(request, org.slug),
            # Read by the middleware, which found this page's membership among them.
            my_memberships=getattr(request, "my_memberships", []),
        )
    return context
