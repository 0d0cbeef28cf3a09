"""A year of demo interactions for `seed_demo`: calls, emails, meetings and notes with the
demo contacts, so that timelines, the Interactions list and "last contacted" are alive; and
tasks for each demo member, some late, some due today, some done, so that My day is too."""

import random
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from contacts.models import Company, Contact
from crm.models import Organization, User
from interactions.models import Interaction, Task, WebForm
from interactions.services import contacts_next_step
from interactions.webforms import webform_create

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
    """Interactions, then tasks, each once: seed_demo runs again on every `make run`."""
    if not Interaction.objects.exists():
        _seed_interactions(org, users)
    if not Task.objects.exists():
        _seed_tasks(org, users)
    if not WebForm.objects.exists():  # an example to embed, given to the sales rep
        webform_create(
            org=org, by=None, name="Website: talk to sales", owner=users.get("rep"),
            fields=[{"name": name, "required": name != "company"}
                    for name in ("first_name", "last_name", "email", "company")],
            consent_label="Email me news about the product (you can stop at any time)",
            thank_you="Thanks! Someone from our sales team will be in touch within a day.",
        )  # fmt: skip


def _seed_interactions(org: Organization, users: dict[str, User]) -> None:
    """About six interactions per demo contact over the past year, more of them lately."""
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
    by_company = (
        Interaction.objects.filter(company=OuterRef("pk"), deleted_at__isnull=True)
        .order_by().values("company").annotate(at=Max("occurred_at")).values("at")
    )  # fmt: skip
    Company.objects.update(last_interaction_at=Subquery(by_company))


# What the demo's tasks say; each member gets some late, some today, some this week.
TASK_TITLES = [
    "Call back about the volume discount", "Send the revised proposal", "Book the quarterly review",
    "Chase the signed contract", "Share the onboarding checklist", "Ask for a referral",
    "Confirm the renewal date", "Introduce our solutions engineer", "Send meeting notes",
    "Check in after the trial", "Prepare the pricing sheet", "Follow up on the invoice question",
]  # fmt: skip
# (days from today, hour, priority) of each member's tasks: two late, two today, four ahead.
TASK_DAYS = [(-3, 10, "high"), (-1, 15, "normal"), (0, 11, "high"), (0, 16, "normal"),
             (1, 9, "normal"), (2, 14, "low"), (4, 10, "normal"), (6, 9, "low")]  # fmt: skip


def _seed_tasks(org: Organization, users: dict[str, User]) -> None:
    """Open tasks for the demo's sales and support members, linked to their contacts, and a
    few done last month (on the contacts' timelines); each contact's next step."""
    rng = random.Random(f"{org.slug}-tasks")  # noqa: S311  # nosec B311  # repeatable demo data
    zone = ZoneInfo(org.time_zone)
    today = timezone.now().astimezone(zone).replace(minute=0, second=0, microsecond=0)
    contacts = list(
        Contact.objects.filter(deleted_at__isnull=True).values_list("pk", "company_id")[:200]
    )
    if not contacts:
        return
    made = []
    for role in ("rep", "manager", "admin", "agent", "owner"):
        user = users.get(role)
        if user is None:
            continue
        for days, hour, priority in TASK_DAYS:
            contact_id, company_id = rng.choice(contacts)
            due = today.replace(hour=hour) + timedelta(days=days)
            if days == 0:  # later today, whenever `make run` starts (late: at 23:30)
                late = today.replace(hour=23, minute=30)
                due = min(today + timedelta(hours=1 if hour < 12 else 3), late)
            made.append(Task(
                org=org, title=rng.choice(TASK_TITLES), due_at=due, priority=priority,
                assignee=user, created_by=user, contact_id=contact_id, company_id=company_id,
                reminder_at=due - timedelta(minutes=30) if days >= 0 else None,
            ))  # fmt: skip
        for _ in range(3):
            contact_id, company_id = rng.choice(contacts)
            done_at = timezone.now() - timedelta(days=rng.randint(3, 30), hours=rng.randint(0, 8))
            made.append(Task(
                org=org, title=rng.choice(TASK_TITLES), due_at=done_at, assignee=user,
                created_by=user, contact_id=contact_id, company_id=company_id,
                status=Task.Status.DONE, completed_at=done_at,
            ))  # fmt: skip
    Task.objects.bulk_create(made)
    # Reminders already past were sent: the demo does not mail its members on start.
    Task.objects.filter(reminder_at__lte=timezone.now()).update(reminded_at=timezone.now())
    contacts_next_step(contact_ids=[task.contact_id for task in made if task.contact_id])
