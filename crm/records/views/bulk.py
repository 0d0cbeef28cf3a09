"""Bulk actions on a list: a confirmation page that counts, then the change."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.params import text_param, text_params
from crm.permissions import can
from crm.records import bulk, merging
from crm.records.registry import Kind
from crm.records.views import for_kind
from crm.requests import OrgRequest


def _arguments(request: OrgRequest, kind: Kind) -> dict[str, Any]:
    """The service's arguments from the list's form (or the confirmation page's)."""
    action = text_param(request.POST, "action")
    everything = text_param(request.POST, "scope") == "all"
    ids = [int(pk) for pk in text_params(request.POST, "ids") if pk.isascii() and pk.isdigit()]
    field = next((a.field for a in kind.bulk_actions if a.key == action), "")
    return {
        "ids": None if everything else ids,
        "filters": QueryDict(text_param(request.POST, "query")) if everything else None,
        "action": action,
        # Checked by the action, which says what is wrong with it beside the list.
        "value": request.POST.get(field, "") if field else "",
    }


def _list_url(request: OrgRequest, kind: Kind) -> str:
    query = QueryDict(text_param(request.POST, "query")).urlencode()
    return kind.url("list", request.org.slug) + (f"?{query}" if query else "")


def _allowed(request: OrgRequest, kind: Kind, action: str) -> None:
    """403 unless the member may do this action; an action the kind lacks is refused later,
    with a message."""
    found = next((a for a in kind.bulk_actions if a.key == action), None)
    if found is not None and not found.allowed(kind, request.membership):
        raise PermissionDenied


def _to_merge(request: OrgRequest, kind: Kind, ids: list[int] | None) -> HttpResponse:
    """The merge page for the selected rows, where their values are chosen."""
    if not kind.merge or not can(request.membership, kind.action("merge")):
        raise PermissionDenied
    if ids is None or not 2 <= len(ids) <= merging.MAX_RECORDS:
        # Bandit B608: a message to the user, not SQL ("select from" in English).
        messages.error(request, f"To merge, select from 2 to {merging.MAX_RECORDS} rows.")  # nosec B608
        return redirect(_list_url(request, kind))
    query = urlencode([("ids", pk) for pk in ids])
    return redirect(kind.url("merge", request.org.slug) + f"?{query}")


@require_POST
@for_kind("edit")
def records_bulk(request: OrgRequest, kind: Kind) -> HttpResponse:
    arguments = _arguments(request, kind)
    if arguments["action"] == bulk.MERGE:
        return _to_merge(request, kind, arguments["ids"])
    _allowed(request, kind, arguments["action"])
    try:
        count = bulk.records_bulk_count(kind=kind, membership=request.membership, **arguments)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_list_url(request, kind))
    action = bulk.bulk_action(kind, arguments["action"])
    context = {
        **arguments,
        "count": count,
        "noun": kind.noun_for(count),
        "bulk_action": action,
        "value_label": action.describe(arguments["value"]),
        "scope": "selected" if arguments["ids"] is not None else "all",
        "query": QueryDict(text_param(request.POST, "query")).urlencode(),
        "apply_url": kind.url("bulk_apply", request.org.slug),
        "list_url": _list_url(request, kind),
    }
    return render(request, "records/bulk_confirm.html", context)


@require_POST
@for_kind("edit")
def records_bulk_apply(request: OrgRequest, kind: Kind) -> HttpResponse:
    arguments = _arguments(request, kind)
    _allowed(request, kind, arguments["action"])
    try:
        done = bulk.records_bulk_apply(
            kind=kind, org=request.org, by=request.user, membership=request.membership,
            **arguments,
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_list_url(request, kind))
    nouns = kind.noun_for(done.count)
    if arguments["action"] == bulk.TRASH.key and done.event is not None:
        # Undo, right away: components/_messages.html draws its button.
        undo = kind.url("bulk_undo", request.org.slug, done.event.pk)
        messages.success(
            request, f"Moved {done.count} {nouns} to the Trash.", extra_tags=f"undo {undo}"
        )
    else:
        messages.success(request, f"Changed {done.count} {nouns}.")
    return redirect(_list_url(request, kind))
