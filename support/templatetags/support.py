"""Tickets as templates show them: {% load support %}."""

from datetime import datetime
from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.safestring import SafeString

from support.records import priority_badge, status_badge

register = template.Library()


@register.filter
def ticket_status(status: str) -> SafeString:
    return status_badge(status)


@register.filter
def ticket_priority(priority: str) -> SafeString | str:
    return priority_badge(priority)


@register.simple_tag
def sla_line(due: datetime | None, met_at: datetime | None, paused: bool) -> SafeString:
    """One SLA target: met (in time or late), due in…, overdue, paused or none."""
    if met_at is not None:
        late = due is not None and met_at > due
        tone, said = ("danger", "Missed") if late else ("success", "Met")
        at = escape(timezone.localtime(met_at).strftime("%-d %b %H:%M"))
        return SafeString(f'<span class="badge badge--{tone}">{said}</span> {at}')  # nosec B703
    if paused:
        return SafeString('<span class="badge badge--neutral">Paused</span>')
    if due is None:
        return SafeString('<span class="muted">No target</span>')
    at = escape(timezone.localtime(due).strftime("%-d %b %H:%M"))
    if due <= timezone.now():
        return SafeString(  # nosec B703  # the time formatted, escaped
            f'<span class="badge badge--danger">Overdue</span> <span class="is-overdue">{at}</span>'
        )
    soon = escape(str(naturaltime(due)))
    return SafeString(f'Due {soon} <span class="muted">({at})</span>')  # nosec B703  # escaped


@register.simple_tag
def ticket_due(due: datetime) -> SafeString | str:
    """A due time, red once it has passed."""
    from support.records import due_html

    return due_html(due)
