"""The Tickets card of a contact's and a company's page (crm.contributions.record_cards)."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from contacts.models import Contact
from crm.permissions import can
from support import selectors


def tickets_card(request: Any, record: Any) -> dict[str, Any] | None:
    """A record's unsolved and latest solved tickets; on a contact's page, a way to open one
    for them. None for a member who may not see tickets."""
    membership = request.membership
    if not can(membership, "ticket.view"):
        return None
    slug = request.org.slug
    is_contact = isinstance(record, Contact)
    key = "requester" if is_contact else "company"
    add_url = ""
    if is_contact and can(membership, "ticket.edit") and record.email:
        prefill = {"requester": record.email, "requester_name": record.name}
        add_url = f"{reverse('tickets:new', args=[slug])}?{urlencode(prefill)}"
    return {
        **selectors.record_tickets(membership, record),
        "add_url": add_url,
        "list_url": f"{reverse('ticket:list', args=[slug])}?{key}={record.pk}",
    }
