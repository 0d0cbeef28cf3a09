"""Bulk actions on the contacts list: a confirmation page that counts, then the change."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from contacts import bulk
from crm.permissions import org_member
from crm.requests import OrgRequest


def _arguments(request: OrgRequest) -> dict[str, Any]:
    """The service's arguments from the list's form (or the confirmation page's)."""
    action = request.POST.get("action", "")
    everything = request.POST.get("scope") == "all"
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    return {
        "ids": None if everything else ids,
        "filters": QueryDict(request.POST.get("query", "")) if everything else None,
        "action": action,
        "value": request.POST.get(bulk.VALUE_FIELDS.get(action, ""), ""),
    }


def _back_to_list(request: OrgRequest) -> HttpResponse:
    query = QueryDict(request.POST.get("query", "")).urlencode()
    return redirect(
        reverse("contacts:list", args=[request.org.slug]) + (f"?{query}" if query else "")
    )


@require_POST
@org_member("contact.edit")
def contact_bulk(request: OrgRequest) -> HttpResponse:
    arguments = _arguments(request)
    try:
        count = bulk.contacts_bulk_count(membership=request.membership, **arguments)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_list(request)
    action, value = arguments["action"], arguments["value"]
    context = {
        **arguments,
        "count": count,
        "label": bulk.ACTIONS[action],
        "value_field": bulk.VALUE_FIELDS.get(action, ""),
        "value_label": bulk.value_label(action, value),
        "scope": "selected" if arguments["ids"] is not None else "all",
        "query": QueryDict(request.POST.get("query", "")).urlencode(),
    }
    return render(request, "contacts/contact_bulk_confirm.html", context)


@require_POST
@org_member("contact.edit")
def contact_bulk_apply(request: OrgRequest) -> HttpResponse:
    try:
        count = bulk.contacts_bulk_apply(
            org=request.org, by=request.user, membership=request.membership, **_arguments(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Changed {count} contact{'' if count == 1 else 's'}.")
    return _back_to_list(request)
