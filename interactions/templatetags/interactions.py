"""The timeline section of a contact's or company's page, which contacts' templates include
without contacts knowing interactions: {% load interactions %}{% timeline_section contact %}."""

from typing import Any

from django import template

from contacts.models import Company, Contact
from interactions import selectors
from interactions.forms import blank_form
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
