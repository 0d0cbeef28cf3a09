"""One fact of a record edited in place, for every kind that declares its facts
(crm.records.facts): the form for that fact, its save, and the fact shown again.

htmx swaps the fact's row of the record's page; without JavaScript the same URL is a page
with the one-field form that goes back to the record once saved.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from crm.permissions import can
from crm.records import facts
from crm.records.registry import Kind
from crm.records.views import for_kind, gone
from crm.requests import OrgRequest
from crm.selectors import object_history


def _record(request: OrgRequest, kind: Kind, record_id: int) -> Any:
    """The member's live record with what its page shows (its tags), or None."""
    found = kind.visible(request.membership)
    if kind.tags:
        found = found.prefetch_related(kind.tags.prefetch())
    return found.filter(pk=record_id).first()


def _fact(request: OrgRequest, kind: Kind, record: Any, name: str) -> facts.Fact:
    """The fact called `name`: 404 when the kind has none; 403 when the member may not edit
    this record (as its full edit answers)."""
    fact = facts.fact_named(kind, name)
    if fact is None:
        raise Http404
    if not can(request.membership, kind.action("edit"), record):
        raise PermissionDenied
    return fact


@require_http_methods(["GET", "POST"])
@for_kind("edit")
def record_field(request: OrgRequest, kind: Kind, field_name: str, **ids: int) -> HttpResponse:
    """The form for one fact of a record (GET), and its save (POST)."""
    record_id = ids[f"{kind.key}_id"]
    record = _record(request, kind, record_id)
    if record is None:  # deleted or merged in another tab, perhaps: say where it went
        return gone(request, kind, record_id)
    fact = _fact(request, kind, record, field_name)
    form = facts.fact_form(kind, fact, record, request.POST or None)
    if form.is_valid():
        by = request.user
        if facts.fact_save(kind, form, org=request.org, by=by, record=record) is not None:
            return _saved(request, kind, fact, record_id)
    context = {
        "record": record, "fact": fact, "form": form,
        "row": facts.shown(kind, fact, record, request.org.slug, edit=True),
        "record_url": kind.detail(request.org.slug, record_id),
    }  # fmt: skip
    template = "records/field_edit.html" + ("#fact" if request.htmx else "")
    return render(request, template, context)


def _saved(request: OrgRequest, kind: Kind, fact: facts.Fact, record_id: int) -> HttpResponse:
    if not request.htmx:
        messages.success(request, f"{fact.label} saved.")
        return redirect(kind.detail(request.org.slug, record_id))
    # Read again: what the page shows of it (its tags, its company's name) after the save.
    record = _record(request, kind, record_id)
    context = {
        "fact": facts.shown(kind, fact, record, request.org.slug, edit=True),
        "record": record,
        "history": object_history(record),
        "saved": True,
    }
    return render(request, "records/_fact_saved.html", context)


@require_GET
@for_kind("edit")
def record_field_value(
    request: OrgRequest, kind: Kind, field_name: str, **ids: int
) -> HttpResponse:
    """One fact shown again, as Cancel (or Esc) brings it back in place of its form."""
    record_id = ids[f"{kind.key}_id"]
    record = _record(request, kind, record_id)
    if record is None:
        return gone(request, kind, record_id)
    fact = _fact(request, kind, record, field_name)
    if not request.htmx:  # a link followed without JavaScript: the record's page has it
        return redirect(kind.detail(request.org.slug, record_id))
    context = {"fact": facts.shown(kind, fact, record, request.org.slug, edit=True)}
    return render(request, "records/_facts.html#fact", {**context, "focus": True})
