"""Settings → Queues, SLA policies, Business hours and Support: admins only. Canned
replies: every member who sees tickets reads the list; those who may edit them (agents,
managers, admins) write them."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from crm.forms import apply_errors
from crm.permissions import org_member
from crm.requests import OrgRequest
from crm.selectors import object_history
from support import settings_services as services
from support.models import (
    PRIORITY_ORDER,
    BusinessCalendar,
    CannedReply,
    Queue,
    QueueAgent,
    SlaPolicy,
)
from support.models import SupportSettings as SupportSettingsRow
from support.settings_forms import (
    CalendarForm,
    CannedReplyForm,
    PolicyForm,
    QueueForm,
    SupportSettingsForm,
    calendar_initial,
    clock,
    duration,
    policy_initial,
    several_spans,
)

CONFIGURE = "settings.configure"
# Priorities from the lowest, as a policy's targets are listed.
_RANK = {str(priority): rank for rank, priority in enumerate(PRIORITY_ORDER)}
REPLY_EDIT = "canned_reply.edit"


def _posted(request: OrgRequest) -> Any:
    # Not `request.POST or None`: a form of unticked boxes posts nothing, and that is an answer.
    return request.POST if request.method == "POST" else None


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _address(request: OrgRequest, queue: Queue) -> str:
    """Where mail for the queue is posted: its inbound web hook."""
    return request.build_absolute_uri(f"/inbound/email/{queue.inbound_token}/")


# --- Queues -----------------------------------------------------------------------------------


@require_http_methods(["GET"])
@org_member(CONFIGURE)
def queue_list(request: OrgRequest) -> HttpResponse:
    queues = list(
        Queue.objects.select_related("lead", "policy").annotate(agent_count=Count("agent_links"))
    )
    for queue in queues:
        queue.address = _address(request, queue)  # type: ignore[attr-defined]
    default = SlaPolicy.objects.filter(is_default=True).first()
    return render(request, "support/settings/queues.html", {"queues": queues, "default": default})


def _queue_initial(queue: Queue) -> dict[str, Any]:
    agents = list(QueueAgent.objects.filter(queue=queue).values_list("user_id", flat=True))
    return {"name": queue.name, "email": queue.email, "lead": queue.lead_id,
            "policy": queue.policy_id, "assignment": queue.assignment,
            "agents": agents}  # fmt: skip


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def queue_new(request: OrgRequest) -> HttpResponse:
    form = QueueForm(_posted(request))
    if form.is_valid():
        data = form.cleaned_data | {"agents": list(form.cleaned_data["agents"])}
        try:
            queue = services.queue_create(org=request.org, by=request.user, **data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, f"Added the queue {queue}: mail to its address opens tickets."
            )
            return redirect("support_settings:queue_edit", request.org.slug, queue.pk)
    return render(request, "support/settings/queue_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def queue_edit(request: OrgRequest, queue_id: int) -> HttpResponse:
    queue = get_object_or_404(Queue.objects, pk=queue_id)
    form = QueueForm(_posted(request), initial=_queue_initial(queue))
    if form.is_valid():
        data = form.cleaned_data | {"agents": list(form.cleaned_data["agents"])}
        try:
            services.queue_update(org=request.org, queue=queue, by=request.user, **data)
        except ValidationError as error:
            apply_errors(form, error)
            queue.refresh_from_db()  # the page's title keeps its saved name
        else:
            messages.success(request, f"Saved the queue {queue}.")
            return redirect("support_settings:queue_edit", request.org.slug, queue.pk)
    context = {"form": form, "queue": queue, "address": _address(request, queue),
               "history": object_history(queue)}  # fmt: skip
    return render(request, "support/settings/queue_form.html", context)


@require_POST
@org_member(CONFIGURE)
def queue_archive(request: OrgRequest, queue_id: int) -> HttpResponse:
    queue = get_object_or_404(Queue.objects, pk=queue_id)
    archived = not queue.is_archived
    services.queue_archive(org=request.org, queue=queue, by=request.user, archived=archived)
    done = "Archived the queue" if archived else "Brought back the queue"
    messages.success(request, f"{done} {queue}.")
    return redirect("support_settings:queue_edit", request.org.slug, queue.pk)


@require_POST
@org_member(CONFIGURE)
def queue_rotate(request: OrgRequest, queue_id: int) -> HttpResponse:
    queue = get_object_or_404(Queue.objects, pk=queue_id)
    services.queue_rotate_token(org=request.org, queue=queue, by=request.user)
    messages.success(request, f"{queue} has a new address: the old one no longer works.")
    return redirect("support_settings:queue_edit", request.org.slug, queue.pk)


# --- SLA policies -----------------------------------------------------------------------------


@require_http_methods(["GET"])
@org_member(CONFIGURE)
def policy_list(request: OrgRequest) -> HttpResponse:
    policies = list(SlaPolicy.objects.select_related("calendar").prefetch_related("targets"))
    used = dict(Queue.objects.order_by().values_list("policy_id").annotate(n=Count("id")))
    for policy in policies:
        policy.queue_count = used.get(policy.pk, 0)  # type: ignore[attr-defined]
        policy.shown_targets = [  # type: ignore[attr-defined]
            (t.get_priority_display(), duration(t.first_response_minutes),
             duration(t.resolution_minutes))
            for t in sorted(policy.targets.all(), key=lambda t: _RANK[t.priority])
        ]  # fmt: skip
    return render(request, "support/settings/policies.html", {"policies": policies})


def _policy_form_page(request: OrgRequest, form: PolicyForm, policy: SlaPolicy | None) -> Any:
    context = {"form": form, "policy": policy, "has_calendars": BusinessCalendar.objects.exists(),
               "history": object_history(policy) if policy else []}  # fmt: skip
    return render(request, "support/settings/policy_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def policy_new(request: OrgRequest) -> HttpResponse:
    form = PolicyForm(_posted(request))
    if form.is_valid():
        try:
            policy = services.policy_save(org=request.org, by=request.user, **form.values())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Added the SLA policy {policy}.")
            return redirect("support_settings:policies", request.org.slug)
    return _policy_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def policy_edit(request: OrgRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy.objects, pk=policy_id)
    form = PolicyForm(_posted(request), initial=policy_initial(policy))
    if form.is_valid():
        try:
            services.policy_save(org=request.org, by=request.user, policy=policy, **form.values())
        except ValidationError as error:
            apply_errors(form, error)
            policy.refresh_from_db()
        else:
            messages.success(request, f"Saved the SLA policy {policy}.")
            return redirect("support_settings:policies", request.org.slug)
    return _policy_form_page(request, form, policy)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def policy_delete(request: OrgRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy.objects, pk=policy_id)
    error = ""
    if request.method == "POST":
        try:
            services.policy_delete(org=request.org, policy=policy, by=request.user)
        except ValidationError as refused:
            error = _error_text(refused)
        else:
            messages.success(request, f"Deleted the SLA policy {policy}.")
            return redirect("support_settings:policies", request.org.slug)
    queues, tickets = services.policy_users(policy)
    context = {"policy": policy, "queues": queues, "tickets": tickets, "error": error}
    return render(request, "support/settings/policy_delete.html", context)


# --- Business hours ---------------------------------------------------------------------------


@require_http_methods(["GET"])
@org_member(CONFIGURE)
def calendar_list(request: OrgRequest) -> HttpResponse:
    calendars = list(BusinessCalendar.objects.all())
    for calendar in calendars:
        calendar.shown_days = [  # type: ignore[attr-defined]
            ", ".join(f"{clock(a)}–{clock(b)}" for a, b in sorted(spans)) or "Closed"
            for spans in calendar.weekly
        ]
    return render(request, "support/settings/calendars.html", {"calendars": calendars})


def _calendar_form_page(request: OrgRequest, form: CalendarForm, calendar: Any) -> HttpResponse:
    context = {"form": form, "calendar": calendar,
               "several": several_spans(calendar) if calendar else [],
               "history": object_history(calendar) if calendar else []}  # fmt: skip
    return render(request, "support/settings/calendar_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def calendar_new(request: OrgRequest) -> HttpResponse:
    initial: dict[str, Any] = {f"open_{i}": i < 5 for i in range(7)}
    initial |= {f"start_{i}": "09:00" for i in range(5)} | {f"end_{i}": "17:00" for i in range(5)}
    form = CalendarForm(_posted(request), initial=initial)
    if form.is_valid():
        try:
            calendar = services.calendar_save(org=request.org, by=request.user, **form.values())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Added the business hours {calendar}.")
            return redirect("support_settings:calendars", request.org.slug)
    return _calendar_form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def calendar_edit(request: OrgRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar.objects, pk=calendar_id)
    form = CalendarForm(_posted(request), initial=calendar_initial(calendar))
    if form.is_valid():
        try:
            services.calendar_save(
                org=request.org, by=request.user, calendar=calendar, **form.values()
            )
        except ValidationError as error:
            apply_errors(form, error)
            calendar.refresh_from_db()
        else:
            messages.success(request, f"Saved the business hours {calendar}.")
            return redirect("support_settings:calendars", request.org.slug)
    return _calendar_form_page(request, form, calendar)


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def calendar_delete(request: OrgRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar.objects, pk=calendar_id)
    error = ""
    if request.method == "POST":
        try:
            services.calendar_delete(org=request.org, calendar=calendar, by=request.user)
        except ValidationError as refused:
            error = _error_text(refused)
        else:
            messages.success(request, f"Deleted the business hours {calendar}.")
            return redirect("support_settings:calendars", request.org.slug)
    used = SlaPolicy.objects.filter(calendar=calendar).count()
    context = {"calendar": calendar, "used": used, "error": error}
    return render(request, "support/settings/calendar_delete.html", context)


# --- Canned replies ---------------------------------------------------------------------------


@require_http_methods(["GET"])
@org_member("ticket.view")
def reply_list(request: OrgRequest) -> HttpResponse:
    replies = list(CannedReply.objects.select_related("created_by"))
    return render(request, "support/settings/replies.html", {"replies": replies})


@require_http_methods(["GET", "POST"])
@org_member(REPLY_EDIT)
def reply_new(request: OrgRequest) -> HttpResponse:
    form = CannedReplyForm(_posted(request))
    if form.is_valid():
        try:
            reply = services.canned_reply_save(
                org=request.org, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Added the canned reply {reply}.")
            return redirect("support_settings:replies", request.org.slug)
    return render(request, "support/settings/reply_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@org_member(REPLY_EDIT)
def reply_edit(request: OrgRequest, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(CannedReply.objects, pk=reply_id)
    form = CannedReplyForm(_posted(request), initial={"name": reply.name, "body": reply.body})
    if form.is_valid():
        try:
            services.canned_reply_save(
                org=request.org, by=request.user, reply=reply, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
            reply.refresh_from_db()
        else:
            messages.success(request, f"Saved the canned reply {reply}.")
            return redirect("support_settings:replies", request.org.slug)
    context = {"form": form, "reply": reply, "history": object_history(reply)}
    return render(request, "support/settings/reply_form.html", context)


@require_http_methods(["GET", "POST"])
@org_member(REPLY_EDIT)
def reply_delete(request: OrgRequest, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(CannedReply.objects, pk=reply_id)
    if request.method == "POST":
        services.canned_reply_delete(org=request.org, reply=reply, by=request.user)
        messages.success(request, f"Deleted the canned reply {reply}.")
        return redirect("support_settings:replies", request.org.slug)
    return render(request, "support/settings/reply_delete.html", {"reply": reply})


# --- Support ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@org_member(CONFIGURE)
def support_settings(request: OrgRequest) -> HttpResponse:
    row = SupportSettingsRow.objects.first()
    initial = {"csat_enabled": row.csat_enabled if row else True}
    form = SupportSettingsForm(_posted(request), initial=initial)
    if form.is_valid():
        services.support_settings_update(org=request.org, by=request.user, **form.cleaned_data)
        messages.success(request, "Saved.")
        return redirect("support_settings:support", request.org.slug)
    return render(request, "support/settings/support.html", {"form": form})
