"""Reads of tickets: the ones a member may see, the inboxes, and what a ticket's page shows
beside its conversation."""

from datetime import timedelta
from typing import Any, cast

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from contacts.models import Company, Contact
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


# What a contact's or a company's timeline shows of their tickets: opened, solved or
# reopened, rated, merged and breached; not the agents' assignments, priorities and queues.
_ON_RECORDS = (
    TicketEvent.Kind.CREATED, TicketEvent.Kind.STATUS, TicketEvent.Kind.RATED,
    TicketEvent.Kind.MERGED, TicketEvent.Kind.BREACHED,
)  # fmt: skip


def ticket_events(record: Any, host: str, after: After, limit: int) -> list[TicketEvent]:
    """Entries of a timeline, the newest first, at most `limit`: a ticket's events (the
    created event says no more than the ticket's own header), or the events of a contact's
    tickets (as their requester) or a company's that matter to the customer, each with
    `on_record` set and its ticket's number and subject."""
    events = TicketEvent.objects.select_related("by")
    if host == "ticket":
        events = events.filter(ticket=record).exclude(kind=TicketEvent.Kind.CREATED)
    else:
        field = "requester" if host == "contact" else "company"
        mine = Ticket.objects.alive().filter(**{field: record}).order_by().values("pk")
        events = events.filter(ticket__in=mine, kind__in=_ON_RECORDS).select_related("ticket")
        events = events.only(
            "kind", "at", "old", "new", "by__first_name", "by__last_name", "by__email",
            "ticket__number", "ticket__subject",
        )  # fmt: skip
    found = list(after(events, "at").order_by("-at", "-id")[:limit])
    for event in found:
        event.on_record = host != "ticket"
    return found


def record_tickets(
    membership: Membership, record: Contact | Company, *, limit: int = 5
) -> dict[str, list[Ticket]]:
    """A contact's tickets (as their requester) or a company's that the member may see: the
    unsolved ones, soonest due first, then the latest solved; at most `limit` of each."""
    field = "company" if isinstance(record, Company) else "requester"
    found = Ticket.objects.alive().visible_to(membership).filter(**{field: record})
    found = found.only("number", "subject", "status", "priority", "resolution_due", "created_at")
    solved = Case(When(status__in=UNSOLVED, then=Value(0)), default=Value(1))
    due = Case(When(status__in=UNSOLVED, then=F("resolution_due")))
    order = (solved, due.asc(nulls_last=True), "-created_at", "-id")
    tickets = list(found.order_by(*order)[: limit * 2])
    return {
        "open": [t for t in tickets if t.status in UNSOLVED][:limit],
        "solved": [t for t in tickets if t.status not in UNSOLVED][:limit],
    }


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
