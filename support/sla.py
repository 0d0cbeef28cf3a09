"""The SLA job: warnings as a ticket nears its targets, and escalation when it misses one.

Each ticket keeps `sla_check_at`, the earliest of its thresholds not yet recorded (a
first response's or a resolution's warning, at the policy's share of the target, and its
breach). Beat runs `sla_run` every minute in each organisation: it claims the tickets whose
check has come (FOR UPDATE SKIP LOCKED, so two workers share them without doubles) and, for
each threshold passed, writes the ticket's event, the notifications and the escalation
together, then schedules the next check.

A threshold happens once: its event is unique by ticket and key, and the notifications
(unique by key) and the escalation are written only by the atomic block that wrote that
event. A worker that dies mid-run rolls back with it what it wrote; the task, acknowledged
late, runs again and finds the same thresholds unrecorded.
"""

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.models import Membership, Organization, Role
from interactions.models import Notification
from support import services
from support.models import PRIORITY_ORDER, Ticket, TicketEvent

logger = logging.getLogger(__name__)

# Tickets claimed per run: their row locks last until the run commits.
BATCH = 100
METRICS = {"first_response": "first response", "resolution": "resolution"}


@transaction.atomic
def sla_run(*, org: Organization, now: datetime | None = None, batch: int = BATCH) -> int:
    """Record each SLA threshold passed by now on the tickets whose check has come; how many.
    Safe to run at once in several workers and to run again."""
    now = now or timezone.now()
    due = (
        Ticket.objects.unsolved().filter(sla_check_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("policy__calendar", "queue")
        .order_by("sla_check_at", "id")[:batch]
    )  # fmt: skip
    recorded = 0
    for ticket in due:
        try:
            with transaction.atomic():  # one ticket's thresholds stand or fall together
                recorded += _ticket_check(org, ticket, now)
        except ValidationError:  # an escalation refused: the next run tries again
            logger.exception("SLA check of ticket #%s failed", ticket.number)
    return recorded


def _ticket_check(org: Organization, ticket: Ticket, now: datetime) -> int:
    """Cross the ticket's passed thresholds, earliest first, then schedule its next check.
    An escalation can bring a threshold forward (a higher priority's shorter target), so the
    thresholds are read again after each; every key crosses once, so this ends."""
    crossed = 0
    while (passed := _next_passed(ticket, now)) is not None:
        _cross(org, ticket, *passed)
        crossed += 1
    services.sla_refresh(ticket)
    # Bookkeeping, not an edit: the ticket's version (updated_at) stays as agents opened it.
    ticket.save(update_fields=["first_response_due", "resolution_due", "sla_check_at"])
    return crossed


def _next_passed(ticket: Ticket, now: datetime) -> tuple[str, datetime, datetime] | None:
    """The earliest threshold passed by now and not recorded: its key, when it came, and the
    target's due time. None while the clock stands still."""
    if ticket.status in services.PAUSED:
        return None
    thresholds = services.sla_thresholds(ticket)
    seen = set(
        TicketEvent.objects.filter(ticket_id=ticket.pk).exclude(key="")
        .values_list("key", flat=True)
    )  # fmt: skip
    passed = sorted(
        (at, key.endswith(":breach"), key) for key, at in thresholds.items()
        if at is not None and at <= now and key not in seen
    )  # fmt: skip
    if not passed:
        return None
    at, _, key = passed[0]
    due = thresholds[f"{key.partition(':')[0]}:breach"]
    assert due is not None  # a target's warning comes with its due time
    return key, at, due


def _cross(org: Organization, ticket: Ticket, key: str, at: datetime, due: datetime) -> None:
    """Record one threshold; only the block that records it notifies and escalates."""
    metric = key.partition(":")[0]
    breach = key.endswith(":breach")
    when = f"{timezone.localtime(due, ZoneInfo(org.time_zone)):%-d %b, %H:%M}"
    _, made = TicketEvent.objects.get_or_create(
        ticket=ticket, key=key,
        kind=TicketEvent.Kind.BREACHED if breach else TicketEvent.Kind.NEAR_BREACH,
        defaults={"org_id": ticket.org_id, "at": at,
                  "new": f"{METRICS[metric].capitalize()} due {when}"},
    )  # fmt: skip
    if not made:
        return
    verb = "missed" if breach else "nears"
    title = f"Ticket #{ticket.number} {verb} its {METRICS[metric]} target ({when}): "
    Notification.objects.bulk_create(
        [
            Notification(
                org=org, user_id=user_id, key=f"sla:{ticket.pk}:{key}:{user_id}",
                kind=Notification.Kind.SLA_BREACH if breach else Notification.Kind.SLA_WARNING,
                title=f"{title}{ticket.subject}"[:300],
                url=reverse("tickets:detail", args=[org.slug, ticket.number]),
            )
            for user_id in _recipients(ticket, breach)
        ],
        ignore_conflicts=True,
    )  # fmt: skip
    if breach:
        _escalate(org, ticket)


def _recipients(ticket: Ticket, breach: bool) -> list[int]:
    """Who hears of it: the assignee; on a breach, also the queue's lead and the managers as
    the policy says. Only members of the organisation, each once."""
    policy = ticket.policy
    assert policy is not None  # a threshold comes only from a policy
    wanted = [ticket.assignee_id]
    if breach and policy.notify_lead:
        wanted.append(ticket.queue.lead_id)
    if breach and policy.notify_managers:
        managers = Membership.objects.filter(role=Role.MANAGER).order_by("user_id")
        wanted += managers.values_list("user_id", flat=True)
    found = set(
        Membership.objects.filter(user_id__in=[pk for pk in wanted if pk is not None])
        .values_list("user_id", flat=True)
    )  # fmt: skip
    return [pk for pk in dict.fromkeys(wanted) if pk in found]


def _escalate(org: Organization, ticket: Ticket) -> None:
    """What the policy does to a ticket that missed a target: a priority one step up (up to
    urgent), and back to its queue without an assignee. Through ticket_update, so each shows
    on the timeline and in the audit log, done by no one."""
    policy = ticket.policy
    assert policy is not None
    changes: dict[str, Any] = {}
    order = [str(priority) for priority in PRIORITY_ORDER]
    step = order.index(ticket.priority)
    if policy.raise_priority and step + 1 < len(order):
        changes["priority"] = order[step + 1]
    if policy.reassign_to_queue and ticket.assignee_id is not None:
        changes["assignee"] = None
    if changes:
        services.ticket_update(org=org, ticket=ticket, by=None, **changes)
