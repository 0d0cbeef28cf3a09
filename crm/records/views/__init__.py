"""The pages every record kind shares. The per-kind ones take the kind's key from their URL
(see crm.records.urls), so that one view serves every kind."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBase

from crm.permissions import can, org_member
from crm.records import registry
from crm.requests import OrgRequest

View = Callable[..., HttpResponseBase]


def for_kind(verb: str | None = None) -> Callable[[View], View]:
    """View decorator: the kind named by the URL, and 403 unless the member may `verb` it
    ("view" on contacts is the permission "contact.view")."""

    def decorator(view: View) -> View:
        @wraps(view)
        @org_member()
        def wrapped(request: OrgRequest, kind: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            found = registry.kind(kind)
            if verb is not None and not can(request.membership, found.action(verb)):
                raise PermissionDenied
            return view(request, found, *args, **kwargs)

        return wrapped

    return decorator
