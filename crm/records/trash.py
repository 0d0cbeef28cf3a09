"""The Trash of every kind whose records are deleted softly (their model has `deleted_at`):
what a member may restore, and the nightly purge of what has been there TRASH_DAYS.

Moving to the Trash and restoring are crm.records.services.records_trash/records_restore.
"""

from datetime import timedelta
from typing import Any

from django.db import models, transaction

from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.permissions import can
from crm.records import registry
from crm.records.duplicates import pairs_forget
from crm.records.registry import Kind
from crm.records.services import TRASH_DAYS, records_restore, trash_cutoff

# The Trash page lists this many records of a kind, most recently deleted first.
SHOWN = 200


def _has_field(kind: Kind, name: str) -> bool:
    return any(field.name == name for field in kind.model._meta.concrete_fields)


def trashed(kind: Kind, membership: Membership) -> models.QuerySet[Any]:
    """The records of a kind in the member's Trash. A merged record is gone for the user
    too, but it is no Trash to restore from: only undoing its merge brings it back."""
    found = kind.every_visible(membership).filter(deleted_at__isnull=False)
    if _has_field(kind, "merged_into"):
        found = found.filter(merged_into__isnull=True)
    if kind.owner_field and _has_field(kind, kind.owner_field):
        found = found.select_related(kind.owner_field)
    return found.order_by("-deleted_at", "-pk")


def trash_restore(
    *, org: Organization, by: User | None, kind: Kind, membership: Membership, ids: list[int]
) -> int:
    """Bring back those of these records that are in the member's Trash; how many."""
    found = trashed(kind, membership).filter(pk__in=ids).select_related(None)
    return records_restore(org=org, by=by, kind=kind, ids=list(found.values_list("pk", flat=True)))


def trash_sections(membership: Membership) -> list[dict[str, Any]]:
    """The Trash page: a section per kind the member may see, its rows as (record, owner,
    when it goes for good)."""
    sections = []
    for kind in registry.kinds():
        if not kind.has_trash or not can(membership, kind.action("view")):
            continue
        owner = kind.owner_field if kind.owner_field and _has_field(kind, kind.owner_field) else ""
        records = list(trashed(kind, membership)[:SHOWN])
        sections.append({
            "kind": kind,
            "rows": [
                (record, getattr(record, owner) if owner else None, purge_on(record.deleted_at))
                for record in records
            ],
            "can_restore": can(membership, kind.action("edit")),
        })  # fmt: skip
    return sections


def purge_on(deleted_at: Any) -> Any:
    """When a record deleted at this time is deleted for good (by the first purge after)."""
    return deleted_at + timedelta(days=TRASH_DAYS)


def _delete(*, org: Organization, kind: Kind, ids: list[int]) -> None:
    kind.model._default_manager.filter(pk__in=ids).delete()


@transaction.atomic
def trash_purge(*, org: Organization, now: Any = None) -> dict[str, int]:
    """Delete for good, kind by kind, what has been in the Trash for more than TRASH_DAYS
    (merged records too: their merge can no longer be undone); how many of each kind.
    A kind with more to delete than its rows declares `purge`."""
    cutoff = trash_cutoff(now)
    purged: dict[str, int] = {}
    for kind in registry.kinds():
        if not kind.has_trash:
            continue
        expired = kind.model._default_manager.filter(deleted_at__lt=cutoff)
        ids = list(expired.order_by("pk").values_list("pk", flat=True))
        if ids:
            pairs_forget(kind=kind, ids=ids)
            (kind.purge or _delete)(org=org, kind=kind, ids=ids)
            audit_record(
                org=org, actor=None, action=f"{kind.key}.purged",
                changes={"count": [None, len(ids)]},
            )  # fmt: skip
        purged[kind.key] = len(ids)
    return purged
