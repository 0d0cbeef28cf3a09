"""Writes to interactions: logging, editing and deleting one. Every one is audited."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contacts.models import Company, Contact
from crm.audit import audit_record, diff
from crm.models import Membership, Organization, User
from crm.permissions import can
from crm.records import registry
from crm.records.services import records_trash
from crm.tasks import enqueue
from interactions import html_body
from interactions.models import Interaction

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


def _touch(interaction: Interaction) -> None:
    """Move the contact's last interaction forward to this one, never back. One UPDATE,
    so that two interactions logged at once cannot put it back either."""
    if interaction.contact_id is None or interaction.is_automatic:
        return  # an auto-reply or a bounce is no sign of a live conversation
    when = interaction.occurred_at
    later = Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=when)
    # .update() leaves updated_at alone: an edit in progress on the contact stays valid.
    Contact.objects.filter(pk=interaction.contact_id).filter(later).update(last_interaction_at=when)


@transaction.atomic
def interaction_log(
    *, org: Organization, by: User | None, channel: str, direction: str,
    occurred_at: datetime | None = None, contact: Contact | None = None,
    company: Company | None = None, **fields: Any,
) -> Interaction:  # fmt: skip
    """Log an interaction; `by` is its author unless `author` says otherwise (None for what
    arrives on its own). A message already logged (same external id) is returned as it is."""
    now = timezone.now()
    fields = _clean({"channel": channel, "occurred_at": occurred_at, **fields}, now=now)
    external_id = fields.get("external_id") or ""
    if external_id:
        existing = Interaction.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    if contact is not None and company is None and contact.company_id:
        company = contact.company  # the company's timeline shows its people's too
    fields.setdefault("author", by)
    interaction = Interaction(org=org, direction=direction, contact=contact, company=company,
                              **{**fields, "occurred_at": occurred_at or now})  # fmt: skip
    interaction.full_clean(exclude=["org", "author", "contact", "company", "search_text"])
    interaction.save()
    _touch(interaction)
    audit_record(org=org, actor=by, action="interaction.logged", target=interaction)
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
    interaction.full_clean(exclude=["org", "author", "contact", "company", "search_text"])
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
