"""Duplicates and merges: the lists of likely duplicates, the merge page, undoing a merge."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import duplicates, merging, selectors
from contacts.merge_forms import MergeForm
from contacts.models import Company, Contact, DuplicatePair, Merge, RecordKind
from crm.forms import apply_errors
from crm.paging import bounded_page
from crm.permissions import can, org_member
from crm.requests import OrgRequest

Record = Contact | Company
# Per kind: the model, the member's visible list, and the URL names of its pages.
KINDS: dict[str, dict[str, Any]] = {
    RecordKind.CONTACT: {
        "model": Contact, "list": selectors.contact_list, "noun": "contact", "nouns": "contacts",
        "detail": "contacts:detail", "duplicates": "contacts:duplicates",
        "find": "contacts:duplicates_find", "merge": "contacts:merge",
    },
    RecordKind.COMPANY: {
        "model": Company, "list": selectors.company_list, "noun": "company",
        "nouns": "companies", "detail": "contacts:company_detail",
        "duplicates": "contacts:company_duplicates", "find": "contacts:company_duplicates_find",
        "merge": "contacts:company_merge",
    },
}  # fmt: skip
PICKER_RESULTS = 20


def _allowed(request: OrgRequest, entity: str) -> None:
    if not can(request.membership, f"{entity}.merge"):
        raise PermissionDenied


def to_survivor(request: OrgRequest, entity: str, record_id: int) -> HttpResponse:
    """A merged-away record's page: on to the record it was merged into, or the same 404
    as a missing record's unless the member may see every record on the way."""
    visible = KINDS[entity]["model"].objects.visible_to(request.membership)
    survivor = merging.survivor_of(visible, record_id)
    if survivor is None:
        raise Http404
    messages.info(request, f"That {entity} was merged into {survivor}.")
    return redirect(KINDS[entity]["detail"], request.org.slug, survivor.pk)


# --- The lists of likely duplicates ------------------------------------------------------


def _duplicates(request: OrgRequest, entity: str) -> HttpResponse:
    page = bounded_page(
        duplicates.duplicate_pairs(entity, request.membership), request.GET.get("page")
    )
    context: dict[str, Any] = {"page": page, "entity": entity, "kind": KINDS[entity]}
    if request.htmx:  # paging: the #results partial, which shows no merges
        return render(request, "contacts/duplicates.html#results", context)
    context["merges"] = duplicates.recent_merges(entity, request.membership)
    return render(request, "contacts/duplicates.html", context)


@require_GET
@org_member("contact.merge")
def contact_duplicates(request: OrgRequest) -> HttpResponse:
    return _duplicates(request, RecordKind.CONTACT)


@require_GET
@org_member("company.merge")
def company_duplicates(request: OrgRequest) -> HttpResponse:
    return _duplicates(request, RecordKind.COMPANY)


@require_POST
@org_member()
def duplicates_find(request: OrgRequest, entity: str) -> HttpResponse:
    """Look for duplicates now, in the background, rather than waiting for the night."""
    _allowed(request, entity)
    if duplicates.duplicates_find_soon(org=request.org):
        messages.success(request, "Looking for duplicates: reload this page in a minute.")
    else:
        messages.info(request, "Already looking for duplicates: reload this page in a minute.")
    return redirect(KINDS[entity]["duplicates"], request.org.slug)


@require_POST
@org_member()
def duplicate_dismiss(request: OrgRequest, pair_id: int) -> HttpResponse:
    pair = duplicates.duplicate_pair(pair_id, request.membership)
    if pair is None:
        raise Http404  # another organisation's, already dismissed, or hidden from this member
    _allowed(request, pair.entity)
    duplicates.duplicate_dismiss(org=request.org, pair=pair, by=request.user)
    if request.htmx:  # the row leaves the list
        return HttpResponse("")
    messages.success(request, "Marked as not duplicates: they will not be listed again.")
    return redirect(KINDS[pair.entity]["duplicates"], request.org.slug)


# --- Merging -----------------------------------------------------------------------------


def _ids(request: OrgRequest) -> list[int]:
    """The ids named by ?ids=… (or posted), in that order, each once; others left out."""
    data = request.POST if request.method == "POST" else request.GET
    # isdigit() alone lets "²" through, which int() refuses.
    found = (int(pk) for pk in data.getlist("ids") if pk.isascii() and pk.isdigit())
    return list(dict.fromkeys(found))


def _chosen(request: OrgRequest, entity: str, ids: list[int]) -> list[Record]:
    """The records of `ids`, in that order; 404 unless the member sees them all."""
    found = KINDS[entity]["list"](request.membership).in_bulk(ids)
    if len(found) != len(ids):
        raise Http404  # another organisation's, hidden from this member, deleted or merged
    return [found[pk] for pk in ids]


def _picker(
    request: OrgRequest, entity: str, chosen: list[Record], error: str = ""
) -> HttpResponse:
    """Fewer than two records (or too many): search for the ones to merge with."""
    term = request.GET.get("q", "").strip()
    found = KINDS[entity]["list"](request.membership).exclude(pk__in=[r.pk for r in chosen])
    results = list(selectors.search(found, term)[:PICKER_RESULTS]) if term else []
    pairs: list[DuplicatePair] = []
    if len(chosen) == 1:  # the pairs listed for this record: one press away
        mine = Q(**{f"{entity}_a": chosen[0]}) | Q(**{f"{entity}_b": chosen[0]})
        pairs = list(duplicates.duplicate_pairs(entity, request.membership).filter(mine)[:10])
    context = {"entity": entity, "kind": KINDS[entity], "chosen": chosen, "q": term,
               "results": results, "pairs": pairs, "error": error}  # fmt: skip
    return render(request, "contacts/merge_pick.html", context)


def _merge(request: OrgRequest, entity: str) -> HttpResponse:
    ids = _ids(request)
    if len(ids) > merging.MAX_RECORDS:  # too many ticked in the picker's results
        error = f"Merge at most {merging.MAX_RECORDS} {KINDS[entity]['nouns']} at once."
        return _picker(request, entity, [], error)
    chosen = _chosen(request, entity, ids)
    if len(chosen) < 2:
        return _picker(request, entity, chosen)
    form = MergeForm(request.POST or None, entity=entity, records=chosen)
    if form.is_valid():
        service = (
            merging.contacts_merge if entity == RecordKind.CONTACT else merging.companies_merge
        )
        try:
            merge = service(org=request.org, by=request.user, **form.merge_arguments())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            undo = reverse("contacts:merge_undo", args=[request.org.slug, merge.pk])
            count, kind = len(merge.merged_ids), KINDS[entity]
            merged = f"{count} {kind['noun'] if count == 1 else kind['nouns']}"
            messages.success(request, format_html(
                'Merged {} into this one. <a href="{}">Undo…</a>', merged, undo
            ))  # fmt: skip
            return redirect(KINDS[entity]["detail"], request.org.slug, merge.survivor_id)
    context = {"entity": entity, "kind": KINDS[entity], "form": form, "records": chosen}
    return render(request, "contacts/merge.html", context)


@require_http_methods(["GET", "POST"])
@org_member("contact.merge")
def contact_merge(request: OrgRequest) -> HttpResponse:
    return _merge(request, RecordKind.CONTACT)


@require_http_methods(["GET", "POST"])
@org_member("company.merge")
def company_merge(request: OrgRequest) -> HttpResponse:
    return _merge(request, RecordKind.COMPANY)


@require_http_methods(["GET", "POST"])
@org_member()
def merge_undo(request: OrgRequest, merge_id: int) -> HttpResponse:
    merge = get_object_or_404(Merge.objects, pk=merge_id)
    _allowed(request, merge.entity)
    kind = KINDS[merge.entity]
    records = (
        kind["model"]
        .objects.visible_to(request.membership)
        .in_bulk([merge.survivor_id, *merge.merged_ids])
    )
    if (
        merge.survivor_id not in records
        and kind["model"].objects.filter(pk=merge.survivor_id).exists()
    ):
        raise Http404  # a survivor this member may not see
    if request.method == "POST":
        try:
            merging.merge_undo(org=request.org, merge=merge, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            count = len(merge.merged_ids)
            back = f"1 {kind['noun']} is" if count == 1 else f"{count} {kind['nouns']} are"
            messages.success(request, f"Undid the merge: {back} back.")
            return redirect(kind["detail"], request.org.slug, merge.survivor_id)
    context = {"merge": merge, "kind": kind, "summary": merging.merge_summary(merge, records),
               "problem": merging.merge_undo_problem(merge)}  # fmt: skip
    return render(request, "contacts/merge_undo.html", context)
