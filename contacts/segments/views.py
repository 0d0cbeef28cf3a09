"""Segments: the list, the builder (a plain form that htmx makes live), a segment's page with
its runs and "why is this contact here", refresh, freeze, delete and restore."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import selectors as contact_selectors
from contacts.models import Segment
from contacts.segments import builder, rules, selectors, services
from crm.forms import apply_errors
from crm.params import id_param
from crm.permissions import can, org_member
from crm.requests import OrgRequest
from crm.tasks import enqueue

EDIT = "segment.edit"
PREVIEW = 10


def _segment(segment_id: int, *, trashed: bool = False) -> Segment:
    found = Segment.objects.filter(pk=segment_id, deleted_at__isnull=not trashed).first()
    if found is None:
        raise Http404("No such segment.")
    return found


@require_GET
@org_member("contact.view")
def segment_list(request: OrgRequest) -> HttpResponse:
    context = {
        "segments": selectors.segment_list(),
        "deleted": selectors.segment_list(trashed=True) if can(request.membership, EDIT) else [],
        "can_edit": can(request.membership, EDIT),
    }
    return render(request, "contacts/segments/list.html", context)


# --- The builder ------------------------------------------------------------------------------


class SegmentForm(forms.Form):
    """The builder's own fields beside the rules."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=300, required=False)
    kind = forms.ChoiceField(
        choices=Segment.Kind.choices, initial=Segment.Kind.DYNAMIC,
        help_text="Dynamic: its members follow the rules. Static: a list kept by hand.",
    )  # fmt: skip
    schedule = forms.ChoiceField(
        choices=Segment.Schedule.choices, initial=Segment.Schedule.DAILY, label="Refresh",
        help_text="Besides whenever you ask, and after each save.",
    )  # fmt: skip


def _builder(request: OrgRequest, segment: Segment | None) -> HttpResponse:
    known = rules.fields()
    posted = request.method == "POST"
    tree = builder.tree_from_post(request.POST) if posted else (
        segment.rules if segment and segment.rules else rules.empty()
    )  # fmt: skip
    action = request.POST.get("do", "update") if posted else ""
    # Bound on Save alone: a change of a rule is no time to scold about the name.
    if action == "save":
        form = SegmentForm(request.POST)
    elif posted:
        form = SegmentForm(initial=request.POST.dict())
    else:
        fields = SegmentForm.base_fields
        form = SegmentForm(initial={n: getattr(segment, n) for n in fields} if segment else {})
    if action.split(":")[0] in ("add", "group", "remove"):
        tree = builder.apply(tree, action, known)
    status = 200
    if action == "save":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.segment_save(
                    org=request.org, by=request.user, segment=segment, name=data["name"],
                    description=data["description"], kind=data["kind"], rules_tree=tree,
                    schedule=data["schedule"],
                )  # fmt: skip
            except ValidationError as error:
                apply_errors(form, error)
                saved = None
        else:
            saved = None
        if saved is not None:
            if saved.kind == Segment.Kind.DYNAMIC:
                enqueue("contacts.segment_refresh", org_id=request.org.pk, segment_id=saved.pk,
                        trigger="saved", by_id=request.user.pk)  # fmt: skip
            messages.success(request, f"Saved {saved}.")
            return redirect("segments:detail", request.org.slug, saved.pk)
    context = _builder_context(tree, known, check=posted, saving=action == "save")
    context.update({"form": form, "segment": segment})
    template = "contacts/segments/form.html"
    if request.htmx and action != "save":
        template += "#builder"
    return render(request, template, context, status=status)


def _builder_context(
    tree: dict[str, Any], known: dict[str, Any], *, check: bool, saving: bool
) -> dict[str, Any]:
    nodes = builder.nodes(tree, known, check=check, saving=saving)
    count = None
    if not any(node.errors for node in nodes):
        try:
            count = selectors.estimate(rules.validate(tree, known=known))
        except (ValidationError, DatabaseError):
            count = None
    return {"nodes": nodes, "field_groups": builder.field_groups(known), "count": count,
            "input_types": builder.INPUT_TYPES}  # fmt: skip


@require_http_methods(["GET", "POST"])
@org_member(EDIT)
def segment_new(request: OrgRequest) -> HttpResponse:
    return _builder(request, None)


@require_http_methods(["GET", "POST"])
@org_member(EDIT)
def segment_edit(request: OrgRequest, segment_id: int) -> HttpResponse:
    return _builder(request, _segment(segment_id))


# --- A segment's page ---------------------------------------------------------------------------


@require_GET
@org_member("contact.view")
def segment_detail(request: OrgRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    members = selectors.visible_members(request.membership, segment)
    context = {
        "segment": segment,
        "members": list(members.order_by("last_name", "first_name", "id")[:PREVIEW]),
        "runs": selectors.runs(segment),
        **_sizes(segment),
        "progress": services.progress(segment.pk),
        "rules_text": _rules_lines(segment),
        "can_edit": can(request.membership, EDIT),
        "why": _why(request, segment),
    }
    return render(request, "contacts/segments/detail.html", context)


def _sizes(segment: Segment) -> dict[str, Any]:
    """The size chart's points and its Data table (newest first), from one read."""
    sizes = selectors.size_history(segment)
    return {"plot": selectors.size_plot(sizes), "history": list(reversed(sizes))}


def _rules_lines(segment: Segment) -> list[tuple[int, str]]:
    """The rules in words, a line each with its depth."""
    known = rules.fields()
    lines: list[tuple[int, str]] = []

    def walk(tree: dict[str, Any], depth: int) -> None:
        lines.append((depth, "All of these" if tree.get("match") != "any" else "Any of these"))
        for rule in tree.get("rules", []):
            if "rules" in rule:
                walk(rule, depth + 1)
            else:
                lines.append((depth + 1, rules.describe(rule, known)))

    walk(segment.rules or rules.empty(), 0)
    return lines


def _why(request: OrgRequest, segment: Segment) -> dict[str, Any] | None:
    """?contact=<id> or ?who=<address>: why that contact is in the segment (each condition
    with the contact's value), or the first condition it fails."""
    visible = contact_selectors.contact_list(request.membership)
    contact_id = id_param(request.GET.get("contact"))
    address = request.GET.get("who", "").strip().lower()[:254]
    if contact_id is not None:
        visible = visible.filter(pk=contact_id)
    elif address:
        visible = visible.filter(email=address)
    else:
        return None
    contact = visible.order_by("pk").first()
    if contact is None:
        return {"missing": True}
    visible = visible.filter(pk=contact.pk)
    # Since when a member is in it; when one who is not last left it.
    since = segment.members.filter(contact_id=contact.pk).values_list("added_at", flat=True)
    since_at = since.first()
    is_member = since_at is not None
    past = segment.spells.filter(contact_id=contact.pk).order_by("-left_at", "-id")
    left_at = None if is_member else past.values_list("left_at", flat=True).first()
    try:
        tree = rules.validate(segment.rules or rules.empty())
        line = rules.explain(visible, tree, keeps_out=segment.kind == Segment.Kind.DYNAMIC)
    except ValidationError as error:
        return {"contact": contact, "member": is_member, "error": "; ".join(error.messages)}
    return {"contact": contact, "member": is_member, "line": line, "since": since_at,
            "left": left_at,
            "lines": list(_flat(line)) if line else [],
            "static": segment.kind == Segment.Kind.STATIC}  # fmt: skip


def _flat(line: rules.Line) -> Any:
    """The explanation's lines in order, each with its value as the page says it."""
    line.shown = _shown(line.value)  # type: ignore[attr-defined]
    yield line.depth, line
    for child in line.children:
        yield from _flat(child)


def _shown(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):  # consent: the purposes granted
        granted = [k.replace("_", " ") for k, v in value.items()
                   if isinstance(v, dict) and v.get("granted")]  # fmt: skip
        return ", ".join(granted) or "none given"
    if isinstance(value, float | Decimal):  # a count of days, an average rating
        rounded = round(float(value), 2)
        return f"{int(rounded):,}" if rounded.is_integer() else f"{rounded:,.2f}".rstrip("0")
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "j M Y")
    return str(value)


@require_GET
@org_member("contact.view")
def segment_status(request: OrgRequest, segment_id: int) -> HttpResponse:
    """The refresh's progress, polled by the page while one runs."""
    segment = _segment(segment_id)
    progress = services.progress(segment.pk)
    context = {"segment": segment, "progress": progress, "runs": selectors.runs(segment),
               "can_edit": can(request.membership, EDIT)}  # fmt: skip
    if progress is None and request.htmx:  # it ended: the page's chart gets its point
        context.update(_sizes(segment))
    return render(request, "contacts/segments/_status.html", context)


@require_POST
@org_member(EDIT)
def segment_refresh(request: OrgRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    if segment.kind != Segment.Kind.DYNAMIC:
        messages.error(request, "A static segment keeps its members: there is nothing to refresh.")
    else:
        services.progress_start(segment.pk)
        enqueue("contacts.segment_refresh", org_id=request.org.pk, segment_id=segment.pk,
                trigger="asked", by_id=request.user.pk)  # fmt: skip
        messages.success(request, f"Refreshing {segment}…")
    return redirect("segments:detail", request.org.slug, segment.pk)


@require_POST
@org_member(EDIT)
def segment_freeze(request: OrgRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    services.segment_freeze(org=request.org, by=request.user, segment=segment)
    messages.success(request, f"{segment} is static now: its members stay as they are.")
    return redirect("segments:detail", request.org.slug, segment.pk)


@require_http_methods(["GET", "POST"])
@org_member(EDIT)
def segment_delete(request: OrgRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id)
    if request.method == "POST":
        services.segment_delete(org=request.org, by=request.user, segment=segment)
        undo = reverse("segments:restore", args=[request.org.slug, segment.pk])
        messages.success(request, f"Deleted {segment}.", extra_tags=f"undo {undo}")
        return redirect("segments:list", request.org.slug)
    return render(request, "contacts/segments/delete.html", {"segment": segment})


@require_POST
@org_member(EDIT)
def segment_restore(request: OrgRequest, segment_id: int) -> HttpResponse:
    segment = _segment(segment_id, trashed=True)
    services.segment_restore(org=request.org, by=request.user, segment=segment)
    messages.success(request, f"Restored {segment}.")
    return redirect("segments:detail", request.org.slug, segment.pk)


@require_POST
@org_member(EDIT)
def segment_remove_member(request: OrgRequest, segment_id: int) -> HttpResponse:
    """Take a contact out of a static segment."""
    segment = _segment(segment_id)
    contact_id = id_param(request.POST.get("contact"))
    try:
        removed = services.segment_remove(
            org=request.org, by=request.user, segment=segment,
            contact_ids=[contact_id] if contact_id else [],
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Removed from the segment." if removed else "Not a member.")
    return redirect("segments:detail", request.org.slug, segment.pk)
