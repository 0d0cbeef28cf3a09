"""Planning an import: what each row of a file would do, and why, without writing anything.

The dry run shows a plan; the commit makes the same plan again (the data may have changed
since) with the matched records locked, and applies it. So what the dry run says is what
the commit does. What differs between kinds comes from the kind's Importer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from crm.audit import diff
from crm.models import Membership
from crm.records import registry
from crm.records.custom_fields import definitions
from crm.records.imports.fields import Target, targets
from crm.records.imports.reading import Table, UnreadableFile
from crm.records.models import CustomField, ImportJob

if TYPE_CHECKING:
    from crm.records.imports.importer import Importer
    from crm.records.registry import Kind

CREATE, UPDATE, UNCHANGED, SKIP, REJECT = "created", "updated", "unchanged", "skipped", "rejected"
OUTCOMES = (CREATE, UPDATE, UNCHANGED, SKIP, REJECT)
# The report keeps this many problems; the totals count them all.
PROBLEMS_KEPT = 1_000
CHUNK = 5_000

Progress = Callable[[int], None]


def importer_of(kind: Kind) -> Importer:
    if kind.imports is None:
        raise ValidationError(f"{kind.label} cannot be imported.")
    return kind.imports


@dataclass(slots=True)
class RowPlan:
    """What one row of the file does, with the values it writes and the problems it has."""

    number: int
    action: str = CREATE
    record_id: int | None = None
    # A creation: every field given. An update: the fields that change, with new values.
    values: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # tag names to add
    # What the kind's importer keeps for writing: a contact's company by name, its consent.
    extra: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, list[Any]] = field(default_factory=dict)  # an update's before and after
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    # What was done instead of what a cell asked, without refusing the row: (column, message).
    notes: list[tuple[str, str]] = field(default_factory=list)

    def refuse(self, action: str, column: str, message: str) -> None:
        self.action = action
        self.problems.append((column, message))


@dataclass
class Plan:
    kind: Kind
    rows: list[RowPlan]
    # What the kind's importer found for all the rows (the companies a contacts import names).
    extra: dict[str, Any] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        counted = Counter(row.action for row in self.rows)
        found = {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}
        found["rows"] = len(self.rows)
        return found | importer_of(self.kind).totals(self)

    def problems(self, limit: int = PROBLEMS_KEPT) -> list[list[Any]]:
        found: list[list[Any]] = []
        for row in self.rows:
            for column, message in (*row.problems, *row.notes):
                if len(found) == limit:
                    return found
                found.append([row.number, column, message, row.action])
        return found


def check_mapping(kind: Kind, headers: list[str], mapping: list[str], mode: str,
                  match_by: str) -> None:  # fmt: skip
    """Refuse a mapping that cannot work, before any row is read: ValidationError."""
    importer, known = importer_of(kind), targets(kind)
    if len(mapping) != len(headers):
        raise ValidationError("Map every column of the file, or leave it out.")
    chosen = [key for key in mapping if key]
    unknown = [key for key in chosen if key not in known]
    if unknown:
        raise ValidationError(f"“{unknown[0]}” is not a field you can import into.")
    twice = [key for key, n in Counter(chosen).items() if n > 1 and not known[key].many]
    if twice:
        raise ValidationError(f"Only one column can fill {known[twice[0]].label}.")
    if mode not in ImportJob.Mode.values:
        raise ValidationError(f"“{mode}” is not an import mode.")
    if match_by not in importer.match:
        raise ValidationError(f"“{match_by}” is not a way to match {kind.noun} records.")
    match = importer.match[match_by]
    if mode != ImportJob.Mode.CREATE and match.field and match.field not in chosen:
        raise ValidationError(
            {"match_by": f"To update existing records by {match.noun}, map a column to "
                         f"{match.noun}."}
        )  # fmt: skip
    importer.check_mapping(set(chosen), mode)


def plan_import(
    *, job: ImportJob, table: Table, visible: QuerySet[Any], owner_id: int | None,
    lock: bool = False, progress: Progress | None = None,
) -> Plan:  # fmt: skip
    """The plan for every row of `table` as the job maps it, matched against `visible`
    (the records the importing member may see); `lock` locks the matched records."""
    kind = registry.kind(job.record_kind)
    importer, known = importer_of(kind), targets(kind)
    columns = [
        (index, header, known[key])
        for index, (header, key) in enumerate(zip(job.headers, job.mapping, strict=True))
        if key
    ]
    members = {
        email.lower(): user_id
        for user_id, email in Membership.objects.values_list("user_id", "user__email")
    }
    context = Context(
        kind=kind,
        custom={f.key: f for f in definitions(kind.key)} if kind.custom_fields else {},
        owner_id=owner_id,
        headers={key: header for header, key in zip(job.headers, job.mapping, strict=True) if key},
    )
    rows: list[RowPlan] = []
    given: list[dict[str, Any]] = []
    for row, values in _read(importer, table, columns, members, progress):
        rows.append(row)
        given.append(values)
    plan = Plan(kind, rows)
    _match(plan, given, job, visible, lock)
    for row, values in zip(rows, given, strict=True):
        if row.action == CREATE:
            _creation(row, values, context)
        elif row.action == UPDATE:
            _update(row, values, context)
    importer.after_plan(plan)
    return plan


@dataclass
class Context:
    kind: Kind
    custom: dict[str, CustomField]
    owner_id: int | None
    headers: dict[str, str]  # target -> the header of the column mapped to it

    def header(self, target: str) -> str:
        return self.headers.get(target) or target.replace("_", " ").capitalize()


# --- Reading the cells --------------------------------------------------------------------


def _read(
    importer: Importer, table: Table, columns: list[tuple[int, str, Target]],
    members: dict[str, int], progress: Progress | None,
) -> Iterator[tuple[RowPlan, dict[str, Any]]]:  # fmt: skip
    limit = settings.IMPORT_MAX_ROWS
    splits = [target for _, _, target in columns if target.splits_into]
    for count, (number, cells) in enumerate(table.rows(), start=1):
        if count > limit:
            raise UnreadableFile(
                f"The file has more than {limit:,} rows: split it into several imports."
            )
        row, values = RowPlan(number), dict[str, Any]()
        for index, header, target in columns:
            cell = cells[index]
            if not cell:
                continue
            try:
                _put(importer, values, target, target.convert(cell), members)
            except _Instead as note:
                row.notes.append((header, note.message))
            except ValidationError as error:
                row.problems.append((header, " ".join(error.messages)))
        for target in splits:  # a full name fills the first and last names not given apart
            parts = values.pop(target.key, None)
            for name, part in zip(target.splits_into, parts or (), strict=False):
                values.setdefault(name, part)
        if row.problems:
            row.action = REJECT
        if progress and count % 1_000 == 0:
            progress(count)
        yield row, values


class _Instead(Exception):
    """A cell that cannot be followed, and what the row does instead (the row goes on)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _put(importer: Importer, values: dict[str, Any], target: Target, value: Any,
         members: dict[str, int]) -> None:  # fmt: skip
    key = target.key
    if key == "owner":
        if value not in members:  # our own export, imported into another organisation
            raise _Instead(
                f"No member of this organisation has the email “{value}”: a new record is "
                "yours, and an existing one keeps its owner."
            )
        values["owner_id"] = members[value]
    elif key.startswith("custom_"):
        if value is not None:
            values.setdefault("custom", {})[key.removeprefix("custom_")] = value
    elif importer.put(values, key, value):
        return
    elif target.many:
        values.setdefault(key, []).extend(value)
    else:
        values[key] = value


# --- Matching rows to records -------------------------------------------------------------


def _key(importer: Importer, match_by: str, values: dict[str, Any]) -> str:
    match = importer.match[match_by]
    value = values.get(match.field) or ""
    return value.lower() if match.lowered else value


def _match(
    plan: Plan, given: list[dict[str, Any]], job: ImportJob, visible: QuerySet[Any], lock: bool
) -> None:
    kind = plan.kind
    importer = importer_of(kind)
    match = importer.match[job.match_by]
    header = dict(zip(job.mapping, job.headers, strict=True)).get(match.field, match.noun)
    noun = match.noun
    first_row: dict[str, int] = {}
    keys: set[str] = set()
    for row, values in zip(plan.rows, given, strict=True):
        if row.action == REJECT:
            continue
        key = _key(importer, job.match_by, values)
        if key and key in first_row:
            row.refuse(
                SKIP, header, f"Same {noun} as row {first_row[key]}: only that row is imported."
            )
        elif key:
            first_row[key] = row.number
            keys.add(key)
        elif job.mode == ImportJob.Mode.UPDATE:
            row.refuse(SKIP, header, f"No {noun} to find the record to update by.")
    existing = _existing(kind, job.match_by, visible, keys, lock)
    for row, values in zip(plan.rows, given, strict=True):
        if row.action != CREATE:
            continue
        found = existing.get(_key(importer, job.match_by, values), [])
        if len(found) > 1:
            row.refuse(
                REJECT, header,
                f"{len(found)} {kind.noun} records have this {noun}: merge them, or match by "
                "another column.",
            )  # fmt: skip
        elif found and job.mode == ImportJob.Mode.CREATE:
            row.refuse(
                SKIP, header, f"A {kind.noun} with this {noun} exists already (#{found[0]['id']})."
            )
        elif found and kind.erased_field and found[0].get(kind.erased_field):
            row.refuse(
                SKIP, header, f"This {kind.noun}'s personal data was erased: it is not updated."
            )
        elif found:
            row.action, row.record_id = UPDATE, found[0]["id"]
            values["_existing"] = found[0]
        elif job.mode == ImportJob.Mode.UPDATE:
            row.refuse(SKIP, header, f"No {kind.noun} has this {noun}: nothing to update.")


def _existing(
    kind: Kind, match_by: str, visible: QuerySet[Any], keys: Iterable[str], lock: bool
) -> dict[str, list[dict[str, Any]]]:
    """The visible records whose match column holds one of `keys`, by key, with what an
    update compares: every field it may write, the custom values and the tags."""
    importer = importer_of(kind)
    match = importer.match[match_by]
    wanted = list(dict.fromkeys([*importer.existing_fields(), *importer.repr_fields]))
    if kind.custom_fields:
        wanted.append("custom")
    if kind.erased_field:
        wanted.append(kind.erased_field)
    keys = sorted(keys)
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = (
            visible.select_related(None)
            .prefetch_related(None)
            .annotate(_key=Lower(match.field) if match.lowered else F(match.field))
        )
        rows = (
            rows.filter(_key__in=chunk) if match.lowered
            else rows.filter(**{f"{match.field}__in": chunk})
        )  # fmt: skip
        if lock:
            rows = rows.select_for_update(of=("self",))
        for record in rows.order_by("pk").values("id", "_key", *wanted):
            found.setdefault(record["_key"], []).append(record)
    _with_tags(kind, found)
    return found


def _with_tags(kind: Kind, found: dict[str, list[dict[str, Any]]]) -> None:
    by_id = {record["id"]: record for records in found.values() for record in records}
    for record in by_id.values():
        record["tags"] = []
    if kind.tags is None:
        return
    ids = sorted(by_id)
    link, column = kind.tags.link, kind.tags.column
    for start in range(0, len(ids), CHUNK):
        links = link._default_manager.filter(**{f"{column}__in": ids[start : start + CHUNK]})
        for record_id, name in links.values_list(column, "tag__name"):
            by_id[record_id]["tags"].append(name)


# --- Deciding what a row writes -----------------------------------------------------------


def _creation(row: RowPlan, values: dict[str, Any], context: Context) -> None:
    importer = importer_of(context.kind)
    tags = values.pop("tags", [])
    importer.take_new(row, values)
    if context.kind.owner_field:
        values.setdefault("owner_id", context.owner_id)
    importer.prepare(row, values, None, context.header)
    given = values.get("custom", {})
    for field_def in context.custom.values():
        if field_def.required and field_def.key not in given:
            header = context.header(f"custom_{field_def.key}")
            row.refuse(REJECT, header, f"{field_def.label} is required for a new record.")
    if importer.new_needs and not any(values.get(name) for name in importer.new_needs):
        row.refuse(REJECT, context.header(importer.new_needs_column), importer.new_needs_message)
    if row.action != REJECT:
        row.values, row.tags = values, _unique(tags)
    else:
        row.extra = {}


def _update(row: RowPlan, values: dict[str, Any], context: Context) -> None:
    """Keep what changes: an empty cell leaves a value as it is, lists and tags only grow,
    custom values change only for the keys the file gives."""
    importer = importer_of(context.kind)
    existing = values.pop("_existing")
    importer.prepare(row, values, existing, context.header)
    if row.action == REJECT:
        return
    tags = values.pop("tags", [])
    importer.take_changes(row, values, existing)
    lists = dict(importer.lists)
    new: dict[str, Any] = {}
    for name, value in values.items():
        if name not in lists and name != "custom" and existing.get(name) != value:
            new[name] = value
    for name, primary in importer.lists:
        have = {*existing[name], new.get(primary, existing[primary])}
        added = [v for v in _unique(values.get(name, [])) if v not in have]
        if added:
            new[name] = existing[name] + added
    if values.get("custom"):
        merged = {**existing["custom"], **values["custom"]}
        if merged != existing["custom"]:
            new["custom"] = merged
    have_tags = {name.lower() for name in existing["tags"]}
    row.tags = [name for name in _unique(tags) if name.lower() not in have_tags]
    row.values = new
    # The changes the importer recorded come after the plain fields', as they always have.
    extra_changes, row.changes = row.changes, {}
    row.changes = diff(
        {_field(n): existing.get(n) for n in new}, {_field(n): v for n, v in new.items()}
    )
    if row.tags:
        row.changes["tags"] = [sorted(existing["tags"]), sorted([*existing["tags"], *row.tags])]
    row.changes |= extra_changes
    if not row.changes:
        row.action = UNCHANGED


def _field(name: str) -> str:
    """The model field a value's key writes: owner_id is the owner field."""
    return name.removesuffix("_id") if name == "owner_id" else name


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())
