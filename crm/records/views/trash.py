"""The Trash: every kind's deleted records, restorable for TRASH_DAYS."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from crm.permissions import org_member
from crm.records import services, trash
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
