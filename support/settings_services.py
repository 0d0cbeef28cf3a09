"""Writes to the organisation's support set-up (Settings → Queues, SLA policies, Business
hours, Canned replies and Support): each in one transaction, each audited. Names are unique
in the organisation whatever their case; a clash is the form's error, never a 500."""

from datetime import date
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from crm.audit import audit_record, diff
from crm.db import advisory_lock
from crm.models import Membership, Organization, User
from crm.permissions import can
from support import canned
from support.models import (
    UNSOLVED,
    BusinessCalendar,
    CannedReply,
    Priority,
    Queue,
    QueueAgent,
    SlaPolicy,
    SlaTarget,
    SupportSettings,
    Ticket,
    queue_token,
)

# A policy's targets: {priority: (first response minutes, resolution minutes)}; a priority
# left out has no target.
Targets = dict[str, tuple[int, int]]
MAX_BODY = 20_000
DAY = 24 * 60


def _clean_name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": f"Give the {what} a name."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name to 100 characters."})
    return name


def _check_unique(model: type[Any], name: str, what: str, row: Any = None) -> None:
    others = model.objects.filter(name__iexact=name)
    if row is not None:
        others = others.exclude(pk=row.pk)
    if others.exists():
        raise ValidationError({"name": f"There is already a {what} called “{name}”."})


def _save_unique(row: Any, name: str, what: str) -> None:
    """Save `row`: a concurrent save of the same name becomes the form's error, in a
    savepoint so that the request's transaction lives on."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:
        raise ValidationError({"name": f"There is already a {what} called “{name}”."}) from error


def _text(row: Any) -> str | None:
    """A related row as History shows it: by name, not by id."""
    return None if row is None else str(row)


def _created(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The changes of a new row: the values it was given, the empty ones left out."""
    return diff(
        {}, {field: value for field, value in values.items() if value not in ("", [], None)}
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- Queues -----------------------------------------------------------------------------------


def _check_people(lead: User | None, agents: list[User]) -> None:
    """The lead is a member; each agent a member who works tickets (crm forms offer only
    those, but a service trusts no form)."""
    wanted = [*agents, *([lead] if lead else [])]
    members = {
        m.user_id: m for m in Membership.objects.filter(user__in=wanted).select_related("org")
    }
    if lead is not None and lead.pk not in members:
        raise ValidationError({"lead": f"{lead} is not a member of this organisation."})
    for agent in agents:
        if not can(members.get(agent.pk), "ticket.edit"):
            raise ValidationError({"agents": f"{agent} does not work tickets here."})


def _set_agents(org: Organization, queue: Queue, agents: list[User]) -> list[list[str]]:
    """Make the queue's agents these; [before, after] names when they changed, else []."""
    links = QueueAgent.objects.filter(queue=queue).select_related("user")
    before = {link.user_id: str(link.user) for link in links}
    after = {agent.pk: str(agent) for agent in agents}
    if set(before) == set(after):
        return []
    QueueAgent.objects.filter(queue=queue).exclude(user_id__in=list(after)).delete()
    QueueAgent.objects.bulk_create(
        [QueueAgent(org=org, queue=queue, user_id=pk) for pk in after if pk not in before]
    )
    return [sorted(before.values()), sorted(after.values())]


@transaction.atomic
def queue_create(
    *, org: Organization, by: User | None, name: str, email: str = "", lead: User | None = None,
    policy: SlaPolicy | None = None, assignment: str = Queue.Assignment.MANUAL,
    agents: list[User] | None = None,
) -> Queue:  # fmt: skip
    """Add a queue, last, with its own inbound address."""
    name = _clean_name(name, "queue")
    agents = list(agents or [])
    _check_unique(Queue, name, "queue")
    _check_people(lead, agents)
    if assignment not in Queue.Assignment.values:
        raise ValidationError({"assignment": "Choose how tickets are assigned."})
    advisory_lock(f"support.queues:{org.pk}")  # two new queues: each its own position
    queue = Queue(org=org, name=name, email=email.strip(), lead=lead, policy=policy,
                  assignment=assignment, position=Queue.objects.count())  # fmt: skip
    _save_unique(queue, name, "queue")
    _set_agents(org, queue, agents)
    changes = _created({"email": queue.email, "lead": _text(lead), "policy": _text(policy),
                        "assignment": queue.get_assignment_display(),
                        "agents": sorted(str(agent) for agent in agents)})  # fmt: skip
    audit_record(org=org, actor=by, action="queue.created", target=queue, changes=changes)
    return queue


@transaction.atomic
def queue_update(
    *, org: Organization, queue: Queue, by: User | None, name: str, email: str,
    lead: User | None, policy: SlaPolicy | None, assignment: str, agents: list[User],
) -> Queue:  # fmt: skip
    """Change a queue's name, reply address, lead, policy, assignment rule or agents."""
    name = _clean_name(name, "queue")
    _check_unique(Queue, name, "queue", queue)
    _check_people(lead, agents)
    if assignment not in Queue.Assignment.values:
        raise ValidationError({"assignment": "Choose how tickets are assigned."})
    before = {"name": queue.name, "email": queue.email, "lead": _text(queue.lead),
              "policy": _text(queue.policy),
              "assignment": queue.get_assignment_display()}  # fmt: skip
    queue.name, queue.email, queue.lead, queue.policy = name, email.strip(), lead, policy
    queue.assignment = assignment
    changes = diff(before, {"name": name, "email": queue.email, "lead": _text(lead),
                            "policy": _text(policy),
                            "assignment": queue.get_assignment_display()})  # fmt: skip
    _save_unique(queue, name, "queue")
    moved = _set_agents(org, queue, agents)
    if moved:
        changes["agents"] = moved
    if changes:
        audit_record(org=org, actor=by, action="queue.updated", target=queue, changes=changes)
    return queue


@transaction.atomic
def queue_archive(
    *, org: Organization, queue: Queue, by: User | None, archived: bool = True
) -> Queue:
    """Archive a queue (its tickets stay; it takes no new ones), or bring it back."""
    if queue.is_archived == archived:
        return queue
    queue.is_archived = archived
    queue.save(update_fields=["is_archived"])
    action = "queue.archived" if archived else "queue.unarchived"
    audit_record(org=org, actor=by, action=action, target=queue,
                 changes={"is_archived": [not archived, archived]})  # fmt: skip
    return queue


@transaction.atomic
def queue_rotate_token(*, org: Organization, queue: Queue, by: User | None) -> Queue:
    """Give a queue a new inbound address: mail to the old one is refused from now on."""
    queue.inbound_token = queue_token(org.pk)
    queue.save(update_fields=["inbound_token"])
    # The token itself stays out of the log: it is what lets mail in.
    audit_record(org=org, actor=by, action="queue.address_rotated", target=queue)
    return queue


# --- SLA policies -----------------------------------------------------------------------------


def _check_targets(targets: Targets) -> None:
    errors: dict[str, str] = {}
    for priority, (first, resolution) in targets.items():
        if priority not in Priority.values:
            errors["__all__"] = f"There is no priority “{priority}”."
        elif first < 1 or resolution < 1:
            errors[f"{priority}_first_response"] = "Give targets of at least one minute."
        elif resolution < first:
            errors[f"{priority}_resolution"] = "Solving cannot be due before the first response."
    if errors:
        raise ValidationError(errors)


def _set_targets(org: Organization, policy: SlaPolicy, targets: Targets) -> dict[str, Any]:
    """Make the policy's targets these; {priority: [before, after]} for those that changed."""
    found = {t.priority: t for t in SlaTarget.objects.filter(policy=policy)}
    changes: dict[str, Any] = {}
    for priority in Priority.values:
        old, new = found.get(priority), targets.get(priority)
        was = (old.first_response_minutes, old.resolution_minutes) if old else None
        if was == (tuple(new) if new else None):
            continue
        changes[f"{priority}_targets"] = [_targets_text(was), _targets_text(new)]
        if old is not None and new is None:
            old.delete()
        elif old is not None and new is not None:
            old.first_response_minutes, old.resolution_minutes = new
            old.save(update_fields=["first_response_minutes", "resolution_minutes"])
        elif new is not None:
            SlaTarget.objects.create(
                org=org, policy=policy, priority=priority, first_response_minutes=new[0],
                resolution_minutes=new[1],
            )  # fmt: skip
    return changes


def _targets_text(minutes: tuple[int, int] | None) -> str | None:
    if minutes is None:
        return None
    first, resolution = (f"{m // 60}:{m % 60:02d}" for m in minutes)
    return f"answered within {first}, solved within {resolution}"


def _make_default(org: Organization, policy: SlaPolicy, by: User | None) -> None:
    """The one default: whichever was before stops being it, first (the constraint allows
    one at any moment)."""
    for other in SlaPolicy.objects.filter(is_default=True).exclude(pk=policy.pk):
        other.is_default = False
        other.save(update_fields=["is_default"])
        audit_record(org=org, actor=by, action="sla_policy.updated", target=other,
                     changes={"is_default": [True, False]})  # fmt: skip


_POLICY_FIELDS = ("name", "calendar", "near_breach_percent", "notify_lead", "notify_managers",
                  "raise_priority", "reassign_to_queue", "is_default")  # fmt: skip


@transaction.atomic
def policy_save(
    *, org: Organization, by: User | None, policy: SlaPolicy | None = None, name: str,
    calendar: BusinessCalendar, near_breach_percent: int = 80, notify_lead: bool = True,
    notify_managers: bool = False, raise_priority: bool = False,
    reassign_to_queue: bool = False, is_default: bool = False, targets: Targets,
) -> SlaPolicy:  # fmt: skip
    """Add a policy (`policy` None) or change one, with its targets in business minutes.
    Made the default, it takes over from the one that was."""
    name = _clean_name(name, "policy")
    _check_unique(SlaPolicy, name, "policy", policy)
    if not 1 <= near_breach_percent <= 99:
        raise ValidationError({"near_breach_percent": "Give a whole percentage from 1 to 99."})
    _check_targets(targets)
    advisory_lock(f"support.policies:{org.pk}")  # two made default at once take turns
    creating = policy is None
    row = policy or SlaPolicy(org=org)
    before = {field: getattr(row, field, None) for field in _POLICY_FIELDS}
    before["calendar"] = _text(row.calendar) if row.calendar_id else None
    values = {"name": name, "calendar": calendar, "near_breach_percent": near_breach_percent,
              "notify_lead": notify_lead, "notify_managers": notify_managers,
              "raise_priority": raise_priority, "reassign_to_queue": reassign_to_queue,
              "is_default": is_default}  # fmt: skip
    if is_default:
        _make_default(org, row, by)
    for field, value in values.items():
        setattr(row, field, value)
    _save_unique(row, name, "policy")
    shown = values | {"calendar": str(calendar)}
    changes = _created(shown) if creating else diff(before, shown)
    changes |= _set_targets(org, row, targets)
    if creating or changes:
        action = "sla_policy.created" if creating else "sla_policy.updated"
        audit_record(org=org, actor=by, action=action, target=row, changes=changes)
    return row


def policy_users(policy: SlaPolicy) -> tuple[int, int]:
    """(queues, unsolved tickets) that run under the policy: either keeps it from going."""
    queues = Queue.objects.filter(policy=policy).count()
    tickets = Ticket.objects.filter(policy=policy, status__in=UNSOLVED).count()
    return queues, tickets


@transaction.atomic
def policy_delete(*, org: Organization, policy: SlaPolicy, by: User | None) -> None:
    """Delete a policy that no queue uses and no unsolved ticket runs under."""
    advisory_lock(f"support.policies:{org.pk}")
    queues, tickets = policy_users(policy)
    if queues:
        raise ValidationError(
            f"{_plural(queues, 'queue')} {'uses' if queues == 1 else 'use'} {policy}: give "
            f"{'it' if queues == 1 else 'them'} another policy first."
        )
    if tickets:
        raise ValidationError(
            f"{_plural(tickets, 'unsolved ticket')} {'runs' if tickets == 1 else 'run'} under "
            f"{policy}: it can go once {'it is' if tickets == 1 else 'they are'} solved."
        )
    audit_record(org=org, actor=by, action="sla_policy.deleted", target=policy,
                 changes={"name": [policy.name, None]})  # fmt: skip
    policy.delete()


# --- Business hours ---------------------------------------------------------------------------


def _week_text(weekly: Any) -> str:
    """The week as History shows it: "Mon 09:00-17:00, …, Sun closed"."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    shown = []
    for day, spans in zip(days, weekly or [], strict=False):
        hours = " and ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}"
                             for a, b in sorted(spans))  # fmt: skip
        shown.append(f"{day} {hours or 'closed'}")
    return ", ".join(shown)


def _check_weekly(weekly: list[list[list[int]]]) -> None:
    if len(weekly) != 7:
        raise ValidationError("Give the hours of all seven days.")
    for day in weekly:
        spans = sorted(day)
        for start, end in spans:
            if not 0 <= start < end <= DAY:
                raise ValidationError("Each span of hours ends after it starts, within the day.")
        if any(later[0] < earlier[1] for earlier, later in pairwise(spans)):
            raise ValidationError("A day's spans of hours do not overlap.")


@transaction.atomic
def calendar_save(
    *, org: Organization, by: User | None, calendar: BusinessCalendar | None = None,
    name: str, zone: str, weekly: list[list[list[int]]], holidays: list[date],
) -> BusinessCalendar:  # fmt: skip
    """Add business hours (`calendar` None) or change them: a zone, each weekday's spans in
    minutes of local time, and the days off."""
    from zoneinfo import available_timezones

    name = _clean_name(name, "calendar")
    _check_unique(BusinessCalendar, name, "calendar", calendar)
    if zone not in available_timezones():
        raise ValidationError({"zone": "Choose a time zone from the list."})
    _check_weekly(weekly)
    creating = calendar is None
    row = calendar or BusinessCalendar(org=org)
    before = {"name": row.name, "zone": row.zone, "weekly": _week_text(row.weekly),
              "holidays": [str(day) for day in row.holidays or []]}  # fmt: skip
    holidays = sorted(set(holidays))
    row.name, row.zone, row.weekly, row.holidays = name, zone, weekly, holidays
    _save_unique(row, name, "calendar")
    after = {"name": name, "zone": zone, "weekly": _week_text(weekly),
             "holidays": [str(day) for day in holidays]}  # fmt: skip
    changes = _created(after) if creating else diff(before, after)
    if creating or changes:
        action = "business_calendar.created" if creating else "business_calendar.updated"
        audit_record(org=org, actor=by, action=action, target=row, changes=changes)
    return row


@transaction.atomic
def calendar_delete(*, org: Organization, calendar: BusinessCalendar, by: User | None) -> None:
    """Delete business hours that no SLA policy counts in."""
    used = SlaPolicy.objects.filter(calendar=calendar).count()
    message = (
        f"An SLA policy counts in {calendar}: give it other business hours first." if used == 1
        else f"{used} SLA policies count in {calendar}: give them other business hours first."
    )  # fmt: skip
    if used:
        raise ValidationError(message)
    audit_record(org=org, actor=by, action="business_calendar.deleted", target=calendar,
                 changes={"name": [calendar.name, None]})  # fmt: skip
    try:
        with transaction.atomic():  # a policy set to it meanwhile: PROTECT refuses
            calendar.delete()
    except ProtectedError as error:
        raise ValidationError(message) from error


# --- Canned replies ---------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the reply."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"Keep the reply under {MAX_BODY:,} characters."})
    if "\x00" in body:
        raise ValidationError({"body": "Remove the null characters from the reply."})
    return body


@transaction.atomic
def canned_reply_save(
    *, org: Organization, by: User | None, reply: CannedReply | None = None, name: str,
    body: str,
) -> CannedReply:  # fmt: skip
    """Add a canned reply (`reply` None) or change one."""
    name = _clean_name(name, "reply")
    body = _clean_body(body)
    _check_unique(CannedReply, name, "reply", reply)
    creating = reply is None
    row = reply or CannedReply(org=org, created_by=by if by and by.pk else None)
    after = {"name": name, "body": body}
    changes = _created(after) if creating else diff({"name": row.name, "body": row.body}, after)
    row.name, row.body = name, body
    _save_unique(row, name, "reply")
    if creating or changes:
        action = "canned_reply.created" if creating else "canned_reply.updated"
        audit_record(org=org, actor=by, action=action, target=row, changes=changes)
    canned.forget_choices()
    return row


@transaction.atomic
def canned_reply_delete(*, org: Organization, reply: CannedReply, by: User | None) -> None:
    """Delete a canned reply; replies already sent with it keep their text."""
    audit_record(org=org, actor=by, action="canned_reply.deleted", target=reply,
                 changes={"name": [reply.name, None]})  # fmt: skip
    reply.delete()
    canned.forget_choices()


# --- Support settings -------------------------------------------------------------------------


@transaction.atomic
def support_settings_update(
    *, org: Organization, by: User | None, csat_enabled: bool
) -> SupportSettings:
    """Turn the rating asked for when a ticket is solved on or off."""
    row, _ = SupportSettings.objects.select_for_update().get_or_create(org=org)
    if row.csat_enabled != csat_enabled:
        row.csat_enabled = csat_enabled
        row.save(update_fields=["csat_enabled"])
        audit_record(org=org, actor=by, action="support_settings.updated", target=row,
                     changes={"csat_enabled": [not csat_enabled, csat_enabled]})  # fmt: skip
    return row
