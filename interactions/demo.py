"""A year of demo interactions for `seed_demo`: calls, emails, meetings and notes with the
demo contacts, so that timelines, the Interactions list and "last contacted" are alive."""

import random
from datetime import timedelta
from typing import Any

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from contacts.models import Contact
from crm.models import Organization, User
from interactions.models import Interaction

Channel, Direction, Outcome = Interaction.Channel, Interaction.Direction, Interaction.Outcome

# What each channel's demo entries say: (direction, subject, body).
SAYINGS: dict[str, list[tuple[str, str, str]]] = {
    Channel.EMAIL: [
        (Direction.OUTBOUND, "Proposal for next quarter", "Attached the proposal we discussed."),
        (Direction.INBOUND, "Re: Proposal for next quarter", "Thanks, we will review it Friday."),
        (Direction.OUTBOUND, "Following up on our call", "As promised, the pricing sheet."),
        (Direction.INBOUND, "Question about invoicing", "Can we move to annual billing?"),
        (Direction.OUTBOUND, "Renewal reminder", "Your plan renews next month."),
    ],
    Channel.CALL: [
        (Direction.OUTBOUND, "Discovery call", "Walked through their current process."),
        (Direction.OUTBOUND, "Pricing questions", "They want a volume discount."),
        (Direction.INBOUND, "Support escalation", "Asked for a contact in engineering."),
    ],
    Channel.MEETING: [
        (Direction.OUTBOUND, "Quarterly review", "Reviewed usage and the roadmap."),
        (Direction.OUTBOUND, "Product demo", "Demo for the operations team."),
    ],
    Channel.NOTE: [
        (Direction.INTERNAL, "Decision maker", "Budget sits with the CFO, not our contact."),
        (Direction.INTERNAL, "Competitor in play", "They are also talking to a competitor."),
    ],
    Channel.CHAT: [(Direction.INBOUND, "Website chat", "Asked whether we integrate with Slack.")],
    Channel.SMS: [(Direction.OUTBOUND, "Running late", "Ten minutes late for our meeting.")],
    Channel.LETTER: [(Direction.OUTBOUND, "Signed contract", "Countersigned copy posted.")],
}
# How often each channel comes up, as people really log them.
WEIGHTS = {Channel.EMAIL: 10, Channel.CALL: 6, Channel.MEETING: 3, Channel.NOTE: 3,
           Channel.CHAT: 1, Channel.SMS: 1, Channel.LETTER: 1}  # fmt: skip
OUTCOMES = [Outcome.CONNECTED, Outcome.CONNECTED, Outcome.NO_ANSWER, Outcome.VOICEMAIL]


def seed(*, org: Organization, users: dict[str, User], **kwargs: Any) -> None:
    """About six interactions per demo contact over the past year, more of them lately."""
    if Interaction.objects.exists():
        return  # seeded before: seed_demo runs again on every `make run`
    rng = random.Random(f"{org.slug}-interactions")  # noqa: S311  # nosec B311  # repeatable demo data
    authors = [users["rep"], users["rep"], users["manager"], users["admin"]]
    now = timezone.now()
    channels, weights = list(WEIGHTS), list(WEIGHTS.values())
    made = []
    found = Contact.objects.filter(deleted_at__isnull=True).values_list("pk", "company_id")
    for contact_id, company_id in found:
        for _ in range(rng.randint(2, 10)):
            channel = rng.choices(channels, weights)[0]
            direction, subject, body = rng.choice(SAYINGS[channel])
            # Recent weeks are busier than last spring: the square skews towards today.
            ago = timedelta(days=365 * rng.random() ** 2, minutes=rng.randint(0, 600))
            made.append(Interaction(
                org=org, channel=channel, direction=direction, subject=subject, body=body,
                occurred_at=now - ago, author=rng.choice(authors), contact_id=contact_id,
                company_id=company_id,
                outcome=rng.choice(OUTCOMES) if channel == Channel.CALL else "",
                duration=rng.choice([300, 900, 1800, 3600]) if channel in (
                    Channel.CALL, Channel.MEETING) else None,
            ))  # fmt: skip
    Interaction.objects.bulk_create(made, batch_size=500)
    # One UPDATE for every contact's "last contacted", as the services would have kept it.
    latest = (
        Interaction.objects.filter(contact=OuterRef("pk"), deleted_at__isnull=True)
        .order_by().values("contact").annotate(at=Max("occurred_at")).values("at")
    )  # fmt: skip
    Contact.objects.update(last_interaction_at=Subquery(latest))
