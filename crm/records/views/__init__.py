"""The pages every record kind shares. The per-kind ones take the kind's key from their URL
(see crm.records.urls), so that one view serves every kind."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from crm.permissions import can, org_member
from crm.records import registry
from crm.records.merging import survivor_of
from crm.records.trash import purge_on, trashed
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


def look_alike(
    request: OrgRequest, kind: registry.Kind, find: Callable[[], Any], by: str
) -> dict[str, Any]:
    """Before a create: the member's live record the new one looks like (`find`: the same
    email, the same website), most often a form sent twice, unless the member chose to
    create another anyway; as the context of components/_same_exists.html."""
    same = None if request.POST.get("create_anyway") else find()
    url = kind.detail(request.org.slug, same.pk) if same is not None else ""
    return {"same": same, "same_by": by, "same_url": url}


def gone(request: OrgRequest, kind: registry.Kind, record_id: int) -> HttpResponse:
    """The answer for a record that is not alive, at its page or its forms: on to the record
    it was merged into; a page saying it is in the Trash, with the way back (410); or the
    same 404 as a missing record's, unless the member may see it. htmx asked for a piece of
    a page (an inline save): it loads the whole answer instead."""
    visible = kind.every_visible(request.membership)
    # Only a kind that merges has records merged into others.
    survivor: Any = survivor_of(visible, record_id) if kind.merge else None
    record = trashed(kind, request.membership).filter(pk=record_id).first()
    if survivor is None and record is None:
        raise Http404
    if request.htmx:
        return HttpResponseClientRedirect(kind.detail(request.org.slug, record_id))
    if survivor is not None or record is None:
        messages.info(request, f"That {kind.noun} was merged into {survivor}.")
        return redirect(kind.detail(request.org.slug, survivor.pk))
    context = {
        "kind": kind,
        "record": record,
        "can_restore": can(request.membership, kind.action("edit")),
        "restore_url": kind.url("restore", request.org.slug, record.pk),
        "purge_on": purge_on(record.deleted_at),
    }
    return render(request, "records/in_trash.html", context, status=410)
