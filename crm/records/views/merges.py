"""Duplicates and merges of a kind's records: the list of likely duplicates, the merge page,
undoing a merge."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.forms import apply_errors
from crm.paging import bounded_page
from crm.params import text_param
from crm.permissions import can, org_member
from crm.records import duplicates, merging, registry
from crm.records.merge_forms import MergeForm
from crm.records.models import DuplicatePair, Merge
from crm.records.registry import Kind
from crm.records.search import search
from crm.records.views import for_kind
from crm.requests import OrgRequest

PICKER_RESULTS = 20


def _allowed(request: OrgRequest, kind: Kind) -> None:
    if kind.merge is None or not can(request.membership, kind.action("merge")):
        raise PermissionDenied


# --- The lists of likely duplicates ------------------------------------------------------


@require_GET
@for_kind("merge")
def records_duplicates(request: OrgRequest, kind: Kind) -> HttpResponse:
    if kind.duplicates is None:
        raise Http404("No duplicates are looked for among these records.")
    page = bounded_page(
        duplicates.duplicate_pairs(kind, request.membership), text_param(request.GET, "page")
    )
    page.object_list = duplicates.with_records(kind, page.object_list)
    context: dict[str, Any] = {"page": page, "kind": kind}
    if request.htmx:  # paging: the #results partial, which shows no merges
        return render(request, "records/duplicates.html#results", context)
    context["merges"] = duplicates.recent_merges(kind, request.membership)
    return render(request, "records/duplicates.html", context)


@require_POST
@for_kind("merge")
def records_duplicates_find(request: OrgRequest, kind: Kind) -> HttpResponse:
    """Look for duplicates now, in the background, rather than waiting for the night."""
    if duplicates.duplicates_find_soon(org=request.org):
        messages.success(request, "Looking for duplicates: reload this page in a minute.")
    else:
        messages.info(request, "Already looking for duplicates: reload this page in a minute.")
    return redirect(kind.url("duplicates", request.org.slug))


@require_POST
@org_member()
def duplicate_dismiss(request: OrgRequest, pair_id: int) -> HttpResponse:
    pair = duplicates.duplicate_pair(pair_id, request.membership)
    if pair is None:
        raise Http404  # another organisation's, already dismissed, or hidden from this member
    kind = registry.kind(pair.record_kind)
    _allowed(request, kind)
    duplicates.duplicate_dismiss(org=request.org, pair=pair, by=request.user)
    if request.htmx:  # the row leaves the list
        return HttpResponse("")
    messages.success(request, "Marked as not duplicates: they will not be listed again.")
    return redirect(kind.url("duplicates", request.org.slug))


# --- Merging -----------------------------------------------------------------------------


def _ids(request: OrgRequest) -> list[int]:
    """The ids named by ?ids=… (or posted), in that order, each once; others left out."""
    data = request.POST if request.method == "POST" else request.GET
    # isdigit() alone lets "²" through, which int() refuses.
    found = (int(pk) for pk in data.getlist("ids") if pk.isascii() and pk.isdigit())
    return list(dict.fromkeys(found))


def _chosen(request: OrgRequest, kind: Kind, ids: list[int]) -> list[Any]:
    """The records of `ids`, in that order; 404 unless the member sees them all."""
    visible = kind.visible(request.membership)
    if kind.merge:  # the merge page compares what the fields point at (a company, an owner)
        fields = (kind.model._meta.get_field(name) for name in kind.merge.fields)
        visible = visible.select_related(*(f.name for f in fields if f.is_relation))
    if kind.tags:  # and shows each record's tags
        visible = visible.prefetch_related(kind.tags.prefetch())
    found = visible.in_bulk(ids)
    if len(found) != len(ids):
        raise Http404  # another organisation's, hidden from this member, deleted or merged
    return [found[pk] for pk in ids]


def _picker(request: OrgRequest, kind: Kind, chosen: list[Any], error: str = "") -> HttpResponse:
    """Fewer than two records (or too many): search for the ones to merge with."""
    term = text_param(request.GET, "q").strip()
    found = kind.visible(request.membership).exclude(pk__in=[r.pk for r in chosen])
    results = list(search(found, term)[:PICKER_RESULTS]) if term and kind.searchable else []
    pairs: list[DuplicatePair] = []
    if len(chosen) == 1 and kind.duplicates:  # the pairs listed for this record: one press away
        mine = Q(first_id=chosen[0].pk) | Q(second_id=chosen[0].pk)
        listed = duplicates.duplicate_pairs(kind, request.membership).filter(mine)[:10]
        pairs = duplicates.with_records(kind, list(listed))
    context = {"kind": kind, "chosen": chosen, "q": term, "results": results, "pairs": pairs,
               "error": error}  # fmt: skip
    return render(request, "records/merge_pick.html", context)


@require_http_methods(["GET", "POST"])
@for_kind("merge")
def records_merge(request: OrgRequest, kind: Kind) -> HttpResponse:
    _allowed(request, kind)
    ids = _ids(request)
    if len(ids) > merging.MAX_RECORDS:  # too many ticked in the picker's results
        error = f"Merge at most {merging.MAX_RECORDS} {kind.nouns} at once."
        return _picker(request, kind, [], error)
    chosen = _chosen(request, kind, ids)
    if len(chosen) < 2:
        return _picker(request, kind, chosen)
    form = MergeForm(request.POST or None, kind=kind, records=chosen)
    if form.is_valid():
        try:
            merge = merging.records_merge(
                org=request.org, kind=kind, by=request.user, **form.merge_arguments()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            undo = reverse("records:merge_undo", args=[request.org.slug, merge.pk])
            count = len(merge.merged_ids)
            messages.success(request, format_html(
                'Merged {} {} into this one. <a href="{}">Undo…</a>', count,
                kind.noun_for(count), undo,
            ))  # fmt: skip
            return redirect(kind.detail(request.org.slug, merge.survivor_id))
    context = {"kind": kind, "form": form, "records": chosen}
    return render(request, "records/merge.html", context)


@require_http_methods(["GET", "POST"])
@org_member()
def merge_undo(request: OrgRequest, merge_id: int) -> HttpResponse:
    merge = get_object_or_404(Merge.objects, pk=merge_id)
    kind = registry.kind(merge.record_kind)
    _allowed(request, kind)
    visible = kind.every_visible(request.membership)
    records = visible.in_bulk([merge.survivor_id, *merge.merged_ids])
    if (
        merge.survivor_id not in records
        and kind.model._default_manager.filter(pk=merge.survivor_id).exists()
    ):
        raise Http404  # a survivor this member may not see
    if request.method == "POST":
        try:
            merging.merge_undo(org=request.org, merge=merge, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            count = len(merge.merged_ids)
            back = f"1 {kind.noun} is" if count == 1 else f"{count} {kind.nouns} are"
            messages.success(request, f"Undid the merge: {back} back.")
            return redirect(kind.detail(request.org.slug, merge.survivor_id))
    context = {"merge": merge, "kind": kind, "summary": merging.merge_summary(merge, records),
               "problem": merging.merge_undo_problem(merge)}  # fmt: skip
    return render(request, "records/merge_undo.html", context)
