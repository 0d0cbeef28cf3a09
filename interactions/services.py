"""Writes to interactions and tasks: logging, editing, completing and deleting. Every one
is audited."""

from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from contacts.models import Company, Contact
from crm.audit import audit_record, diff
from crm.models import Membership, Organization, User
from crm.permissions import can
from crm.records import registry
from crm.records.services import records_trash
from crm.tasks import enqueue
from interactions import html_body, selectors
from interactions.models import Interaction, Notification, Task

# How far from now an interaction may be dated: a little ahead, for a clock that runs
# fast or a meeting logged as it starts; far enough back for a history brought in.
LATEST = timedelta(days=1)
EARLIEST = timedelta(days=365 * 30)
LONGEST = 24 * 60 * 60  # seconds: a call or a meeting of more than a day is a typing slip
_TEXT = ("subject", "body", "outcome", "external_id")
# What an edit may change: the rest is how and with whom it was logged.
EDITABLE = frozenset({
    "channel", "direction", "occurred_at", "duration", "outcome", "subject", "body",
    "body_html", "participants", "details",
})  # fmt: skip


# What full_clean() leaves to the services and the database: the links (each of them a
# query to check otherwise) and what is computed.
_INTERACTION_LINKS = ["org", "author", "contact", "company", "deal", "ticket", "search_text"]
_TASK_LINKS = [
    "org", "assignee", "contact", "company", "deal", "ticket", "created_by", "search_text",
]  # fmt: skip


def _clean(fields: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Refuse what cannot be stored or makes no sense; ValidationError by field."""
    errors: dict[str, str] = {}
    for name in (*_TEXT, "body_html"):
        if "\x00" in str(fields.get(name) or ""):
            errors[name] = "Remove the null characters (\\x00) from this text."
    occurred_at = fields.get("occurred_at")
    if occurred_at is not None:
        if timezone.is_naive(occurred_at):
            errors["occurred_at"] = "Give the time with its time zone."
        elif occurred_at > now + LATEST:
            errors["occurred_at"] = "That is in the future: log what has happened."
        elif occurred_at < now - EARLIEST:
            errors["occurred_at"] = "That is more than 30 years ago: check the year."
    duration = fields.get("duration")
    if duration is not None and not 0 <= duration <= LONGEST:
        errors["duration"] = "A duration is between 0 and 24 hours."
    channel = fields.get("channel")
    if fields.get("outcome") and channel and channel != Interaction.Channel.CALL:
        errors["outcome"] = "Only a call has an outcome."
    if errors:
        raise ValidationError(errors)
    if "body_html" in fields:
        fields["body_html"] = html_body.sanitise(fields["body_html"] or "")
    return fields


# A contact's and its company's last interaction moved forward, never back, in one statement.
_TOUCH = """
    WITH contact AS (
        UPDATE contacts_contact SET last_interaction_at = %(when)s
        WHERE id = %(contact)s AND (last_interaction_at IS NULL OR last_interaction_at < %(when)s)
    )
    UPDATE contacts_company SET last_interaction_at = %(when)s
    WHERE id = %(company)s AND (last_interaction_at IS NULL OR last_interaction_at < %(when)s)
"""


def _touch(interaction: Interaction) -> None:
    """Move the contact's and the company's last interaction forward to this one, never
    back, in one UPDATE (no one reads them back), so that two interactions logged at once
    cannot put it back. Under the policy: the active organisation's rows only."""
    if interaction.is_automatic:
        return  # an auto-reply or a bounce is no sign of a live conversation
    if interaction.contact_id is None and interaction.company_id is None:
        return
    # Like .update(), it leaves updated_at alone: an edit in progress on the record stays
    # valid. A missing id (None) matches no row.
    with connection.cursor() as cursor:
        cursor.execute(_TOUCH, {"when": interaction.occurred_at,
                                "contact": interaction.contact_id,
                                "company": interaction.company_id})  # fmt: skip


@transaction.atomic
def interaction_log(
    *, org: Organization, by: User | None, channel: str, direction: str,
    occurred_at: datetime | None = None, contact: Contact | None = None,
    company: Company | None = None, external_id_checked: bool = False, **fields: Any,
) -> Interaction:  # fmt: skip
    """Log an interaction; `by` is its author unless `author` says otherwise (None for what
    arrives on its own). A message already logged (same external id) is returned as it is;
    `external_id_checked` says the caller has just looked for it, under a lock."""
    now = timezone.now()
    fields = _clean({"channel": channel, "occurred_at": occurred_at, **fields}, now=now)
    external_id = fields.get("external_id") or ""
    if external_id and not external_id_checked:
        existing = Interaction.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    if contact is not None and company is None and contact.company_id:
        company = contact.company  # the company's timeline shows its people's too
    fields.setdefault("author", by)
    interaction = Interaction(org=org, direction=direction, contact=contact, company=company,
                              **{**fields, "occurred_at": occurred_at or now})  # fmt: skip
    interaction.full_clean(exclude=_INTERACTION_LINKS)
    interaction.save()
    _touch(interaction)
    if interaction.author_id:  # the quick log starts with it next time (selectors.last_channel)
        key = selectors.last_channel_key(interaction.author_id)
        cache.set(key, interaction.channel, selectors.LAST_CHANNEL_SECONDS)
    audit_record(org=org, actor=by, action="interaction.logged", target=interaction)
    if interaction.followed_up_as() is not None:  # most of what is logged no rule looks at
        enqueue("interactions.followups_schedule", org_id=org.pk, interaction_id=interaction.pk)
    return interaction


def may_change(membership: Membership | None, interaction: Interaction) -> bool:
    """Its author may edit or delete an interaction, and so may managers and admins."""
    return can(membership, "interaction.edit", interaction)


def _check(org: Organization, by: User | None, interaction: Interaction) -> None:
    membership = Membership.objects.filter(user=by).first() if by else None
    if membership is None or not may_change(membership, interaction):
        raise PermissionDenied("Only its author or a manager may change this interaction.")


@transaction.atomic
def interaction_update(
    *, org: Organization, interaction: Interaction, by: User | None, **fields: Any
) -> Interaction:
    """Change what was logged; only its author or a manager may."""
    _check(org, by, interaction)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    fields = _clean({"channel": interaction.channel, **fields}, now=timezone.now())
    before = {name: getattr(interaction, name) for name in fields}
    for name, value in fields.items():
        setattr(interaction, name, value)
    interaction.full_clean(exclude=_INTERACTION_LINKS)
    interaction.save()
    _touch(interaction)
    changes = diff(before, fields)
    if changes:
        audit_record(
            org=org, actor=by, action="interaction.updated", target=interaction, changes=changes
        )
    return interaction


@transaction.atomic
def interaction_delete(*, org: Organization, interaction: Interaction, by: User | None) -> None:
    """Move an interaction to the Trash; only its author or a manager may."""
    _check(org, by, interaction)
    # The Trash every kind shares: the same stamp, the same audit event as a bulk delete.
    records_trash(org=org, by=by, kind=registry.kind("interaction"), ids=[interaction.pk])


# --- Tasks -----------------------------------------------------------------------------------

# What an edit of a task may change: the rest is who made it and why.
TASK_EDITABLE = frozenset({
    "title", "notes", "due_at", "assignee", "priority", "reminder_at", "contact", "company",
    "deal",
})  # fmt: skip


def _clean_task(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for name in ("title", "notes"):
        if "\x00" in str(fields.get(name) or ""):
            errors[name] = "Remove the null characters (\\x00) from this text."
    if "title" in fields and not str(fields["title"] or "").strip():
        errors["title"] = "Say what is to be done."
    for name in ("due_at", "reminder_at"):
        when = fields.get(name)
        if when is not None and timezone.is_naive(when):
            errors[name] = "Give the time with its time zone."
    assignee = fields.get("assignee")
    if assignee is not None and not Membership.objects.filter(user=assignee).exists():
        errors["assignee"] = "Choose a member of this organisation."
    if errors:
        raise ValidationError(errors)
    if "title" in fields:
        fields["title"] = str(fields["title"]).strip()
    return fields


def contacts_next_step(*, contact_ids: list[int]) -> None:
    """Set each contact's next step to its first open task (by due time, undated last), in
    one UPDATE: the contacts list shows and sorts by it."""
    ids = [pk for pk in set(contact_ids) if pk]
    if not ids:
        return
    first = (
        Task.objects.open()
        .filter(contact_id=OuterRef("pk"))
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )
    Contact.objects.filter(pk__in=ids).update(
        next_step_at=Subquery(first.values("due_at")[:1]),
        next_step=Coalesce(Subquery(first.values("title")[:1]), Value("")),
    )


def tasks_changed(*, org: Organization, ids: list[int]) -> None:
    """After a bulk edit, a move to the Trash or a restore of tasks: their contacts' next
    steps (the Tasks kind's `changed`)."""
    contact_ids = Task.objects.filter(pk__in=ids).values_list("contact_id", flat=True)
    contacts_next_step(contact_ids=list(contact_ids))


def _notify_assigned(org: Organization, task: Task, by: User | None) -> None:
    if task.assignee_id is None or task.assignee_id == getattr(by, "pk", None):
        return
    who = by.display_name if by is not None else "A follow-up rule"
    Notification.objects.get_or_create(
        key=f"assigned:{task.pk}:{task.assignee_id}",
        defaults={
            "org": org, "user_id": task.assignee_id, "kind": Notification.Kind.ASSIGNED,
            "title": f"{who} gave you a task: {task.title}", "task": task,
            "url": reverse("tasks:detail", args=[org.slug, task.pk]),
        },
    )  # fmt: skip


@transaction.atomic
def task_create(
    *, org: Organization, by: User | None, title: str, contact: Contact | None = None,
    company: Company | None = None, source_key: str = "", **fields: Any,
) -> Task:  # fmt: skip
    """Add a task; `by` made it (None for a rule). With a `source_key` (what made it: a
    rule and an interaction, a form submission), a second call returns the first task."""
    unknown = set(fields) - TASK_EDITABLE
    if unknown:
        raise ValueError(f"Not a task field: {', '.join(sorted(unknown))}")
    fields = _clean_task({"title": title, **fields})
    if source_key:
        existing = Task.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
    if contact is not None and company is None and contact.company_id:
        company = contact.company
    task = Task(org=org, created_by=by, contact=contact, company=company,
                source_key=source_key, **fields)  # fmt: skip
    task.full_clean(exclude=_TASK_LINKS)
    try:
        with transaction.atomic():  # a savepoint: the same source at the same instant
            task.save()
    except IntegrityError:
        if not source_key:
            raise
        return Task.objects.get(source_key=source_key)
    contacts_next_step(contact_ids=[task.contact_id] if task.contact_id else [])
    _notify_assigned(org, task, by)
    audit_record(org=org, actor=by, action="task.created", target=task)
    return task


def _minute(when: datetime | None) -> datetime | None:
    return when.replace(second=0, microsecond=0) if when is not None else None


def may_change_task(membership: Membership | None, task: Task) -> bool:
    """Its assignee and its maker may change a task, and so may managers and admins."""
    return can(membership, "task.edit", task)


def _check_task(by: User | None, task: Task) -> None:
    membership = Membership.objects.filter(user=by).first() if by else None
    if membership is None or not may_change_task(membership, task):
        raise PermissionDenied("Only its assignee, its maker or a manager may change this task.")


@transaction.atomic
def task_update(*, org: Organization, task: Task, by: User | None, **fields: Any) -> Task:
    """Change a task. A new reminder time is a new reminder: it is sent again."""
    _check_task(by, task)
    unknown = set(fields) - TASK_EDITABLE
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    fields = _clean_task(fields)
    contact = fields.get("contact")
    if contact is not None and "company" not in fields and contact.company_id:
        fields["company"] = contact.company  # a task moved to a contact goes to their company
    before = {name: getattr(task, name) for name in fields}
    contacts = {task.contact_id}
    for name, value in fields.items():
        setattr(task, name, value)
    # The edit form gives whole minutes back: the same minute is the same reminder.
    if "reminder_at" in fields and _minute(fields["reminder_at"]) != _minute(before["reminder_at"]):
        task.reminded_at = None
    task.full_clean(exclude=_TASK_LINKS)
    task.save()
    contacts.add(task.contact_id)
    contacts_next_step(contact_ids=[pk for pk in contacts if pk])
    if "assignee" in fields and fields["assignee"] != before["assignee"]:
        _notify_assigned(org, task, by)
    changes = diff(before, fields)
    if changes:
        audit_record(org=org, actor=by, action="task.updated", target=task, changes=changes)
    return task


@transaction.atomic
def task_complete(*, org: Organization, task: Task, by: User | None, done: bool = True) -> Task:
    """Mark a task done (or open again, `done=False`)."""
    _check_task(by, task)
    status = Task.Status.DONE if done else Task.Status.OPEN
    if task.status == status:
        return task
    task.status = status
    task.completed_at = timezone.now() if done else None
    task.save(update_fields=["status", "completed_at", "updated_at"])
    contacts_next_step(contact_ids=[task.contact_id] if task.contact_id else [])
    action = "task.completed" if done else "task.reopened"
    audit_record(org=org, actor=by, action=action, target=task)
    return task


def snooze_until(choice: str, *, now: datetime) -> datetime | None:
    """When a snooze ends: "hour" (an hour from now), "tomorrow" (9:00 tomorrow), "week"
    (9:00 next Monday), in the current time zone; None for anything else."""
    local = timezone.localtime(now)
    morning = local.replace(hour=9, minute=0, second=0, microsecond=0)
    if choice == "hour":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        return morning + timedelta(days=1)
    if choice == "week":
        return morning + timedelta(days=7 - local.weekday())
    return None


@transaction.atomic
def task_snooze(*, org: Organization, task: Task, by: User | None, until: datetime) -> Task:
    """Put a task off until `until`; its reminder, if it has one, goes then too."""
    fields: dict[str, Any] = {"due_at": until}
    if task.reminder_at is not None:
        fields["reminder_at"] = until
    return task_update(org=org, task=task, by=by, **fields)


@transaction.atomic
def task_delete(*, org: Organization, task: Task, by: User | None) -> None:
    """Move a task to the Trash."""
    _check_task(by, task)
    records_trash(org=org, by=by, kind=registry.kind("task"), ids=[task.pk])
