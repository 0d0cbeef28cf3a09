"""Bulk actions on the contact and company lists: a confirmation page that counts, then
the change."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from contacts import bulk, merging
from crm.permissions import can, org_member
from crm.requests import OrgRequest

# kind -> (its list, its confirmation's form action, its merge page)
URLS = {
    "contact": ("contacts:list", "contacts:bulk_apply", "contacts:merge"),
    "company": ("contacts:companies", "contacts:company_bulk_apply", "contacts:company_merge"),
}


def _arguments(request: OrgRequest) -> dict[str, Any]:
    """The service's arguments from the list's form (or the confirmation page's)."""
    action = request.POST.get("action", "")
    everything = request.POST.get("scope") == "all"
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isascii() and pk.isdigit()]
    return {
        "ids": None if everything else ids,
        "filters": QueryDict(request.POST.get("query", "")) if everything else None,
        "action": action,
        "value": request.POST.get(bulk.VALUE_FIELDS.get(action, ""), ""),
    }


def _list_url(request: OrgRequest, kind: str) -> str:
    query = QueryDict(request.POST.get("query", "")).urlencode()
    return reverse(URLS[kind][0], args=[request.org.slug]) + (f"?{query}" if query else "")


def _to_merge(request: OrgRequest, kind: str, ids: list[int] | None) -> HttpResponse:
    """The merge page for the selected rows, where their values are chosen."""
    if not can(request.membership, f"{kind}.merge"):
        raise PermissionDenied
    if ids is None or not 2 <= len(ids) <= merging.MAX_RECORDS:
        messages.error(request, f"To merge, select from 2 to {merging.MAX_RECORDS} rows.")
        return redirect(_list_url(request, kind))
    query = urlencode([("ids", pk) for pk in ids])
    return redirect(reverse(URLS[kind][2], args=[request.org.slug]) + f"?{query}")


def _confirm(request: OrgRequest, kind: str) -> HttpResponse:
    arguments = _arguments(request)
    if arguments["action"] == bulk.MERGE:
        return _to_merge(request, kind, arguments["ids"])
    try:
        count = bulk.records_bulk_count(kind=kind, membership=request.membership, **arguments)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_list_url(request, kind))
    action, value = arguments["action"], arguments["value"]
    context = {
        **arguments,
        "count": count,
        "noun": bulk.KINDS[kind].noun(count),
        "label": bulk.ACTIONS[action],
        "value_field": bulk.VALUE_FIELDS.get(action, ""),
        "value_label": bulk.value_label(action, value),
        "scope": "selected" if arguments["ids"] is not None else "all",
        "query": QueryDict(request.POST.get("query", "")).urlencode(),
        "apply_url": reverse(URLS[kind][1], args=[request.org.slug]),
        "list_url": _list_url(request, kind),
    }
    return render(request, "contacts/bulk_confirm.html", context)


def _apply(request: OrgRequest, kind: str) -> HttpResponse:
    try:
        count = bulk.records_bulk_apply(
            kind=kind, org=request.org, by=request.user, membership=request.membership,
            **_arguments(request),
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Changed {count} {bulk.KINDS[kind].noun(count)}.")
    return redirect(_list_url(request, kind))


@require_POST
@org_member("contact.edit")
def contact_bulk(request: OrgRequest) -> HttpResponse:
    return _confirm(request, "contact")


@require_POST
@org_member("contact.edit")
def contact_bulk_apply(request: OrgRequest) -> HttpResponse:
    return _apply(request, "contact")


@require_POST
@org_member("company.edit")
def company_bulk(request: OrgRequest) -> HttpResponse:
    return _confirm(request, "company")


@require_POST
@org_member("company.edit")
def company_bulk_apply(request: OrgRequest) -> HttpResponse:
    return _apply(request, "company")
