"""The quick log and timeline of a record's page, and an interaction's page,
edit and delete (the list across channels is the platform's, crm.records)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from contacts.models import Contact
from crm.forms import apply_errors
from crm.permissions import can, org_member
from crm.requests import OrgRequest
from interactions import selectors, services, timeline
from interactions.forms import InteractionForm, blank_form, form_for
from interactions.models import Interaction


def timeline_context(request: OrgRequest, record: Any) -> dict[str, Any]:
    """What the timeline section of a record's page shows, from the page's query."""
    host = timeline.host_of(record)
    channel = request.GET.get("channel", "")
    channel = channel if channel in Interaction.Channel.values else ""
    token = request.GET.get("before")
    before = selectors.parse_timeline_token(token)
    page = selectors.record_timeline(record, before=token, channel=channel or None)
    return {
        "record": record,
        "page": page,
        "channel": channel,
        "channels": Interaction.Channel.choices,
        "timeline_url": reverse(
            f"interactions:{host.key}_timeline", args=[request.org.slug, record.pk]
        ),
        "record_url": reverse(host.page, args=[request.org.slug, record.pk]),
        "older": before is not None,
        "can_log": can(request.membership, "interaction.log"),
        "can_edit_any": can(request.membership, "interaction.edit_any"),
        # A contact can be written to from their page (interactions.outbound_views).
        "email_url": reverse("interactions:contact_email", args=[request.org.slug, record.pk])
        if isinstance(record, Contact)
        else "",
    }


@require_http_methods(["GET", "POST"])
@org_member("interaction.view")
def record_timeline(request: OrgRequest, host: str, **ids: int) -> HttpResponse:
    """GET: a page of a record's timeline (htmx: its entries; else the record's page at it).
    POST: log an interaction on the record."""
    found = timeline.host(host)
    # Through the member's visible records: a colleague's record a rep may not see answers
    # the same 404 as another organisation's.
    record = get_object_or_404(found.visible(request.membership), pk=ids[f"{host}_id"])
    page = reverse(found.page, args=[request.org.slug, record.pk])
    if request.method == "GET":
        if not request.htmx:
            query = request.GET.urlencode()
            return redirect(f"{page}{'?' + query if query else ''}#timeline")
        context = timeline_context(request, record)
        part = "entries" if context["older"] else "timeline"
        return render(request, f"interactions/_timeline.html#{part}", context)
    if not can(request.membership, "interaction.log"):
        raise PermissionDenied
    return _log(request, found, record, page)


def _log(request: OrgRequest, host: timeline.Host, record: Any, page: str) -> HttpResponse:
    form = InteractionForm(request.POST)
    saved = None
    if form.is_valid():
        try:
            saved = services.interaction_log(
                org=request.org, by=request.user, **host.links(record), **form.service_fields()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if host.logged is not None:
                host.logged(org=request.org, record=record, at=saved.occurred_at)
    context = {**timeline_context(request, record), "form": form}
    if saved is None:
        template = "interactions/_quick_log.html" if request.htmx else "interactions/log.html"
        return render(request, template, context, status=200 if request.htmx else 400)
    if request.htmx:  # the entry on top of the timeline, and the form empty again
        context.update(form=blank_form(saved.channel), entry=saved, added=True)
        return render(request, "interactions/_logged.html", context)
    messages.success(request, "Logged.")
    return redirect(f"{page}#timeline")


def _visible(request: OrgRequest, interaction_id: int) -> Interaction:
    return get_object_or_404(selectors.interaction_list(request.membership), pk=interaction_id)


@require_GET
@org_member("interaction.view")
def interaction_detail(request: OrgRequest, interaction_id: int) -> HttpResponse:
    interaction = _visible(request, interaction_id)
    context = {"interaction": interaction,
               "may_change": services.may_change(request.membership, interaction)}  # fmt: skip
    return render(request, "interactions/interaction_detail.html", context)


def _back(request: OrgRequest, interaction: Interaction) -> str:
    """The page of the record it was logged on: the most particular one (a deal's before its
    contact's, declared later), else the list."""
    for host in reversed(timeline.hosts()):
        record_id = getattr(interaction, f"{host.key}_id", None)
        if record_id:
            return reverse(host.page, args=[request.org.slug, record_id])
    return reverse("interaction:list", args=[request.org.slug])


@require_http_methods(["GET", "POST"])
@org_member("interaction.log")
def interaction_edit(request: OrgRequest, interaction_id: int) -> HttpResponse:
    interaction = _visible(request, interaction_id)
    if not services.may_change(request.membership, interaction):
        raise PermissionDenied
    form = InteractionForm(request.POST) if request.method == "POST" else form_for(interaction)
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(
                org=request.org, interaction=interaction, by=request.user,
                **form.service_fields(keep=interaction.details),
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect(f"{_back(request, interaction)}#timeline")
    context = {"interaction": interaction, "form": form, "back": _back(request, interaction)}
    return render(request, "interactions/interaction_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member("interaction.log")
def interaction_delete(request: OrgRequest, interaction_id: int) -> HttpResponse:
    interaction = _visible(request, interaction_id)
    if not services.may_change(request.membership, interaction):
        raise PermissionDenied
    if request.method == "POST":
        services.interaction_delete(org=request.org, interaction=interaction, by=request.user)
        if request.htmx:  # the entry leaves the timeline
            return HttpResponse("")
        messages.success(request, "Moved to the Trash.")
        return redirect(f"{_back(request, interaction)}#timeline")
    context = {"interaction": interaction, "back": _back(request, interaction)}
    return render(request, "interactions/interaction_delete.html", context)
