"""Reads of tickets: the ones a member may see, the inboxes, and what a ticket's page shows
beside its conversation."""

from datetime import timedelta
from typing import cast

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from crm.models import Membership
from crm.selectors import person_fields_unshown
from interactions.models import Interaction
from interactions.timeline import After
from support.models import UNSOLVED, Status, Ticket, TicketEvent

# "Breaching soon": an unsolved ticket due within this long, or overdue.
SOON = timedelta(hours=4)

INBOXES = [
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("open", "All open"),
    ("breaching", "Breaching soon"),
    ("pending", "Pending"),
]


def ticket_list(membership: Membership) -> QuerySet[Ticket]:
    """The tickets this member may see (record visibility, on the assignee), with what a
    row of the list shows."""
    found = Ticket.objects.alive().visible_to(membership)
    found = found.select_related("queue", "assignee", "requester", "company").defer(
        *person_fields_unshown("assignee"), "search_text", "sla_pauses",
        "csat_comment", "requester__search_vector", "requester__search_text",
        "company__search_text",
    )  # fmt: skip
    return cast(QuerySet[Ticket], found)


def inbox(found: QuerySet[Ticket], name: str, user_id: int) -> QuerySet[Ticket]:
    """One of the agent's inboxes among `found`."""
    unsolved = Q(status__in=UNSOLVED)
    match name:
        case "mine":
            return found.filter(unsolved, assignee_id=user_id)
        case "unassigned":
            return found.filter(unsolved, assignee__isnull=True)
        case "open":
            return found.filter(unsolved)
        case "breaching":
            soon = timezone.now() + SOON
            due = Q(first_response_due__lte=soon, first_response_at__isnull=True) | Q(
                resolution_due__lte=soon
            )
            return found.filter(due, status__in=(Status.NEW, Status.OPEN, Status.ON_HOLD))
        case "pending":
            return found.filter(status=Status.PENDING)
    return found


def ticket_events(ticket: Ticket, host: str, after: After, limit: int) -> list[TicketEvent]:
    """A ticket's events for its timeline (the created event says no more than the ticket's
    own header): the newest first, at most `limit`."""
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind=TicketEvent.Kind.CREATED)
    found = after(events.select_related("by"), "at")
    return list(found.order_by("-at", "-id")[:limit])


def requester_tickets(ticket: Ticket, membership: Membership, limit: int = 5) -> list[Ticket]:
    """The requester's other tickets the member may see, the latest first."""
    if ticket.requester_id is None:
        return []
    found = Ticket.objects.alive().visible_to(membership).filter(requester_id=ticket.requester_id)
    return list(
        found.exclude(pk=ticket.pk).only("number", "subject", "status", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )  # fmt: skip


def requester_interactions(ticket: Ticket, limit: int = 5) -> list[Interaction]:
    """The requester's latest interactions outside this ticket."""
    if ticket.requester_id is None:
        return []
    found = Interaction.objects.alive().filter(contact_id=ticket.requester_id)
    found = found.exclude(ticket_id=ticket.pk).only("channel", "direction", "subject",
                                                   "occurred_at", "contact_id")  # fmt: skip
    return list(found.order_by("-occurred_at", "-id")[:limit])


def next_ticket(ticket: Ticket, membership: Membership) -> Ticket | None:
    """The next ticket to work after this one: the member's own, else unassigned, unsolved,
    the soonest due first."""
    visible = Ticket.objects.alive().visible_to(membership).exclude(pk=ticket.pk)
    for name in ("mine", "unassigned"):
        found = inbox(visible, name, membership.user_id)
        nxt = found.order_by(F("resolution_due").asc(nulls_last=True), "id").only("number").first()
        if nxt is not None:
            return nxt
    return None
