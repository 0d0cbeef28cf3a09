"""Writes to many records of a kind at once, set-based, each record with its own History.

Bulk actions apply these (a kind may declare its own instead): one UPDATE or INSERT for
all the records, then one insert of an audit event per record that changed, so that every
record's History says what happened to it, as a change made on its page would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from crm.audit import audit_many, diff
from crm.models import Organization, User
from crm.records.search import among

if TYPE_CHECKING:
    from crm.records.registry import Kind

TRASH_DAYS = 30


def _records(kind: Kind, ids: list[int]) -> dict[int, Any]:
    """The records by id, read without the list's joins: what an event needs of them."""
    found = kind.model._default_manager.select_related(None).prefetch_related(None)
    return {record.pk: record for record in among(found.order_by("pk"), ids)}


def _changed(org: Organization, kind: Kind, ids: list[int]) -> None:
    if kind.changed is not None:
        kind.changed(org=org, ids=ids)


@transaction.atomic
def records_set(
    *, org: Organization, by: User | None, kind: Kind, ids: list[int], values: dict[str, Any]
) -> int:
    """Give the records these field values ({attname: value}); how many changed."""
    records = _records(kind, ids)
    changes: dict[int, dict[str, list[Any]]] = {}
    for pk, record in records.items():
        before = {name.removesuffix("_id"): getattr(record, name) for name in values}
        after = {name.removesuffix("_id"): value for name, value in values.items()}
        if change := diff(before, after):
            changes[pk] = change
    if not changes:
        return 0
    now = timezone.now()
    among(kind.model._default_manager.all(), list(changes)).update(**values, updated_at=now)
    audit_many(
        org=org, actor=by, action=f"{kind.key}.updated", model=kind.model,
        events=[(pk, str(records[pk]), change) for pk, change in changes.items()],
    )  # fmt: skip
    _changed(org, kind, list(changes))
    return len(changes)


@transaction.atomic
def records_trash(*, org: Organization, by: User | None, kind: Kind, ids: list[int]) -> int:
    """Move the records to the Trash, where they can be restored for TRASH_DAYS."""
    records = [r for r in _records(kind, ids).values() if r.deleted_at is None]
    if not records:
        return 0
    now = timezone.now()
    alive = among(kind.model._default_manager.all(), [r.pk for r in records])
    alive.update(deleted_at=now, updated_at=now)
    audit_many(
        org=org, actor=by, action=f"{kind.key}.trashed", model=kind.model,
        events=[(record.pk, str(record), {}) for record in records],
    )  # fmt: skip
    _changed(org, kind, [record.pk for record in records])
    return len(records)


@transaction.atomic
def records_restore(*, org: Organization, by: User | None, kind: Kind, ids: list[int]) -> int:
    """Bring records back from the Trash (not those merged into another: only undoing the
    merge brings them back)."""
    records = [
        r for r in _records(kind, ids).values()
        if r.deleted_at is not None and getattr(r, "merged_into_id", None) is None
    ]  # fmt: skip
    if not records:
        return 0
    trashed = among(kind.model._default_manager.all(), [r.pk for r in records])
    trashed.update(deleted_at=None, updated_at=timezone.now())
    audit_many(
        org=org, actor=by, action=f"{kind.key}.restored", model=kind.model,
        events=[(record.pk, str(record), {}) for record in records],
    )  # fmt: skip
    _changed(org, kind, [record.pk for record in records])
    return len(records)


def trash_cutoff(now: Any = None) -> Any:
    """Records deleted before this have been in the Trash long enough to go for good."""
    return (now or timezone.now()) - timedelta(days=TRASH_DAYS)


def _tag_names(kind: Kind, ids: list[int]) -> dict[int, list[str]]:
    assert kind.tags is not None
    links = kind.tags.link._default_manager.filter(**{f"{kind.tags.column}__in": ids})
    found: dict[int, list[str]] = {pk: [] for pk in ids}
    for record_id, name in links.values_list(kind.tags.column, "tag__name"):
        found[record_id].append(name)
    return found


@transaction.atomic
def records_tag(*, org: Organization, by: User | None, kind: Kind, ids: list[int], tag: Any) -> int:
    """Put `tag` on the records that lack it; how many changed."""
    assert kind.tags is not None
    link, column = kind.tags.link, kind.tags.column
    before = _tag_names(kind, ids)  # a tag's name is unique in its organisation
    new = [pk for pk in ids if tag.name not in before[pk]]
    link._default_manager.bulk_create(
        [link(org=org, tag=tag, **{column: pk}) for pk in new], ignore_conflicts=True
    )
    return _tags_changed(org, by, kind, new, before, lambda names: [*names, tag.name])


@transaction.atomic
def records_untag(
    *, org: Organization, by: User | None, kind: Kind, ids: list[int], tag: Any
) -> int:
    """Take `tag` off the records that have it; how many changed."""
    assert kind.tags is not None
    link, column = kind.tags.link, kind.tags.column
    links = link._default_manager.filter(tag=tag, **{f"{column}__in": ids})
    changed = list(links.values_list(column, flat=True))
    before = _tag_names(kind, changed)
    links.delete()
    return _tags_changed(
        org, by, kind, changed, before, lambda names: [n for n in names if n != tag.name]
    )


def _tags_changed(
    org: Organization, by: User | None, kind: Kind, ids: list[int],
    before: dict[int, list[str]], after: Any,
) -> int:  # fmt: skip
    if not ids:
        return 0
    among(kind.model._default_manager.all(), ids).update(updated_at=timezone.now())
    records = _records(kind, ids)
    audit_many(
        org=org, actor=by, action=f"{kind.key}.updated", model=kind.model,
        events=[
            (pk, str(records[pk]),
             {"tags": [sorted(before.get(pk, [])), sorted(after(before.get(pk, [])))]})
            for pk in ids if pk in records
        ],
    )  # fmt: skip
    return len(ids)
