"""My tickets: the home page's panel of the signed-in agent's unsolved tickets, the soonest
due first, with whether they take new tickets (crm.contributions.register_home_panel)."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.urls import reverse

from crm.requests import OrgRequest
from support import selectors, services
from support.models import AgentStatus, Ticket

MOST = 8  # the inbox has the rest


@dataclass
class MyTickets:
    tickets: list[Ticket] = field(default_factory=list)
    available: bool = True
    inbox_url: str = ""
    availability_url: str = ""


def my_tickets(request: OrgRequest) -> MyTickets | None:
    """The panel's data, in two queries; None for a member who does not work tickets."""
    membership = request.membership
    if not services.may_work(membership):
        return None
    slug = request.org.slug
    mine = selectors.inbox(Ticket.objects.alive(), "mine", membership.user_id)
    found: Any = mine.only(
        "number", "subject", "status", "priority", "first_response_due", "first_response_at",
        "resolution_due",
    ).order_by(F("resolution_due").asc(nulls_last=True), "id")  # fmt: skip
    status = AgentStatus.objects.filter(user_id=membership.user_id).values_list(
        "is_available", flat=True
    )
    return MyTickets(
        tickets=list(found[:MOST]),
        available=next(iter(status), True),
        inbox_url=f"{reverse('ticket:list', args=[slug])}?inbox=mine&sort=due",
        availability_url=reverse("tickets:availability", args=[slug]),
    )
