"""Canned replies: a reply agents insert and adapt, with placeholders filled in for the
ticket at hand. The placeholders are a fixed list replaced as plain text: a reply is never
a template (no tags, no filters, no attribute lookups a user could steer)."""

import re
from collections.abc import Callable
from typing import Any

from crm.cache import org_forget, org_rows
from support.models import CannedReply, Ticket

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")

# What each placeholder becomes, from the ticket and the agent writing.
_VALUES: dict[tuple[str, str], Callable[[Ticket, Any], Any]] = {
    ("contact", "first_name"): lambda t, agent: t.requester.first_name if t.requester else "",
    ("contact", "last_name"): lambda t, agent: t.requester.last_name if t.requester else "",
    ("contact", "name"): lambda t, agent: t.requester.name if t.requester else "",
    ("contact", "email"): lambda t, agent: t.requester.email if t.requester else "",
    ("ticket", "number"): lambda t, agent: t.number,
    ("ticket", "subject"): lambda t, agent: t.subject,
    ("agent", "name"): lambda t, agent: agent.display_name,
    ("agent", "first_name"): lambda t, agent: agent.first_name or agent.display_name,
}
PLACEHOLDERS = [f"{{{{ {kind}.{name} }}}}" for kind, name in _VALUES]


def fill(body: str, *, ticket: Ticket, agent: Any) -> str:
    """The reply's text with its placeholders filled in; an unknown one stays as written,
    for the agent to see and mend."""

    def value(match: re.Match[str]) -> str:
        found = _VALUES.get((match[1], match[2]))
        return str(found(ticket, agent) or "") if found else match[0]

    return PLACEHOLDER.sub(value, body)


# The replies' names, on every ticket page an agent opens, changed rarely: kept in the cache
# (crm.cache.org_rows) until the settings' writes forget them.
CHOICES = "support-canned"


def canned_choices() -> list[dict[str, Any]]:
    """The organisation's canned replies as {"pk", "name"}, by name."""
    return org_rows(
        CHOICES, lambda: list(CannedReply.objects.order_by("name", "id").values("pk", "name"))
    )


def forget_choices() -> None:
    org_forget(CHOICES)
