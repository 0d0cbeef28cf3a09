"""Writes to tickets: open one, change its status, priority, queue or assignee, reply to the
requester, leave an internal note. Every change is audited and, where it shows on the
ticket's timeline, kept as a TicketEvent; every change recomputes the SLA due times.

The SLA clock runs in the policy's business hours (support.hours) from the ticket's
creation, and stops while the ticket waits on the customer or is solved: those spans are
the ticket's `sla_pauses`. A reopened ticket's clock goes on where it stopped.
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from contacts.models import Company, Contact, Tag
from crm.audit import audit_record, diff
from crm.models import Membership, Organization, User
from crm.permissions import can
from crm.records.custom_fields import clean_custom
from crm.records.versions import check_version
from crm.tasks import enqueue
from interactions import outbound
from interactions.models import Interaction, Notification, Task
from interactions.services import interaction_log
from support import csat, hours
from support.models import (
    AgentStatus,
    Priority,
    Queue,
    QueueAgent,
    SlaPolicy,
    SlaTarget,
    Status,
    Ticket,
    TicketEvent,
    TicketTag,
)

MAX_BODY = 50_000
# Statuses during which the SLA clock stands still.
PAUSED = (Status.PENDING, Status.SOLVED, Status.CLOSED)
Kind = TicketEvent.Kind


def may_work(membership: Membership | None) -> bool:
    """Agents, managers and admins work tickets; reps and viewers read them."""
    return can(membership, "ticket.edit")


def _refuse(message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: [ValidationError(message, code=code)]})


# --- Numbers ----------------------------------------------------------------------------------


def next_number(org: Organization) -> int:
    """The organisation's next ticket number (#1001 first), given once even to two tickets
    opened at the same instant: one statement takes it, holding its row until the commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO support_supportsettings (org_id, last_number, csat_enabled)
            VALUES (%s, 1001, true)
            ON CONFLICT (org_id) DO UPDATE
              SET last_number = support_supportsettings.last_number + 1
            RETURNING last_number
            """,
            [org.pk],
        )
        return int(cursor.fetchone()[0])


# --- The SLA ----------------------------------------------------------------------------------


def policy_for(queue: Queue) -> SlaPolicy | None:
    """The queue's policy, else the organisation's default one."""
    if queue.policy_id is not None:
        return queue.policy
    return SlaPolicy.objects.filter(is_default=True).select_related("calendar").first()


def pauses_of(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return [
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in ticket.sla_pauses
    ]


def _pause(ticket: Ticket, status: str, now: datetime) -> None:
    """Open a pause when the ticket enters a paused status, close it when it leaves one."""
    spans = [list(span) for span in ticket.sla_pauses]
    running = bool(spans) and spans[-1][1] is None
    if status in PAUSED and not running:
        spans.append([now.isoformat(), None])
    elif status not in PAUSED and running:
        spans[-1][1] = now.isoformat()
    ticket.sla_pauses = spans


def sla_thresholds(ticket: Ticket, at: datetime | None = None) -> dict[str, datetime | None]:
    """When each of the ticket's thresholds comes: the warnings and the due times of its
    first response and resolution, None for those not running (met, or the clock stopped).
    With `at`, a pause still open ends then: the due times of a target met at `at`."""
    policy = ticket.policy
    target = (
        SlaTarget.objects.filter(policy_id=ticket.policy_id, priority=ticket.priority).first()
        if policy is not None else None
    )  # fmt: skip
    if policy is None or target is None:
        return {}
    calendar = policy.calendar.hours()
    pauses = [(start, end or at) for start, end in pauses_of(ticket)] if at else pauses_of(ticket)
    found: dict[str, datetime | None] = {}
    for metric, minutes, done in (
        ("first_response", target.first_response_minutes, ticket.first_response_at),
        ("resolution", target.resolution_minutes, ticket.solved_at),
    ):
        if done is not None:
            continue
        seconds = minutes * 60
        warn = seconds * policy.near_breach_percent // 100
        found[f"{metric}:near"] = hours.due(calendar, ticket.created_at, warn, pauses)
        found[f"{metric}:breach"] = hours.due(calendar, ticket.created_at, seconds, pauses)
    return found


def waited(org: Organization, ticket: Ticket, until: datetime) -> int:
    """Business seconds from the ticket's creation to `until` in its policy's calendar
    (round the clock in the organisation's zone without one), pauses included: how long
    the customer waited."""
    policy = ticket.policy
    calendar = policy.calendar.hours() if policy is not None else hours.Calendar.always(
        org.time_zone
    )  # fmt: skip
    return hours.business_seconds(calendar, ticket.created_at, until)


def first_response(org: Organization, ticket: Ticket, at: datetime) -> None:
    """The ticket was first answered at `at`: saved, with how long that took and the due
    time it is measured against (reckoned now, should the clock have been stopped)."""
    due = sla_thresholds(ticket, at=at).get("first_response:breach")
    ticket.first_response_due = due or ticket.first_response_due
    ticket.first_response_at = at
    ticket.first_response_seconds = waited(org, ticket, at)
    ticket.save(update_fields=["first_response_at", "first_response_seconds", "first_response_due"])


def sla_refresh(ticket: Ticket) -> None:
    """Recompute the ticket's due times and when the SLA job next looks at it (not saved).
    A met target keeps the due time it had, which the dashboard measures it against."""
    thresholds = sla_thresholds(ticket) if ticket.status not in PAUSED else {}
    if ticket.first_response_at is None:
        ticket.first_response_due = thresholds.get("first_response:breach")
    if ticket.solved_at is None:
        ticket.resolution_due = thresholds.get("resolution:breach")
    events = TicketEvent.objects.filter(ticket_id=ticket.pk).exclude(key="")
    seen = set(events.values_list("key", flat=True)) if ticket.pk else set()
    coming = [at for key, at in thresholds.items() if at is not None and key not in seen]
    ticket.sla_check_at = min(coming) if coming else None


# --- Checks -----------------------------------------------------------------------------------


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if "subject" in fields:
        fields["subject"] = " ".join((fields["subject"] or "").split())
        if not fields["subject"]:
            errors["subject"] = "Give the ticket a subject."
        elif len(fields["subject"]) > 300:
            errors["subject"] = "Keep the subject under 300 characters."
        elif "\x00" in fields["subject"]:
            errors["subject"] = "Remove the null characters (\\x00) from the subject."
    if "priority" in fields and fields["priority"] not in Priority.values:
        errors["priority"] = "Choose low, normal, high or urgent."
    if "status" in fields and fields["status"] not in Status.values:
        errors["status"] = "Choose a status from the list."
    queue = fields.get("queue")
    if queue is not None and queue.is_archived:
        errors["queue"] = f"{queue} is archived: choose another queue."
    if errors:
        raise ValidationError(errors)
    return fields


def _check_assignee(assignee: User | None) -> None:
    """Only a member who works tickets may be given one."""
    if assignee is None:
        return
    membership = Membership.objects.filter(user=assignee).first()
    if membership is None or not may_work(membership):
        raise ValidationError({"assignee": f"{assignee} does not work tickets here."})


def _check_body(body: str, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({field: "Write the message."})
    if len(body) > MAX_BODY:
        raise ValidationError({field: f"Keep the message under {MAX_BODY:,} characters."})
    if "\x00" in body:
        raise ValidationError({field: "Remove the null characters (\\x00) from the message."})
    return body


def _event(ticket: Ticket, kind: str, by: User | None, old: str = "", new: str = "",
           at: datetime | None = None, key: str = "") -> TicketEvent:  # fmt: skip
    return TicketEvent.objects.create(
        org_id=ticket.org_id, ticket=ticket, kind=kind, by=by, old=old[:200], new=new[:200],
        at=at or timezone.now(), key=key,
    )  # fmt: skip


def _name(user: User | None) -> str:
    return user.display_name if user is not None else ""


def _notify_assigned(org: Organization, ticket: Ticket, by: User | None) -> None:
    if ticket.assignee_id is None or ticket.assignee_id == getattr(by, "pk", None):
        return
    from django.urls import reverse

    Notification.objects.get_or_create(
        org=org, key=f"ticket:{ticket.pk}:{ticket.assignee_id}:{timezone.now():%Y%m%d%H%M%S%f}",
        defaults={
            "user_id": ticket.assignee_id, "kind": Notification.Kind.TICKET,
            "title": f"{_name(by) or 'Support'} gave you ticket #{ticket.number}: "
                     f"{ticket.subject}"[:300],
            "url": reverse("tickets:detail", args=[org.slug, ticket.number]),
        },
    )  # fmt: skip


# --- Assignment -------------------------------------------------------------------------------


def auto_assignee(queue: Queue) -> User | None:
    """Who the queue's rule gives a new ticket to, among its agents marked available:
    round robin takes the one after the last given one; fewest open, the one with the
    fewest unsolved tickets (the earlier-added on a tie). None for manual queues."""
    if queue.assignment == Queue.Assignment.MANUAL:
        return None
    away = AgentStatus.objects.filter(is_available=False).values("user_id")
    agents = list(
        QueueAgent.objects.filter(queue=queue).exclude(user_id__in=away)
        .order_by("user_id").values_list("user_id", flat=True)
    )  # fmt: skip
    if not agents:
        return None
    if queue.assignment == Queue.Assignment.ROUND_ROBIN:
        later = [pk for pk in agents if queue.last_assigned_id and pk > queue.last_assigned_id]
        chosen = (later or agents)[0]
    else:
        open_counts = dict(
            Ticket.objects.unsolved().filter(assignee_id__in=agents)
            .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n")
        )  # fmt: skip
        chosen = min(agents, key=lambda pk: (open_counts.get(pk, 0), pk))
    return User.objects.filter(pk=chosen).first()


@transaction.atomic
def agent_set_available(*, org: Organization, user: User, available: bool) -> AgentStatus:
    """An agent takes new tickets from the queues' automatic assignment, or is away."""
    status, _ = AgentStatus.objects.update_or_create(
        org=org, user=user, defaults={"is_available": available, "changed_at": timezone.now()}
    )
    audit_record(org=org, actor=user, action="support.availability",
                 changes={"available": [not available, available]})  # fmt: skip
    return status


# --- Tickets ----------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *, org: Organization, by: User | None, subject: str, queue: Queue,
    requester: Contact | None = None, company: Company | None = None,
    priority: str = Priority.NORMAL, assignee: User | None = None,
    tags: list[Tag] | None = None, custom: dict[str, Any] | None = None,
    description: str = "", at: datetime | None = None,
) -> Ticket:  # fmt: skip
    """Open a ticket with the next number. Its description, if any, is its first entry
    (an inbound message when no member wrote it). A queue that assigns on its own gives it
    to one of its available agents when no one is named."""
    fields = _clean({"subject": subject, "priority": priority, "queue": queue})
    _check_assignee(assignee)
    if company is None and requester is not None and requester.company_id:
        company = requester.company
    now = at or timezone.now()
    locked_queue = Queue.objects.select_for_update().get(pk=queue.pk)
    if assignee is None:
        assignee = auto_assignee(locked_queue)
        if assignee is not None and locked_queue.assignment == Queue.Assignment.ROUND_ROBIN:
            locked_queue.last_assigned = assignee
            locked_queue.save(update_fields=["last_assigned"])
    ticket = Ticket(
        org=org, number=next_number(org), requester=requester, company=company,
        assignee=assignee, policy=policy_for(locked_queue),
        custom=clean_custom("ticket", custom) if custom else {},
        status=Status.OPEN if assignee is not None else Status.NEW,
        created_at=now, touched_at=now, **fields,
    )  # fmt: skip
    sla_refresh(ticket)
    ticket.save()
    if tags:
        TicketTag.objects.bulk_create([TicketTag(org=org, ticket=ticket, tag=t) for t in tags])
    _event(ticket, Kind.CREATED, by, new=str(queue), at=now)
    if assignee is not None:
        _event(ticket, Kind.ASSIGNED, by, new=_name(assignee), at=now)
        _notify_assigned(org, ticket, by)
    if description.strip():
        inbound = by is None
        interaction_log(
            org=org, by=by, channel=Interaction.Channel.EMAIL if inbound else "note",
            direction="inbound" if inbound else "internal", contact=requester,
            company=company, subject=ticket.subject[:200], body=_check_body(description),
            ticket=ticket, occurred_at=now,
        )  # fmt: skip
    audit_record(org=org, actor=by, action="ticket.created", target=ticket)
    return ticket


# What ticket_update writes besides the fields it is given.
_KEPT = (
    "status", "solved_at", "resolution_seconds", "closed_at", "sla_pauses", "policy",
    "first_response_due", "resolution_due", "sla_check_at", "touched_at", "updated_at",
)  # fmt: skip
# What ticket_update may change; replies and notes go through their own services.
EDITABLE = frozenset({
    "subject", "status", "priority", "queue", "assignee", "requester", "company", "custom",
})  # fmt: skip


@transaction.atomic
def ticket_update(
    *, org: Organization, ticket: Ticket, by: User | None, version: str | None = None,
    tags: list[Tag] | None = None, at: datetime | None = None, **fields: Any,
) -> Ticket:  # fmt: skip
    """Change a ticket; each change of status, assignee, priority or queue is an event on its
    timeline, and the SLA due times are computed again. With `version` (what the form was
    opened on), refused if the ticket changed since: two agents never overwrite each other."""
    check_version(ticket, version, "ticket")
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"Not a ticket field: {', '.join(sorted(unknown))}")
    if ticket.merged_into_id is not None:
        raise _refuse(f"Ticket #{ticket.number} was merged into another: change that one.")
    fields = _clean(fields)
    if "assignee" in fields:
        _check_assignee(fields["assignee"])
    if "custom" in fields:
        fields["custom"] = clean_custom("ticket", fields["custom"], keep=ticket.custom)
    now = at or timezone.now()
    before = {name: getattr(ticket, name) for name in fields}
    solved_now = False  # the requester is asked for a rating once it is
    for name, value in fields.items():
        setattr(ticket, name, value)
    changed = {name for name, value in fields.items() if before[name] != value}
    if "status" in changed:
        status = fields["status"]
        _pause(ticket, status, now)
        if status in (Status.SOLVED, Status.CLOSED) and ticket.solved_at is None:
            # The due time it is measured against, reckoned now: a ticket solved while
            # pending on the customer has none left from when its clock stopped.
            due = sla_thresholds(ticket, at=now).get("resolution:breach")
            ticket.resolution_due = due or ticket.resolution_due
            ticket.solved_at = now
            ticket.resolution_seconds = waited(org, ticket, now)
            solved_now = True
        elif status not in (Status.SOLVED, Status.CLOSED):
            ticket.solved_at = ticket.resolution_seconds = None
        ticket.closed_at = now if status == Status.CLOSED else None
        _event(ticket, Kind.STATUS, by, Status(before["status"]).label, Status(status).label, now)
    if "assignee" in changed:
        _event(ticket, Kind.ASSIGNED, by, _name(before["assignee"]), _name(ticket.assignee), now)
        if ticket.status == Status.NEW and ticket.assignee is not None:
            ticket.status = Status.OPEN
    if "priority" in changed:
        _event(ticket, Kind.PRIORITY, by, Priority(before["priority"]).label,
               Priority(ticket.priority).label, now)  # fmt: skip
    if "queue" in changed:
        _event(ticket, Kind.QUEUE, by, str(before["queue"]), str(ticket.queue), now)
        ticket.policy = policy_for(ticket.queue)
    ticket.touched_at = now
    sla_refresh(ticket)
    # What this change decides, and nothing else: a rating or a first response recorded
    # meanwhile by another writer is not overwritten by this copy of the ticket.
    ticket.save(update_fields=[*fields, *_KEPT])
    changes = diff(before, fields)
    if tags is not None:
        changes |= _set_tags(ticket, tags)
    if "assignee" in changed:
        _notify_assigned(org, ticket, by)
    if changes:
        audit_record(org=org, actor=by, action="ticket.updated", target=ticket, changes=changes)
    if solved_now:
        csat.csat_request(org=org, ticket=ticket)
    return ticket


def _set_tags(ticket: Ticket, tags: list[Tag]) -> dict[str, list[Any]]:
    current = dict(TicketTag.objects.filter(ticket=ticket).values_list("tag_id", "tag__name"))
    wanted = {tag.pk: tag for tag in tags}
    if set(current) == set(wanted):
        return {}
    TicketTag.objects.filter(ticket=ticket).exclude(tag_id__in=wanted).delete()
    TicketTag.objects.bulk_create(
        [TicketTag(org_id=ticket.org_id, ticket=ticket, tag=t) for pk, t in wanted.items()
         if pk not in current]
    )  # fmt: skip
    return {"tags": [sorted(current.values()), sorted(t.name for t in tags)]}


def _lock(ticket: Ticket) -> Ticket:
    locked = Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    if locked is None or locked.deleted_at is not None:
        raise _refuse(f"Ticket #{ticket.number} was deleted meanwhile.", "gone")
    if locked.merged_into_id is not None:
        raise _refuse(f"Ticket #{ticket.number} was merged into another: write there.", "merged")
    return locked


def reply_subject(ticket: Ticket) -> str:
    """The subject of the ticket's emails: its number in brackets threads the answer back
    even from a mail client that drops the headers."""
    return f"[#{ticket.number}] {ticket.subject}"[:200]


@transaction.atomic
def ticket_reply(
    *, org: Organization, ticket: Ticket, by: User, body: str, status: str | None = None
) -> Interaction:
    """Email a public reply to the requester from the queue's address, threaded to the
    conversation, and log it on the ticket. The first one meets the first-response target.
    The ticket then takes `status` (pending on the customer, by default). A closed ticket
    takes no reply: the customer's next message opens a new one."""
    locked = _lock(ticket)
    if locked.status == Status.CLOSED:
        raise _refuse(f"Ticket #{locked.number} is closed: it takes no more replies.", "closed")
    body = _check_body(body)
    requester = locked.requester
    if requester is None or not requester.email:
        raise _refuse("The ticket's requester has no email address: add one to reply.")
    now = timezone.now()
    last = (
        Interaction.objects.filter(ticket=locked, direction="inbound").exclude(external_id="")
        .order_by("-occurred_at", "-id").values_list("external_id", flat=True).first()
    )  # fmt: skip
    details: dict[str, Any] = {"reply_to": locked.queue.email} if locked.queue.email else {}
    if last:
        details["in_reply_to"] = last
    interaction = interaction_log(
        org=org, by=by, channel=Interaction.Channel.EMAIL, direction="outbound",
        contact=requester, company=locked.company, subject=reply_subject(locked), body=body,
        ticket=locked, external_id=outbound.new_message_id(),
        delivery=Interaction.Delivery.QUEUED, details=details, occurred_at=now,
        participants=[{"name": requester.name, "address": requester.email}],
    )  # fmt: skip
    enqueue(outbound.TASK, org_id=org.pk, interaction_id=interaction.pk)
    if locked.first_response_at is None:
        first_response(org, locked, now)
    ticket_update(org=org, ticket=locked, by=by, status=status or Status.PENDING, at=now)
    ticket.refresh_from_db()
    return interaction


@transaction.atomic
def ticket_note(*, org: Organization, ticket: Ticket, by: User, body: str) -> Interaction:
    """An internal note on the ticket: for the team, never emailed."""
    locked = _lock(ticket)
    interaction = interaction_log(
        org=org, by=by, channel=Interaction.Channel.NOTE, direction="internal",
        contact=locked.requester, company=locked.company, body=_check_body(body),
        ticket=locked,
    )  # fmt: skip
    Ticket.objects.filter(pk=locked.pk).update(touched_at=interaction.occurred_at)
    return interaction


@transaction.atomic
def ticket_merge(*, org: Organization, ticket: Ticket, into: Ticket, by: User | None) -> Ticket:
    """Merge `ticket` into `into`: its conversation, tasks and tags move there, and it is
    closed, pointing at where it went (its number's page leads there, its mail threads
    there). Refused for the same ticket, or one merged or deleted meanwhile."""
    if ticket.pk == into.pk:
        raise ValidationError({"into": "Choose another ticket to merge this one into."})
    first, second = sorted([ticket.pk, into.pk])  # always in one order: no deadlock
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second])}
    source, target = locked.get(ticket.pk), locked.get(into.pk)
    for found, number in ((source, ticket.number), (target, into.number)):
        if found is None or found.deleted_at is not None or found.merged_into_id is not None:
            raise _refuse(f"Ticket #{number} was merged or deleted meanwhile: nothing changed.")
    source, target = locked[ticket.pk], locked[into.pk]
    now = timezone.now()
    moved = Interaction.objects.filter(ticket=source).update(ticket=target)
    Task.objects.filter(ticket=source).update(ticket=target)
    tags = set(TicketTag.objects.filter(ticket=target).values_list("tag_id", flat=True))
    TicketTag.objects.bulk_create([
        TicketTag(org_id=org.pk, ticket=target, tag_id=tag_id)
        for tag_id in TicketTag.objects.filter(ticket=source).values_list("tag_id", flat=True)
        if tag_id not in tags
    ])  # fmt: skip
    _event(target, Kind.MERGED, by, new=f"#{source.number} {source.subject}", at=now)
    _event(source, Kind.MERGED, by, old=f"into #{target.number}", new=f"#{target.number}",
           at=now)  # fmt: skip
    source.merged_into = target
    source.status, source.closed_at, source.sla_check_at = Status.CLOSED, now, None
    source.solved_at = source.solved_at or now
    source.touched_at = target.touched_at = now
    source.save()
    target.save(update_fields=["touched_at", "updated_at"])
    changes = {"merged_into": [None, target.number], "messages": [0, moved]}
    audit_record(org=org, actor=by, action="ticket.merged", target=source, changes=changes)
    return target
