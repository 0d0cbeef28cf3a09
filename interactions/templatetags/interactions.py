"""The timeline section of a contact's or company's page, which contacts' templates include
without contacts knowing interactions: {% load interactions %}{% timeline_section contact %}."""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from contacts.models import Company, Contact
from interactions import selectors
from interactions.forms import SOCIAL_NETWORKS, blank_form
from interactions.models import Task
from interactions.task_views import tasks_card_context
from interactions.views import timeline_context

register = template.Library()

# Lucide names in static/vendor/lucide/sprite.svg; the channel's name is always beside it.
ICONS = {
    "email": "mail", "call": "phone", "meeting": "calendar", "chat": "message-circle",
    "sms": "message-square", "social": "at-sign", "web_form": "file-text", "letter": "send",
    "note": "sticky-note",
}  # fmt: skip


@register.inclusion_tag("interactions/_section.html", takes_context=True)
def timeline_section(context: template.Context, record: Contact | Company) -> dict[str, Any]:
    request = context["request"]
    found = timeline_context(request, record)
    found.update(
        org=context["org"], perms_for=context.get("perms_for"), request=request,
        form=blank_form(selectors.last_channel(request.user)) if found["can_log"] else None,
    )  # fmt: skip
    return found


@register.filter
def channel_icon(channel: str) -> str:
    return ICONS.get(channel, "history")


@register.filter
def due(value: datetime | None) -> str:
    """{{ task.due_at|due }}: "Today, 14:00", "Tomorrow, 09:00", "Yesterday, 16:30", "Mon,
    10:00" within a week either way, else "14 Dec" (or "14 Dec 2027"), in the active zone."""
    if value is None:
        return ""
    local, today = timezone.localtime(value), timezone.localdate()
    days = (local.date() - today).days
    clock = f"{local:%H:%M}"
    named = {0: "Today", 1: "Tomorrow", -1: "Yesterday"}
    if days in named:
        return f"{named[days]}, {clock}"
    if -6 <= days <= 6:
        return f"{local:%a} {local.day} {local:%b}, {clock}"
    return f"{local.day} {local:%b}" + ("" if local.year == today.year else f" {local.year}")


@register.filter
def overdue(task: Task) -> bool:
    """Whether an open task's due time has passed."""
    return (
        task.status == Task.Status.OPEN and task.due_at is not None and task.due_at < timezone.now()
    )


@register.inclusion_tag("interactions/_tasks_card.html", takes_context=True)
def tasks_card(context: template.Context, record: Contact | Company) -> dict[str, Any]:
    """A contact's or company's open tasks, with a quick way to add one."""
    return tasks_card_context(context["request"], record)


@register.filter
def network_label(key: str) -> str:
    """A social network's name: "linkedin" → "LinkedIn"."""
    return dict(SOCIAL_NETWORKS).get(key, key)
