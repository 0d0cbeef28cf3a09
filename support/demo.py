"""Support's demo data for `seed_demo`: business hours, an SLA policy, canned replies, two
queues and four months of tickets in every status, each with the customer's message, the
agent's replies and notes, so that the inboxes and the ticket pages tell a story on first
login."""

import random
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.utils import timezone

from contacts.models import Contact
from crm.models import Organization, User
from interactions.models import Interaction
from interactions.services import interaction_log
from support import services
from support.models import (
    BusinessCalendar,
    CannedReply,
    Priority,
    Queue,
    QueueAgent,
    SlaPolicy,
    SlaTarget,
    Status,
    Ticket,
)

TICKETS = 90
# priority: (first response, resolution), in business minutes
TARGETS = {
    Priority.URGENT: (30, 240), Priority.HIGH: (60, 480),
    Priority.NORMAL: (240, 1440), Priority.LOW: (480, 2400),
}  # fmt: skip
SUBJECTS = {
    "Billing": [
        "Charged twice this month", "Invoice shows the wrong VAT number",
        "Refund for the unused seats", "Card declined on renewal",
        "Need a copy of last year's invoices", "Upgrade mid-cycle pricing",
    ],
    "Technical": [
        "Export to CSV times out", "Cannot log in after the password reset",
        "Webhook stopped firing", "Import skips rows with accents", "Two-factor codes rejected",
        "Dashboard loads slowly",
    ],
}  # fmt: skip
REPLIES = [
    "Thanks for the details: I can see it on our side and I'm on it.",
    "Could you send a screenshot of what you see, and the time it happened?",
    "That's fixed now: could you try again and tell me whether it works?",
]
CANNED = [
    ("Looking into it", "Hi {{ contact.first_name }},\n\nThanks for writing in about "
     "ticket #{{ ticket.number }}. I'm looking into it now and will be back to you today."
     "\n\n{{ agent.name }}"),
    ("Solved, anything else?", "Hi {{ contact.first_name }},\n\nThat should be sorted "
     "now. If anything still looks wrong, just reply to this email and the ticket opens "
     "again.\n\n{{ agent.name }}"),
]  # fmt: skip
# The first tickets' states, so that every inbox has something whatever day it is seeded.
STARTERS = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]
NOTES = ["Checked the logs: same error as last week.", "Asked engineering to look."]


def seed(sender: Any, *, org: Organization, users: dict[str, User], **kwargs: Any) -> None:
    """Add the demo organisation's support set-up and tickets (once)."""
    if Queue.objects.exists():
        return  # seeded before: seed_demo runs again on every `make run`
    found = Contact.objects.filter(deleted_at__isnull=True).exclude(email="")
    contacts = cast(list[Contact], list(found.order_by("pk")[:120]))
    if not contacts:
        return
    rng = random.Random(f"{org.slug}-tickets")  # noqa: S311  # nosec B311  # repeatable demo data
    agents = [u for u in (users.get("agent"), users.get("manager")) if u is not None]
    queues = _setup(org, users, agents)
    now = timezone.now()
    zone = ZoneInfo(org.time_zone)
    for n in range(TICKETS):
        # The first few, whatever the day: one nobody has taken yet (in the queue that
        # assigns by hand), then one of each state being worked.
        fate = STARTERS[n] if n < len(STARTERS) else None
        queue = queues[0] if fate == Status.NEW else rng.choice(queues)
        created = now - timedelta(days=rng.uniform(0, 120) if n > 12 else rng.uniform(0, 2))
        created = _office_hours(rng, created, now, zone)
        if fate is not None:  # recent enough to be answered, not yet due to be solved
            created = min(created, now - timedelta(hours=3))
        _ticket(org, rng, queue, rng.choice(contacts), rng.choice(agents), created, now, fate)


def _office_hours(rng: random.Random, at: datetime, now: datetime, zone: ZoneInfo) -> datetime:
    """`at` moved into the working hours of a weekday at or before it (customers write to
    support while at work), and never after `now`."""
    local = at.astimezone(zone)
    if not 9 <= local.hour < 17:
        local = local.replace(hour=rng.randint(9, 16), minute=rng.randint(0, 59))
    while local.weekday() >= 5 or local > now:
        local -= timedelta(days=1)
    return local


def _setup(org: Organization, users: dict[str, User], agents: list[User]) -> list[Queue]:
    calendar = BusinessCalendar.objects.create(
        org=org, name="Office hours", zone=org.time_zone, weekly=[[[540, 1080]]] * 5 + [[], []]
    )
    policy = SlaPolicy.objects.create(
        org=org, name="Standard", calendar=calendar, is_default=True, notify_lead=True
    )
    for priority, (first, resolution) in TARGETS.items():
        SlaTarget.objects.create(
            org=org, policy=policy, priority=priority, first_response_minutes=first,
            resolution_minutes=resolution,
        )  # fmt: skip
    for name, body in CANNED:
        CannedReply.objects.create(org=org, name=name, body=body, created_by=users.get("agent"))
    lead = users.get("manager")
    queues = [
        Queue.objects.create(org=org, name="Billing", lead=lead, policy=policy, position=0,
                             email="billing@example.com", assignment="manual"),
        Queue.objects.create(org=org, name="Technical", lead=lead, policy=policy, position=1,
                             email="help@example.com", assignment="round_robin"),
    ]  # fmt: skip
    for queue in queues:
        QueueAgent.objects.bulk_create(
            [QueueAgent(org=org, queue=queue, user=agent) for agent in agents]
        )
    return queues


def _ticket(org: Organization, rng: random.Random, queue: Queue, contact: Contact,
            agent: User, created: Any, now: Any, fate: str | None = None) -> Ticket:  # fmt: skip
    subject = rng.choice(SUBJECTS[queue.name])
    priority = rng.choices(list(TARGETS), weights=(1, 3, 8, 3))[0]
    age = now - created
    ticket = services.ticket_create(
        org=org, by=None, subject=subject, queue=queue, requester=contact, priority=priority,
        assignee=None if fate == Status.NEW else (
            agent if fate or rng.random() < 0.8 or age > timedelta(days=3) else None
        ),
        at=created,
        description=f"Hello,\n\n{subject}. Can you help?\n\n{contact.first_name}",
    )  # fmt: skip
    if ticket.assignee is None or age < timedelta(hours=2):
        return ticket  # still waiting for its first answer
    answered = created + timedelta(minutes=rng.randint(10, 600))
    if answered >= now:
        answered = created + (now - created) / 2
        if fate is None:
            return ticket
    _log(org, ticket, agent, rng.choice(REPLIES), answered, public=True)
    services.first_response(org, ticket, answered)
    if rng.random() < 0.3:
        _log(org, ticket, agent, rng.choice(NOTES), answered + timedelta(minutes=5), public=False)
    # Older tickets were mostly worked to the end; the last fortnight's are still going.
    fate = (
        fate
        or rng.choices(
            [Status.PENDING, Status.OPEN, Status.ON_HOLD, Status.SOLVED, Status.CLOSED],
            weights=(0, 0, 0, 2, 5) if age > timedelta(days=14) else (4, 3, 1, 2, 0),
        )[0]
    )
    at = min(answered + timedelta(hours=rng.randint(1, 72)), now - timedelta(minutes=5))
    if fate in (Status.SOLVED, Status.CLOSED):
        services.ticket_update(org=org, ticket=ticket, by=agent, status=Status.SOLVED, at=at)
        if rng.random() < 0.7:
            score = rng.choices([5, 4, 3, 2, 1], weights=(6, 3, 1, 1, 1))[0]
            Ticket.objects.filter(pk=ticket.pk).update(csat_score=score, csat_at=at)
        if fate == Status.CLOSED:
            ticket.refresh_from_db()
            services.ticket_update(org=org, ticket=ticket, by=agent, status=Status.CLOSED,
                                   at=min(at + timedelta(days=4), now))  # fmt: skip
    elif fate != Status.OPEN:
        services.ticket_update(org=org, ticket=ticket, by=agent, status=fate, at=at)
    return ticket


def _log(org: Organization, ticket: Ticket, agent: User, body: str, at: Any, *,
         public: bool) -> None:  # fmt: skip
    interaction_log(
        org=org, by=agent, channel=Interaction.Channel.EMAIL if public else "note",
        direction="outbound" if public else "internal", contact=ticket.requester,
        company=ticket.company, subject=services.reply_subject(ticket) if public else "",
        body=body, ticket=ticket, occurred_at=at,
        delivery=Interaction.Delivery.SENT if public else "",
    )  # fmt: skip
