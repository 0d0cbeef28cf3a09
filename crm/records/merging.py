"""Merging records of a kind into one, and undoing it.

A kind that can be merged declares a MergeSpec: the fields whose value a merge chooses,
and hooks for what it derives or combines. Whatever points at a record moves to the
survivor of a merge: every app registers the references it owns from its
AppConfig.ready(), so that no app's rows are left behind on a merged record:

    register_link("contact", Interaction, "contact")
    register_link("contact", SegmentMembership, "contact", unique_with=("segment",))

A link's rows move with one UPDATE per merge. Where a unique constraint would clash (a
tag on both records), `unique_with` names the other columns of that constraint: the rows
the survivor already has the like of are deleted, and kept in the merge so that undoing
it recreates them. A test fails while any reference to a mergeable kind is neither
registered nor a record's own `merged_into`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm.audit import audit_record, diff
from crm.models import Organization, User
from crm.records import registry
from crm.records.models import Merge
from crm.tenancy import TenantModel, require_org

Record = Any
Kind = registry.Kind

MAX_RECORDS = 10
# The field of a merged record that names its survivor: the merge's own bookkeeping.
MERGED_INTO = "merged_into"


@dataclass(frozen=True)
class MergeSpec:
    """What a kind's merge chooses, and what it works out for itself."""

    # The fields whose value a merge lets the user choose, in the order the comparison
    # shows them. Custom values are chosen per key as "custom_<key>", their form fields.
    fields: tuple[str, ...]
    # The labels the comparison and the undo page use where the field's own would not do.
    labels: dict[str, str] = field(default_factory=dict)
    # Copies of other rows' values, which a merge or an undo sets from those rows rather
    # than choosing or restoring them: derive(record) sets them, answers their names.
    derived: frozenset[str] = frozenset()
    derive: Callable[[Any], list[str]] | None = None
    # What the survivor keeps of every record without a choice: combine(records, chosen)
    # answers more {field: value} (a contact's other addresses and latest consent).
    combine: Callable[[Sequence[Any], dict[str, Any]], dict[str, Any]] | None = None
    # Refuses (ValidationError) values a record cannot keep, e.g. no name at all.
    check: Callable[[dict[str, Any]], None] | None = None
    # Runs after a merge and after its undo with the records' ids (a company's name copied
    # onto its contacts again).
    after: Callable[[Sequence[int]], None] | None = None
    # What the merge page says moves, and adds below the comparison.
    moves: str = "tags"
    note: str = ""


# --- The registry ------------------------------------------------------------------------

# What other apps keep of a kind's records and work out again after a merge and its undo,
# by kind: callables taking the records' ids (a contact's next step, from its tasks).
_after: dict[str, list[Callable[[Sequence[int]], None]]] = {}


def register_after_merge(record_kind: str, after: Callable[[Sequence[int]], None]) -> None:
    if after not in _after.setdefault(record_kind, []):
        _after[record_kind].append(after)


def _after_others(record_kind: str, ids: Sequence[int]) -> None:
    for after in _after.get(record_kind, []):
        after(ids)


@dataclass(frozen=True)
class Link:
    """A foreign key to a contact or a company whose rows follow a merge."""

    model: type[models.Model]
    field: str
    unique_with: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


_links: dict[str, dict[str, Link]] = {}


def register_link(
    record_kind: str, model: type[models.Model], field: str, unique_with: Sequence[str] = ()
) -> None:
    """Move `model` rows whose `field` points at a merged record of the kind to the survivor."""
    target = registry.kind(record_kind).model
    link = Link(model, field, tuple(unique_with))
    related = link.model._meta.get_field(link.field).related_model
    if not issubclass(link.model, TenantModel) or related is not target:
        raise ValueError(f"{link.key} is not a tenant row's reference to {target.__name__}.")
    found = _links.setdefault(record_kind, {})
    if found.get(link.key, link) != link:
        raise ValueError(f"{link.key} is already registered differently.")
    found[link.key] = link


def links(record_kind: str) -> list[Link]:
    return list(_links.get(record_kind, {}).values())


def unregistered_references() -> list[str]:
    """Every foreign key to a record of a mergeable kind that no merge would move."""
    registered = {key for found in _links.values() for key in found}
    targets = {kind.model for kind in registry.kinds() if kind.merge}
    return [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.related_model in targets
        and not (field.name == MERGED_INTO and field.related_model is model)
        and f"{model._meta.label}.{field.name}" not in registered
    ]


# --- Values ------------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _jsonable(value: Any) -> Any:
    """A value as the merge keeps it in JSON, exactly (no rounding of times)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


def _column(record: models.Model, name: str) -> Any:
    """A field's stored value: the id for a foreign key."""
    return getattr(record, record._meta.get_field(name).attname)  # type: ignore[union-attr]


def spec_of(kind: Kind) -> MergeSpec:
    if kind.merge is None:
        raise ValidationError(f"{kind.label} cannot be merged.")
    return kind.merge


def choice_names(kind: Kind, records: Sequence[Record]) -> list[str]:
    """The names a merge chooses a value for: the fields, then each custom key in use."""
    keys = (
        sorted({key for record in records for key in record.custom}) if kind.custom_fields else []
    )
    return [*spec_of(kind).fields, *(f"custom_{key}" for key in keys)]


def value_of(record: Record, name: str) -> Any:
    if name.startswith("custom_"):
        return record.custom.get(name.removeprefix("custom_"))
    return _column(record, name)


def default_source(records: Sequence[Record], name: str) -> Record:
    """The record whose value a field keeps unless chosen: the survivor's (first), or the
    first record that has one when the survivor's is empty."""
    return next((r for r in records if not _empty(value_of(r, name))), records[0])


def _surviving_values(
    kind: Kind, records: Sequence[Record], values: Mapping[str, int]
) -> dict[str, Any]:
    """{field: value} for the survivor (records[0]); ValidationError keyed by field."""
    spec = spec_of(kind)
    by_id = {record.pk: record for record in records}
    names = choice_names(kind, records)
    errors: dict[str, list[str]] = {}
    for name, source_id in values.items():
        if name not in names:
            errors.setdefault(name, []).append("This is not a value a merge can choose.")
        elif source_id not in by_id:
            errors.setdefault(name, []).append("Choose the value of one of the merged records.")
    if errors:
        raise ValidationError(errors)
    chosen = {
        name: value_of(by_id[values[name]] if name in values else default_source(records, name),
                       name)
        for name in names
    }  # fmt: skip
    custom = {n.removeprefix("custom_"): v for n, v in chosen.items() if n.startswith("custom_")}
    found = {name: value for name, value in chosen.items() if not name.startswith("custom_")}
    if kind.custom_fields:
        found["custom"] = {key: value for key, value in custom.items() if not _empty(value)}
    if spec.combine:
        found |= spec.combine(records, found)
    if spec.check:
        spec.check(found)
    return found


# --- Moving what points at the records ---------------------------------------------------


def _row_values(model: type[models.Model], rows: models.QuerySet[Any]) -> list[dict[str, Any]]:
    columns = [f.attname for f in model._meta.concrete_fields if not getattr(f, "generated", 0)]
    return [_jsonable(row) for row in rows.values(*columns)]


def _quoted(model: type[models.Model], field: str) -> tuple[str, str, str]:
    """The table, its primary key and the field's column, quoted for raw SQL."""
    q = connection.ops.quote_name
    pk, column = model._meta.pk, model._meta.get_field(field)
    assert pk is not None
    assert isinstance(column, models.Field)
    return q(model._meta.db_table), q(pk.column), q(column.column)


def _move(link: Link, survivor_id: int, merged_ids: list[int]) -> dict[str, Any]:
    """Point the link's rows at the survivor; delete those that would clash with its own."""
    model, manager = link.model, link.model._default_manager
    on_merged = manager.filter(**{f"{link.field}__in": merged_ids})
    deleted: list[dict[str, Any]] = []
    if link.unique_with:
        same = {name: OuterRef(name) for name in link.unique_with}
        survivor_has = manager.filter(**{link.field: survivor_id}, **same)
        earlier_has = on_merged.filter(pk__lt=OuterRef("pk"), **same)
        clashing = on_merged.filter(Exists(survivor_has) | Exists(earlier_has))
        deleted = _row_values(model, clashing)
        if deleted:
            pk_name = model._meta.pk.attname if model._meta.pk else "id"
            manager.filter(pk__in=[row[pk_name] for row in deleted]).delete()
    table, pk, column = _quoted(model, link.field)
    with connection.cursor() as cursor:
        # Bandit B608: the names come from the model's _meta, quoted; the values are parameters.
        cursor.execute(
            f"WITH moving AS (SELECT {pk} AS id, {column} AS from_id FROM {table} "  # noqa: S608  # nosec B608
            f"WHERE org_id = %s AND {column} = ANY(%s) FOR UPDATE) "
            f"UPDATE {table} AS t SET {column} = %s FROM moving WHERE t.{pk} = moving.id "
            "RETURNING moving.id, moving.from_id",
            [require_org().pk, merged_ids, survivor_id],
        )
        moved: dict[str, list[int]] = {}
        for row_id, from_id in cursor.fetchall():
            moved.setdefault(str(from_id), []).append(row_id)
    return {"moved": moved, "deleted": deleted} if moved or deleted else {}


def _move_back(key: str, done: dict[str, Any], survivor_id: int) -> None:
    """Undo one link's move: rows still on the survivor go back, deleted rows return."""
    label, field_name = key.rsplit(".", 1)
    model = apps.get_model(label)
    pairs = [(row_id, int(from_id)) for from_id, ids in done.get("moved", {}).items()
             for row_id in ids]  # fmt: skip
    table, pk, column = _quoted(model, field_name)
    if pairs:
        with connection.cursor() as cursor:
            # Bandit B608: the model and field must exist (get_model, get_field) and their
            # names come from _meta, quoted; the values are parameters.
            cursor.execute(
                f"UPDATE {table} AS t SET {column} = back.from_id "  # noqa: S608  # nosec B608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS back(id, from_id) "
                f"WHERE t.{pk} = back.id AND t.{column} = %s",
                [[p[0] for p in pairs], [p[1] for p in pairs], survivor_id],
            )
    rows = [
        model(**{name: model._meta.get_field(name).to_python(value) for name, value in row.items()})
        for row in done.get("deleted", [])
    ]
    model._default_manager.bulk_create(rows, ignore_conflicts=True)


# --- Merging -----------------------------------------------------------------------------


def _manager(kind: Kind) -> Any:
    return kind.model._default_manager


def _locked(kind: Kind, ids: Sequence[int]) -> list[Any]:
    """The records, locked in id order (so two merges cannot deadlock), in `ids`' order."""
    locked = _manager(kind).select_for_update().filter(pk__in=ids).order_by("pk")
    found = {r.pk: r for r in locked}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError("One of these records does not exist.")
    return [found[pk] for pk in ids]


def _check_mergeable(kind: Kind, survivor: Any, others: Sequence[Any]) -> list[int]:
    noun = kind.nouns
    if not all(isinstance(record, kind.model) for record in [survivor, *others]):
        raise ValidationError(f"Only {noun} can be merged with {noun}.")
    ids = list(dict.fromkeys([survivor.pk, *(record.pk for record in others)]))
    if not 2 <= len(ids) <= MAX_RECORDS:
        raise ValidationError(f"Choose between 2 and {MAX_RECORDS} {noun} to merge.")
    return ids


def _refuse_gone(kind: Kind, records: Sequence[Record]) -> None:
    for record in records:
        if record.merged_into_id is not None:
            raise ValidationError(f"{record} was already merged into another record.")
        if record.deleted_at is not None:
            raise ValidationError(f"{record} is in the Trash: restore it before merging.")
        if _erased(kind, record):
            raise ValidationError(f"{record}'s personal data was erased; it cannot be merged.")


def _erased(kind: Kind, record: Record) -> bool:
    return bool(kind.erased_field) and getattr(record, kind.erased_field) is not None


def _derive(kind: Kind, record: Record) -> list[str]:
    """Set the copies a record keeps of other rows (a contact's company name, for search)
    from those rows, as the services do; the names of the fields set. Being copies, they
    are never a merge's choice or change, so an undo never restores a stale one."""
    derive = spec_of(kind).derive
    return derive(record) if derive else []


@transaction.atomic
def records_merge(
    *, org: Organization, kind: Kind, survivor: Record, others: Sequence[Record],
    values: Mapping[str, int], by: User | None,
) -> Merge:  # fmt: skip
    """Merge records of a kind into `survivor`, each field keeping the value of the record
    chosen in `values` ({field: record id}; by default the survivor's, or the first one
    set), and move everything attached to them. Undone by merge_undo."""
    spec = spec_of(kind)
    ids = _check_mergeable(kind, survivor, others)
    records = _locked(kind, ids)
    _refuse_gone(kind, records)
    survivor, merged_ids = records[0], ids[1:]
    after: dict[str, Any] = _surviving_values(kind, records, values)
    before = {name: _jsonable(_column(survivor, name)) for name in after}
    for name, value in after.items():
        setattr(survivor, survivor._meta.get_field(name).attname, value)
    derived = _derive(kind, survivor)
    survivor.save(update_fields=[*after, *derived, "updated_at"])
    changes = diff(before, {name: _jsonable(value) for name, value in after.items()})
    moved = {
        link.key: done for link in links(kind.key) if (done := _move(link, survivor.pk, merged_ids))
    }
    now = timezone.now()
    _manager(kind).filter(pk__in=merged_ids).update(
        deleted_at=now, merged_into=survivor, updated_at=now
    )
    if spec.after:
        spec.after(ids)
    _after_others(kind.key, ids)
    merge = Merge.objects.create(
        org=org, record_kind=kind.key, survivor_id=survivor.pk, merged_ids=merged_ids,
        changes=changes, moved=moved, by=by, at=now,
    )  # fmt: skip
    audit_record(
        org=org, actor=by, action=f"{kind.key}.merged", target=survivor,
        changes={**changes, "merged": [None, merged_ids]},
    )  # fmt: skip
    for record in records[1:]:
        audit_record(
            org=org, actor=by, action=f"{kind.key}.merged_into", target=record,
            changes={"merged_into": [None, survivor.pk]},
        )  # fmt: skip
    return merge


# --- Undoing -----------------------------------------------------------------------------


def merge_kind(merge: Merge) -> Kind:
    return registry.kind(merge.record_kind)


def merge_undo_problem(merge: Merge, found: Mapping[int, Any] | None = None) -> str | None:
    """Why this merge can no longer be undone, or None when it can; `found` holds its
    records by id when the caller has read (and locked) them."""
    kind = merge_kind(merge)
    noun = kind.noun
    if merge.undone_at is not None:
        return "This merge was already undone."
    if found is None:
        ids = [merge.survivor_id, *merge.merged_ids]
        found = {r.pk: r for r in _manager(kind).filter(pk__in=ids)}
    survivor = found.get(merge.survivor_id)
    if survivor is None:
        return f"The {noun} it was merged into has been deleted for good."
    if any(_erased(kind, record) for record in found.values()):
        # Erasure reaches the merged records and what the merge kept: nothing to bring back.
        return f"The personal data of these {kind.nouns} was erased: the merge cannot be undone."
    if survivor.deleted_at is not None:
        where = "merged into another" if survivor.merged_into_id else "moved to the Trash"
        return f"{survivor} was {where} since; undo that first."
    if any(found.get(pk) is None or found[pk].merged_into_id != survivor.pk
           for pk in merge.merged_ids):  # fmt: skip
        return f"The merged {kind.nouns} have been deleted for good."
    later = Merge.objects.filter(
        record_kind=merge.record_kind, survivor_id=merge.survivor_id, undone_at__isnull=True,
        id__gt=merge.pk,
    )  # fmt: skip
    if later.exists():
        return f"More was merged into {survivor} since; undo that merge first."
    return None


def _restore(kind: Kind, record: Record, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Put back the fields a merge changed, unless they were edited since, and set the
    derived ones from what they copy."""
    restored: dict[str, list[Any]] = {}
    for name, (before, after) in changes.items():
        if name in spec_of(kind).derived:  # in merges recorded before it was derived
            continue
        field = record._meta.get_field(name)
        current = _jsonable(getattr(record, field.attname))
        if current == after:
            setattr(record, field.attname, field.to_python(before))
            restored[name] = [after, before]
    derived = _derive(kind, record)
    if restored or derived:
        record.save(update_fields=[*restored, *derived, "updated_at"])
    return restored


@transaction.atomic
def merge_undo(*, org: Organization, merge: Merge, by: User | None) -> Merge:
    """Undo a merge: the survivor's fields as they were (those not edited since), every
    moved row back on its record, the deleted clashing rows recreated, the records back."""
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    kind = merge_kind(merge)
    ids = [merge.survivor_id, *merge.merged_ids]
    # Locked before the checks, in id order as merges lock: a merge, trash or erasure of
    # these records under way either commits first and is seen here, or waits.
    locked = _manager(kind).select_for_update().filter(pk__in=ids).order_by("pk")
    found: dict[int, Any] = {record.pk: record for record in locked}
    problem = merge_undo_problem(merge, found)
    if problem:
        raise ValidationError(problem)
    records = [found[pk] for pk in ids]
    survivor = records[0]
    restored = _restore(kind, survivor, merge.changes)
    for key, done in merge.moved.items():
        _move_back(key, done, survivor.pk)
    _manager(kind).filter(pk__in=merge.merged_ids).update(
        deleted_at=None, merged_into=None, updated_at=timezone.now()
    )
    if kind.merge and kind.merge.after:
        kind.merge.after([survivor.pk, *merge.merged_ids])
    _after_others(kind.key, [survivor.pk, *merge.merged_ids])
    merge.undone_at, merge.undone_by = timezone.now(), by
    merge.save(update_fields=["undone_at", "undone_by"])
    audit_record(
        org=org, actor=by, action=f"{kind.key}.merge_undone", target=survivor,
        changes={**restored, "merged": [merge.merged_ids, None]},
    )  # fmt: skip
    for record in records[1:]:
        audit_record(
            org=org, actor=by, action=f"{kind.key}.unmerged", target=record,
            changes={"merged_into": [survivor.pk, None]},
        )  # fmt: skip
    return merge


def survivor_of(visible: models.QuerySet[Any], pk: int) -> Any:
    """The live record a merged-away one ended up in, following later merges; None unless
    every record on the way is among `visible` (the member's records of its kind) and the
    last one is not in the Trash."""
    record = visible.filter(pk=pk, merged_into__isnull=False).first()
    while record is not None and record.merged_into_id is not None:
        # Each hop is a later merge, which only a live record can take part in: no loop.
        record = visible.filter(pk=record.merged_into_id).first()
    return record if record is not None and record.deleted_at is None else None


def field_label(kind: Kind, name: str) -> str:
    """What the merge pages call a field: its declared label, else its own name."""
    spec = spec_of(kind)
    if name in spec.labels:
        return spec.labels[name]
    if name == "custom":
        return "Custom fields"
    if name in spec.derived:
        return ""
    return str(getattr(kind.model._meta.get_field(name), "verbose_name", name))


def merge_summary(merge: Merge, records: Mapping[int, Record]) -> dict[str, Any]:
    """What undoing a merge brings back, for its confirmation page; `records` are the
    merge's records that the member may see."""
    kind = merge_kind(merge)
    fields = [field_label(kind, name) for name in merge.changes]
    rows = []
    for key, done in merge.moved.items():
        model = apps.get_model(key.rsplit(".", 1)[0])
        moved = sum(len(ids) for ids in done.get("moved", {}).values())
        count = moved + len(done.get("deleted", []))
        noun = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
        rows.append(f"{count} {noun}")
    return {
        "survivor": records.get(merge.survivor_id),
        "merged": [records[pk] for pk in merge.merged_ids if pk in records],
        "hidden": sum(pk not in records for pk in merge.merged_ids),
        "fields": [label for label in fields if label],
        "rows": rows,
    }
