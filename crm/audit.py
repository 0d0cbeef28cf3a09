"""The audit log: services record every write that matters through `audit_record`."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from crm.models import AuditEvent, Organization, User
from crm.staging import insert_records

_request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
# What erasing a person's data leaves of a value in the audit log (and elsewhere).
ERASED = "[erased]"
# Past this many events at once, they are copied in (crm.staging) rather than inserted.
COPY_FROM = 10_000


@contextmanager
def request_ip(ip: str | None) -> Iterator[None]:
    """Attribute the audit events written inside the block to this client address."""
    token = _request_ip.set(ip or None)
    try:
        yield
    finally:
        _request_ip.reset(token)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        field: [_plain(before.get(field)), _plain(value)]
        for field, value in after.items()
        if _plain(before.get(field)) != _plain(value)
    }


def audit_record(
    *,
    org: Organization,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `action` to `target`, with {field: [before, after]} changes."""
    return AuditEvent.objects.create(
        org=org,
        actor=actor if actor and actor.pk else None,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        changes=_plain(changes or {}),
        ip=_request_ip.get(),
    )


def audit_many(
    *,
    org: Organization,
    actor: User | None,
    action: str,
    model: type[models.Model],
    events: Iterable[tuple[Any, str, dict[str, Any]]],
) -> int:
    """Record `action` on many rows of `model` at once: one event per (pk, repr, changes),
    written set-based whatever their number (one INSERT, or COPY for an import's many).
    How many were written."""
    ip, actor_id = _request_ip.get(), actor.pk if actor and actor.pk else None
    rows = [
        {"org_id": org.pk, "actor_id": actor_id, "action": action,
         "object_type": model._meta.label_lower, "object_id": str(pk),
         "object_repr": text[:200], "changes": _plain(changes), "ip": ip}
        for pk, text, changes in events
    ]  # fmt: skip
    if len(rows) > COPY_FROM:
        return insert_records(AuditEvent, rows)
    AuditEvent.objects.bulk_create([AuditEvent(**row) for row in rows])
    return len(rows)


def audit_erase(events: models.QuerySet[AuditEvent], *, shown_as: str) -> int:
    """Erase what these events say about someone: each change becomes [ERASED, ERASED]
    under the same field, and the record is shown as `shown_as`. The only change the
    database lets the app make to an event (crm migration 0005). How many events."""
    found = list(events)
    for event in found:
        event.changes = {field: [ERASED, ERASED] for field in event.changes}
        event.object_repr = shown_as
    AuditEvent.objects.bulk_update(found, ["changes", "object_repr"])
    return len(found)


# What the last part of an action code says, in words (History, the audit log's filter).
VERBS = {
    "created": "Added",
    "updated": "Changed",
    "trashed": "Moved to the Trash",
    "deleted": "Deleted",
    "restored": "Restored from the Trash",
    "merge_undone": "Merge undone",
    "unmerged": "Brought back from a merge",
    "erased": "Personal data erased",
    "personal_data_exported": "Personal data exported",
    "consent_changed": "Consent changed",
    "duplicate_dismissed": "Marked as not a duplicate",
    "role_changed": "Role changed",
    "uploaded": "File uploaded",
    "committed": "Imported",
    "discarded": "Discarded",
    "undone": "Undone",
    "purged": "Cleared out",
    "accepted": "Accepted",
    "revoked": "Revoked",
    "removed": "Removed",
    "permissions_updated": "Permissions changed",
    "security_updated": "Security settings changed",
    "visibility_updated": "Who sees what changed",
    "moved": "Moved to another stage",
    "won": "Won",
    "lost": "Lost",
    "reopened": "Reopened",
}
