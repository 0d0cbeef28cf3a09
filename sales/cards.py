"""The Deals card of a contact's and a company's page (crm.contributions.record_cards)."""

from typing import Any

from django.urls import reverse

from contacts.models import Contact
from crm.permissions import can
from sales import selectors


def deals_card(request: Any, record: Any) -> dict[str, Any] | None:
    """A record's open and latest closed deals, with a way to add one; None for a member
    who may not see deals."""
    membership = request.membership
    if not can(membership, "deal.view"):
        return None
    key = "contact" if isinstance(record, Contact) else "company"
    slug = request.org.slug
    return {
        **selectors.record_deals(membership, record),
        "sees_value": can(membership, "deal.view_value"),
        "may_add": can(membership, "deal.edit"),
        "add_url": f"{reverse('deals:new', args=[slug])}?{key}={record.pk}",
        "list_url": f"{reverse('deal:list', args=[slug])}?{key}={record.pk}",
    }
