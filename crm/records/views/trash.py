"""The Trash: every kind's deleted records, restorable for TRASH_DAYS."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from crm.models import AuditEvent
from crm.params import text_params
from crm.permissions import org_member
from crm.records import bulk, services, trash
from crm.records.registry import Kind
from crm.records.views import for_kind
from crm.requests import OrgRequest


def say_trashed(request: OrgRequest, record: object) -> None:
    """The message after a record's Delete button: where it went, and the way back."""
    trash_url = reverse("records:trash", args=[request.org.slug])
    messages.success(request, format_html(
        'Moved {} to the <a href="{}">Trash</a>. You can restore it for {} days.',
        record, trash_url, services.TRASH_DAYS,
    ))  # fmt: skip


@require_GET
@org_member()
def trash_list(request: OrgRequest) -> HttpResponse:
    """What this member deleted (or may see deleted), kind by kind."""
    context = {"sections": trash.trash_sections(request.membership), "days": services.TRASH_DAYS}
    return render(request, "records/trash.html", context)


@require_POST
@for_kind("edit")
def record_restore(request: OrgRequest, kind: Kind, **record_id: Any) -> HttpResponse:
    """Bring one record back from the Trash (its id is the URL's `<kind>_id`)."""
    trashed = trash.trashed(kind, request.membership)
    record = get_object_or_404(trashed, pk=record_id[f"{kind.key}_id"])
    services.records_restore(org=request.org, by=request.user, kind=kind, ids=[record.pk])
    messages.success(request, f"Restored {record}.")
    return redirect(kind.detail(request.org.slug, record.pk))


@require_POST
@for_kind("edit")
def records_restore_many(request: OrgRequest, kind: Kind) -> HttpResponse:
    """The Trash's "Restore selected" for one kind."""
    ids = [int(pk) for pk in text_params(request.POST, "ids") if pk.isascii() and pk.isdigit()]
    if not ids:
        messages.error(request, f"Select the {kind.nouns} to restore.")
    else:
        count = trash.trash_restore(
            org=request.org, by=request.user, kind=kind, membership=request.membership, ids=ids
        )
        messages.success(request, f"Restored {count} {kind.noun_for(count)}.")
    return redirect("records:trash", request.org.slug)


@require_POST
@for_kind("edit")
def bulk_delete_undo(request: OrgRequest, kind: Kind, event_id: int) -> HttpResponse:
    """Undo, offered right after a bulk delete: bring its records back from the Trash."""
    event = get_object_or_404(AuditEvent.objects, pk=event_id, actor=request.user)
    try:
        count = bulk.bulk_delete_undo(
            kind=kind, org=request.org, by=request.user, membership=request.membership,
            event=event,
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Restored {count} {kind.noun_for(count)} from the Trash.")
    return redirect(kind.url("list", request.org.slug))
