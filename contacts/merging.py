"""Merging duplicate contacts or companies into one, and undoing it.

Whatever points at a contact or a company moves to the survivor of a merge. Every app
registers the references it owns from its AppConfig.ready(), so that no app's rows are
left behind on a merged record:

    register_contact_link(Interaction, "contact")
    register_contact_link(SegmentMembership, "contact", unique_with=("segment",))

A link's rows move with one UPDATE per merge. Where a unique constraint would clash (a
tag on both records), `unique_with` names the other columns of that constraint: the rows
the survivor already has the like of are deleted, and kept in the merge so that undoing
it recreates them. A test fails while any reference to a contact or a company is neither
registered nor listed in NOT_MOVED.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from contacts.models import Company, Contact, Merge, RecordKind
from crm.audit import audit_record, diff
from crm.models import Organization, User
from crm.tenancy import TenantModel, require_org

Record = Contact | Company
Kind = type[Contact] | type[Company]

MAX_RECORDS = 10
# What a merge lets the user choose per field, in the order the comparison shows them.
# Custom values are chosen per key as "custom_<key>", the name of their form fields.
FIELDS: dict[str, tuple[str, ...]] = {
    RecordKind.CONTACT: (
        "first_name", "last_name", "email", "phone", "job_title", "company", "lifecycle",
        "owner", "source", "preferred_channel", "language", "street", "city", "region",
        "postal_code", "country", "external_id",
    ),
    RecordKind.COMPANY: (
        "name", "domain", "industry", "size", "owner", "street", "city", "region",
        "postal_code", "country", "external_id",
    ),
}  # fmt: skip
# Copies of other rows' values, set from them after a merge or an undo (see _derive).
DERIVED = frozenset({"company_name"})
# References that stay where they are: the merge's own bookkeeping.
NOT_MOVED = frozenset(
    {
        "contacts.Contact.merged_into",
        "contacts.Company.merged_into",
        "contacts.DuplicatePair.contact_a",
        "contacts.DuplicatePair.contact_b",
        "contacts.DuplicatePair.company_a",
        "contacts.DuplicatePair.company_b",
    }
)


# --- The registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A foreign key to a contact or a company whose rows follow a merge."""

    model: type[models.Model]
    field: str
    unique_with: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


_links: dict[str, dict[str, Link]] = {RecordKind.CONTACT: {}, RecordKind.COMPANY: {}}


def _register(entity: str, target: type[models.Model], link: Link) -> None:
    field = link.model._meta.get_field(link.field)
    if not issubclass(link.model, TenantModel) or field.related_model is not target:
        raise ValueError(f"{link.key} is not a tenant row's reference to {target.__name__}.")
    if _links[entity].get(link.key, link) != link:
        raise ValueError(f"{link.key} is already registered differently.")
    _links[entity][link.key] = link


def register_contact_link(
    model: type[models.Model], field: str, unique_with: Sequence[str] = ()
) -> None:
    """Move `model` rows whose `field` points at a merged contact to the survivor."""
    _register(RecordKind.CONTACT, Contact, Link(model, field, tuple(unique_with)))


def register_company_link(
    model: type[models.Model], field: str, unique_with: Sequence[str] = ()
) -> None:
    """Move `model` rows whose `field` points at a merged company to the survivor."""
    _register(RecordKind.COMPANY, Company, Link(model, field, tuple(unique_with)))


def links(entity: str) -> list[Link]:
    return list(_links[entity].values())


def unregistered_references() -> list[str]:
    """Every foreign key to a contact or a company that no merge would move."""
    registered = {key for found in _links.values() for key in found} | NOT_MOVED
    return [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.related_model in (Contact, Company)
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


def choice_names(entity: str, records: Sequence[Contact | Company]) -> list[str]:
    """The names a merge chooses a value for: the fields, then each custom key in use."""
    keys = sorted({key for record in records for key in record.custom})
    return [*FIELDS[entity], *(f"custom_{key}" for key in keys)]


def value_of(record: Contact | Company, name: str) -> Any:
    if name.startswith("custom_"):
        return record.custom.get(name.removeprefix("custom_"))
    return _column(record, name)


def default_source(records: Sequence[Record], name: str) -> Record:
    """The record whose value a field keeps unless chosen: the survivor's (first), or the
    first record that has one when the survivor's is empty."""
    return next((r for r in records if not _empty(value_of(r, name))), records[0])


def _surviving_values(
    entity: str, records: Sequence[Record], values: Mapping[str, int]
) -> dict[str, Any]:
    """{field: value} for the survivor (records[0]); ValidationError keyed by field."""
    by_id = {record.pk: record for record in records}
    names = choice_names(entity, records)
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
    found["custom"] = {key: value for key, value in custom.items() if not _empty(value)}
    if entity == RecordKind.CONTACT:
        found |= _contact_extras(records, found)  # type: ignore[arg-type]
        if not (found["first_name"] or found["last_name"] or found["email"]):
            raise ValidationError({"first_name": "Keep at least a name or an email address."})
    elif not found["name"]:
        raise ValidationError({"name": "Keep a name for the company."})
    return found


def _contact_extras(contacts: Sequence[Contact], found: dict[str, Any]) -> dict[str, Any]:
    """What a merged contact keeps of everyone without a choice: the other addresses and
    numbers, the latest consent per purpose, the latest interaction."""
    emails = {e for c in contacts for e in [c.email, *c.other_emails] if e} - {found["email"]}
    phones = [p for c in contacts for p in [c.phone, *c.other_phones] if p]
    consent: dict[str, Any] = {}
    for contact in contacts:
        for purpose, state in contact.consent.items():
            latest = consent.get(purpose, {})
            if purpose not in consent or str(state.get("at", "")) > str(latest.get("at", "")):
                consent[purpose] = state
    times = [c.last_interaction_at for c in contacts if c.last_interaction_at]
    return {
        "other_emails": sorted(emails),
        "other_phones": [p for p in dict.fromkeys(phones) if p != found["phone"]],
        "consent": consent,
        "last_interaction_at": max(times) if times else None,
    }


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
        cursor.execute(
            f"WITH moving AS (SELECT {pk} AS id, {column} AS from_id FROM {table} "  # noqa: S608 - quoted names
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
            cursor.execute(
                f"UPDATE {table} AS t SET {column} = back.from_id "  # noqa: S608 - quoted names
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


def _locked(kind: Kind, ids: Sequence[int]) -> list[Any]:
    """The records, locked in id order (so two merges cannot deadlock), in `ids`' order."""
    found = {r.pk: r for r in kind.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError("One of these records does not exist.")
    return [found[pk] for pk in ids]


def _check_mergeable(kind: Kind, survivor: Any, others: Sequence[Any]) -> list[int]:
    noun = kind._meta.verbose_name_plural
    if not all(isinstance(record, kind) for record in [survivor, *others]):
        raise ValidationError(f"Only {noun} can be merged with {noun}.")
    ids = list(dict.fromkeys([survivor.pk, *(record.pk for record in others)]))
    if not 2 <= len(ids) <= MAX_RECORDS:
        raise ValidationError(f"Choose between 2 and {MAX_RECORDS} {noun} to merge.")
    return ids


def _refuse_gone(records: Sequence[Contact | Company]) -> None:
    for record in records:
        if record.merged_into_id is not None:
            raise ValidationError(f"{record} was already merged into another record.")
        if record.deleted_at is not None:
            raise ValidationError(f"{record} is in the Trash: restore it before merging.")
        if getattr(record, "erased_at", None) is not None:
            raise ValidationError(f"{record}'s personal data was erased; it cannot be merged.")


def _merge(
    *, org: Organization, kind: Kind, survivor: Record, others: Sequence[Record],
    values: Mapping[str, int], by: User | None,
) -> Merge:  # fmt: skip
    entity = RecordKind.CONTACT if kind is Contact else RecordKind.COMPANY
    ids = _check_mergeable(kind, survivor, others)
    records = _locked(kind, ids)
    _refuse_gone(records)
    survivor, merged_ids = records[0], ids[1:]
    after: dict[str, Any] = _surviving_values(entity, records, values)
    before = {name: _jsonable(_column(survivor, name)) for name in after}
    for name, value in after.items():
        setattr(survivor, survivor._meta.get_field(name).attname, value)  # type: ignore[union-attr]
    derived = _derive(survivor)
    survivor.save(update_fields=[*after, *derived, "updated_at"])
    changes = diff(before, {name: _jsonable(value) for name, value in after.items()})
    moved = {
        link.key: done for link in links(entity) if (done := _move(link, survivor.pk, merged_ids))
    }
    now = timezone.now()
    kind.objects.filter(pk__in=merged_ids).update(
        deleted_at=now, merged_into=survivor, updated_at=now
    )
    if kind is Company:
        _sync_company_names(ids)
    merge = Merge.objects.create(
        org=org, entity=entity, survivor_id=survivor.pk, merged_ids=merged_ids, changes=changes,
        moved=moved, by=by, at=now,
    )  # fmt: skip
    audit_record(
        org=org, actor=by, action=f"{entity}.merged", target=survivor,
        changes={**changes, "merged": [None, merged_ids]},
    )  # fmt: skip
    for record in records[1:]:
        audit_record(
            org=org, actor=by, action=f"{entity}.merged_into", target=record,
            changes={"merged_into": [None, survivor.pk]},
        )  # fmt: skip
    return merge


def _derive(record: Record) -> list[str]:
    """Set the copies a record keeps of other rows (a contact's company name, for search)
    from those rows, as the services do; the names of the fields set. Being copies, they
    are never a merge's choice or change, so an undo never restores a stale one."""
    if not isinstance(record, Contact):
        return []
    record.company_name = record.company.name if record.company else ""
    return list(DERIVED)


def _sync_company_names(company_ids: Sequence[int]) -> None:
    """Copy each company's name onto its contacts again (search reads it from there)."""
    name = Company.objects.filter(pk=OuterRef("company_id")).values("name")[:1]
    Contact.objects.filter(company_id__in=company_ids).update(company_name=Subquery(name))


@transaction.atomic
def contacts_merge(
    *, org: Organization, survivor: Contact, others: Sequence[Contact],
    values: Mapping[str, int], by: User | None,
) -> Merge:  # fmt: skip
    """Merge contacts into `survivor`, each field keeping the value of the record chosen in
    `values` ({field: contact id}; by default the survivor's, or the first one set), and
    move everything attached to them. Undone by merge_undo."""
    return _merge(org=org, kind=Contact, survivor=survivor, others=others, values=values, by=by)


@transaction.atomic
def companies_merge(
    *, org: Organization, survivor: Company, others: Sequence[Company],
    values: Mapping[str, int], by: User | None,
) -> Merge:  # fmt: skip
    """Merge companies into `survivor`, as contacts_merge does; their contacts move too."""
    return _merge(org=org, kind=Company, survivor=survivor, others=others, values=values, by=by)


# --- Undoing -----------------------------------------------------------------------------


def merge_kind(merge: Merge) -> type[Contact] | type[Company]:
    return Contact if merge.entity == RecordKind.CONTACT else Company


def merge_undo_problem(merge: Merge, found: Mapping[int, Any] | None = None) -> str | None:
    """Why this merge can no longer be undone, or None when it can; `found` holds its
    records by id when the caller has read (and locked) them."""
    kind = merge_kind(merge)
    noun = kind._meta.verbose_name
    if merge.undone_at is not None:
        return "This merge was already undone."
    if found is None:
        ids = [merge.survivor_id, *merge.merged_ids]
        found = {r.pk: r for r in kind.objects.filter(pk__in=ids)}
    survivor = found.get(merge.survivor_id)
    if survivor is None:
        return f"The {noun} it was merged into has been deleted for good."
    if any(getattr(record, "erased_at", None) for record in found.values()):
        # Erasure reaches the merged records and what the merge kept: nothing to bring back.
        nouns = kind._meta.verbose_name_plural
        return f"The personal data of these {nouns} was erased: the merge cannot be undone."
    if survivor.deleted_at is not None:
        where = "merged into another" if survivor.merged_into_id else "moved to the Trash"
        return f"{survivor} was {where} since; undo that first."
    if any(found.get(pk) is None or found[pk].merged_into_id != survivor.pk
           for pk in merge.merged_ids):  # fmt: skip
        return f"The merged {kind._meta.verbose_name_plural} have been deleted for good."
    later = Merge.objects.filter(
        entity=merge.entity, survivor_id=merge.survivor_id, undone_at__isnull=True, id__gt=merge.pk
    )
    if later.exists():
        return f"More was merged into {survivor} since; undo that merge first."
    return None


def _restore(record: Contact | Company, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Put back the fields a merge changed, unless they were edited since, and set the
    derived ones from what they copy."""
    restored: dict[str, list[Any]] = {}
    for name, (before, after) in changes.items():
        if name in DERIVED:  # in merges recorded before it was derived: set below instead
            continue
        field = record._meta.get_field(name)
        current = _jsonable(getattr(record, field.attname))  # type: ignore[union-attr]
        if current == after:
            setattr(record, field.attname, field.to_python(before))  # type: ignore[union-attr]
            restored[name] = [after, before]
    derived = _derive(record)
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
    locked = kind.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    found: dict[int, Any] = {record.pk: record for record in locked}
    problem = merge_undo_problem(merge, found)
    if problem:
        raise ValidationError(problem)
    records = [found[pk] for pk in ids]
    survivor = records[0]
    restored = _restore(survivor, merge.changes)
    for key, done in merge.moved.items():
        _move_back(key, done, survivor.pk)
    kind.objects.filter(pk__in=merge.merged_ids).update(
        deleted_at=None, merged_into=None, updated_at=timezone.now()
    )
    if kind is Company:
        _sync_company_names([survivor.pk, *merge.merged_ids])
    merge.undone_at, merge.undone_by = timezone.now(), by
    merge.save(update_fields=["undone_at", "undone_by"])
    audit_record(
        org=org, actor=by, action=f"{merge.entity}.merge_undone", target=survivor,
        changes={**restored, "merged": [merge.merged_ids, None]},
    )  # fmt: skip
    for record in records[1:]:
        audit_record(
            org=org, actor=by, action=f"{merge.entity}.unmerged", target=record,
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


_EXTRA_LABELS = {"custom": "Custom fields", "company_name": "", "lifecycle": "Stage"}


def merge_summary(merge: Merge, records: Mapping[int, Contact | Company]) -> dict[str, Any]:
    """What undoing a merge brings back, for its confirmation page; `records` are the
    merge's records that the member may see."""
    kind = merge_kind(merge)
    fields = [
        _EXTRA_LABELS.get(name, str(getattr(kind._meta.get_field(name), "verbose_name", name)))
        for name in merge.changes
    ]
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
