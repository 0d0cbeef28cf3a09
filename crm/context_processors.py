"""Template context every page needs: the product's name and the main navigation."""

from typing import TypedDict

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


class NavItem(TypedDict):
    label: str
    url: str | None
    current: bool


# Sections in the order of the left navigation; a None URL is a section not shipped yet.
_SECTIONS: list[tuple[str, str | None]] = [
    ("Home", "home"),
    ("Contacts", None),
    ("Companies", None),
    ("Deals", None),
    ("Tickets", None),
    ("Tasks", None),
    ("Segments", None),
    ("Dashboards", None),
]


def ui(request: HttpRequest) -> dict[str, object]:
    items: list[NavItem] = []
    for label, url_name in _SECTIONS:
        url = reverse(url_name) if url_name else None
        items.append({"label": label, "url": url, "current": url == request.path})
    return {"product_name": settings.PRODUCT_NAME, "nav_items": items}
