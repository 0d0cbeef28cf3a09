"""Planning an import: what each row of a file would do, and why, without writing anything.

The dry run shows a plan; the commit makes the same plan again (the data may have changed
since) with the matched records locked, and applies it. So what the dry run says is what
the commit does.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from contacts.imports.fields import Target, targets
from contacts.imports.reading import Table, UnreadableFile
from contacts.models import Company, CompanyTag, Contact, ContactTag, CustomField, ImportJob
from contacts.services import normalise_phone
from crm.audit import diff
from crm.models import Membership

CREATE, UPDATE, UNCHANGED, SKIP, REJECT = "created", "updated", "unchanged", "skipped", "rejected"
OUTCOMES = (CREATE, UPDATE, UNCHANGED, SKIP, REJECT)
# The report keeps this many problems; the totals count them all.
PROBLEMS_KEPT = 1_000
CHUNK = 5_000

Progress = Callable[[int], None]

# match_by -> (the column that must be mapped, what the report calls it)
MATCH_BY: dict[str, dict[str, tuple[str, str]]] = {
    "contact": {"email": ("email", "email"), "external_id": ("external_id", "external ID")},
    "company": {
        "domain": ("domain", "domain"),
        "name": ("name", "name"),
        "external_id": ("external_id", "external ID"),
    },
}
MATCH_CHOICES: dict[str, list[tuple[str, str]]] = {
    "contact": [("email", "Email address"), ("external_id", "External ID")],
    "company": [("domain", "Website domain"), ("name", "Name"), ("external_id", "External ID")],
}
# Fields an import writes, besides custom values, consent, tags and the company.
_PLAIN = {
    "contact": [
        "first_name", "last_name", "email", "phone", "job_title", "lifecycle", "source",
        "owner", "street", "city", "region", "postal_code", "country", "preferred_channel",
        "language", "external_id",
    ],
    "company": [
        "name", "domain", "industry", "size", "owner", "street", "city", "region",
        "postal_code", "country", "external_id",
    ],
}  # fmt: skip


@dataclass(slots=True)
class RowPlan:
    """What one row of the file does, with the values it writes and the problems it has."""

    number: int
    action: str = CREATE
    record_id: int | None = None
    # A creation: every field given. An update: the fields that change, with new values.
    values: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)  # tag names to add
    company: str = ""  # a contact's company, by name
    consent: dict[str, bool] = field(default_factory=dict)  # purposes that change
    changes: dict[str, list[Any]] = field(default_factory=dict)  # an update's before and after
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)

    def refuse(self, action: str, column: str, message: str) -> None:
        self.action = action
        self.problems.append((column, message))


@dataclass
class Plan:
    entity: str
    rows: list[RowPlan]
    # Companies that rows of a contacts import name, by lower-cased name: the existing
    # ones (id and name), and the new ones to create (with the name as first written).
    companies: dict[str, tuple[int, str]] = field(default_factory=dict)
    new_companies: dict[str, str] = field(default_factory=dict)

    def totals(self) -> dict[str, int]:
        counted = Counter(row.action for row in self.rows)
        found = {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}
        found["rows"] = len(self.rows)
        if self.entity == "contact":
            found["companies_created"] = len(self.new_companies)
        return found

    def problems(self, limit: int = PROBLEMS_KEPT) -> list[list[Any]]:
        found: list[list[Any]] = []
        for row in self.rows:
            for column, message in row.problems:
                if len(found) == limit:
                    return found
                found.append([row.number, column, message, row.action])
        return found


def check_mapping(entity: str, headers: list[str], mapping: list[str], mode: str,
                  match_by: str) -> None:  # fmt: skip
    """Refuse a mapping that cannot work, before any row is read: ValidationError."""
    known = targets(entity)
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
    if match_by not in MATCH_BY[entity]:
        raise ValidationError(f"“{match_by}” is not a way to match {entity} records.")
    needed, noun = MATCH_BY[entity][match_by]
    if mode != ImportJob.Mode.CREATE and needed not in chosen:
        raise ValidationError(
            {"match_by": f"To update existing records by {noun}, map a column to {noun}."}
        )
    if entity == "contact" and not {"email", "first_name", "last_name", "full_name"} & set(chosen):
        raise ValidationError("Map at least a name or an email column.")
    if entity == "company" and mode != ImportJob.Mode.UPDATE and "name" not in chosen:
        raise ValidationError("Map a column to the company name.")


def plan_import(
    *, job: ImportJob, table: Table, visible: QuerySet[Any], owner_id: int | None,
    lock: bool = False, progress: Progress | None = None,
) -> Plan:  # fmt: skip
    """The plan for every row of `table` as the job maps it, matched against `visible`
    (the records the importing member may see); `lock` locks the matched records."""
    known = targets(job.entity)
    columns = [
        (index, header, known[key])
        for index, (header, key) in enumerate(zip(job.headers, job.mapping, strict=True))
        if key
    ]
    members = {
        email.lower(): user_id
        for user_id, email in Membership.objects.values_list("user_id", "user__email")
    }
    context = _Context(
        entity=job.entity,
        custom={f.key: f for f in CustomField.objects.filter(entity=job.entity)},
        owner_id=owner_id,
        headers={key: header for header, key in zip(job.headers, job.mapping, strict=True) if key},
    )
    rows: list[RowPlan] = []
    given: list[dict[str, Any]] = []
    for row, values in _read(table, columns, members, progress):
        rows.append(row)
        given.append(values)
    plan = Plan(job.entity, rows)
    _match(plan, given, job, visible, lock)
    for row, values in zip(rows, given, strict=True):
        if row.action == CREATE:
            _creation(row, values, context)
        elif row.action == UPDATE:
            _update(row, values, context)
    if job.entity == "contact":
        _companies(plan)
    return plan


@dataclass
class _Context:
    entity: str
    custom: dict[str, CustomField]
    owner_id: int | None
    headers: dict[str, str]  # target -> the header of the column mapped to it

    def header(self, target: str) -> str:
        return self.headers.get(target) or target.replace("_", " ").capitalize()


# --- Reading the cells --------------------------------------------------------------------


def _read(
    table: Table, columns: list[tuple[int, str, Target]], members: dict[str, int],
    progress: Progress | None,
) -> Iterator[tuple[RowPlan, dict[str, Any]]]:  # fmt: skip
    limit = settings.IMPORT_MAX_ROWS
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
                _put(values, target, target.convert(cell), members)
            except ValidationError as error:
                row.problems.append((header, " ".join(error.messages)))
        full = values.pop("full_name", None)
        if full:
            values.setdefault("first_name", full[0])
            values.setdefault("last_name", full[1])
        if row.problems:
            row.action = REJECT
        if progress and count % 1_000 == 0:
            progress(count)
        yield row, values


def _put(values: dict[str, Any], target: Target, value: Any, members: dict[str, int]) -> None:
    key = target.key
    if key == "owner":
        if value not in members:
            raise ValidationError(f"No member of this organisation has the email “{value}”.")
        values["owner_id"] = members[value]
    elif key.startswith("custom_"):
        if value is not None:
            values.setdefault("custom", {})[key.removeprefix("custom_")] = value
    elif key.startswith("consent_"):
        values.setdefault("consent", {})[key.removeprefix("consent_")] = value
    elif target.many:
        values.setdefault(key, []).extend(value)
    else:
        values[key] = value


# --- Matching rows to records -------------------------------------------------------------


def _key(entity: str, match_by: str, values: dict[str, Any]) -> str:
    field_name = MATCH_BY[entity][match_by][0]
    value = values.get(field_name) or ""
    return value.lower() if match_by == "name" else value


def _match(
    plan: Plan, given: list[dict[str, Any]], job: ImportJob, visible: QuerySet[Any], lock: bool
) -> None:
    column, noun = MATCH_BY[job.entity][job.match_by]
    header = dict(zip(job.mapping, job.headers, strict=True)).get(column, noun)
    first_row: dict[str, int] = {}
    keys: set[str] = set()
    for row, values in zip(plan.rows, given, strict=True):
        if row.action == REJECT:
            continue
        key = _key(job.entity, job.match_by, values)
        if key and key in first_row:
            row.refuse(
                SKIP, header, f"Same {noun} as row {first_row[key]}: only that row is imported."
            )
        elif key:
            first_row[key] = row.number
            keys.add(key)
        elif job.mode == ImportJob.Mode.UPDATE:
            row.refuse(SKIP, header, f"No {noun} to find the record to update by.")
    existing = _existing(job, visible, keys, lock)
    kind = "contact" if job.entity == "contact" else "company"
    for row, values in zip(plan.rows, given, strict=True):
        if row.action != CREATE:
            continue
        found = existing.get(_key(job.entity, job.match_by, values), [])
        if len(found) > 1:
            row.refuse(
                REJECT, header,
                f"{len(found)} {kind} records have this {noun}: merge them, or match by "
                "another column.",
            )  # fmt: skip
        elif found and job.mode == ImportJob.Mode.CREATE:
            row.refuse(
                SKIP, header, f"A {kind} with this {noun} exists already (#{found[0]['id']})."
            )
        elif found and found[0].get("erased_at"):
            row.refuse(SKIP, header, f"This {kind}'s personal data was erased: it is not updated.")
        elif found:
            row.action, row.record_id = UPDATE, found[0]["id"]
            values["_existing"] = found[0]
        elif job.mode == ImportJob.Mode.UPDATE:
            row.refuse(SKIP, header, f"No {kind} has this {noun}: nothing to update.")


def _existing(
    job: ImportJob, visible: QuerySet[Any], keys: Iterable[str], lock: bool
) -> dict[str, list[dict[str, Any]]]:
    """The visible records whose match column holds one of `keys`, by key, with what an
    update compares: every field it may write, the custom values, consent and tags."""
    model = Contact if job.entity == "contact" else Company
    column = MATCH_BY[job.entity][job.match_by][0]
    wanted = [*_PLAIN[job.entity], "custom", "country"]
    wanted = [f"{name}_id" if name == "owner" else name for name in wanted]
    if job.entity == "contact":
        wanted += ["other_emails", "other_phones", "consent", "company_id", "company_name",
                   "erased_at"]  # fmt: skip
    keys = sorted(keys)
    found: dict[str, list[dict[str, Any]]] = {}
    # Names are compared lower-cased; emails, domains and ids are stored as they are matched.
    lowered = job.match_by == "name"
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = visible.filter(deleted_at__isnull=True).annotate(
            _key=Lower(column) if lowered else F(column)
        )
        rows = rows.filter(_key__in=chunk) if lowered else rows.filter(**{f"{column}__in": chunk})
        if lock:
            rows = rows.select_for_update(of=("self",))
        for record in rows.order_by("pk").values("id", "_key", *wanted):
            found.setdefault(record["_key"], []).append(record)
    _with_tags(model, found)
    return found


def _with_tags(
    model: type[Contact] | type[Company], found: dict[str, list[dict[str, Any]]]
) -> None:
    by_id = {record["id"]: record for records in found.values() for record in records}
    for record in by_id.values():
        record["tags"] = []
    ids = sorted(by_id)
    link, column = (ContactTag, "contact_id") if model is Contact else (CompanyTag, "company_id")
    for start in range(0, len(ids), CHUNK):
        links = link.objects.filter(**{f"{column}__in": ids[start : start + CHUNK]})
        for record_id, name in links.values_list(column, "tag__name"):
            by_id[record_id]["tags"].append(name)


def _companies(plan: Plan) -> None:
    """Find the companies the rows name, by name in any case; the others are new."""
    names: dict[str, str] = {}
    for row in plan.rows:
        if row.company and row.action in (CREATE, UPDATE):
            names.setdefault(row.company.lower(), row.company)
    wanted = sorted(names)
    for start in range(0, len(wanted), CHUNK):
        found = (
            Company.objects.alive()
            .annotate(_key=Lower("name"))
            .filter(_key__in=wanted[start : start + CHUNK])
            .order_by("-pk")  # the oldest wins: written last below
            .values_list("_key", "pk", "name")
        )
        plan.companies.update({key: (pk, name) for key, pk, name in found})
    plan.new_companies = {k: v for k, v in names.items() if k not in plan.companies}


# --- Deciding what a row writes -----------------------------------------------------------


def _creation(row: RowPlan, values: dict[str, Any], context: _Context) -> None:
    company = values.pop("company", "")
    tags = values.pop("tags", [])
    consent = values.pop("consent", {})
    values.setdefault("owner_id", context.owner_id)
    _normalise_phones(row, values, values.get("country", ""), context)
    given = values.get("custom", {})
    for field_def in context.custom.values():
        if field_def.required and field_def.key not in given:
            header = context.header(f"custom_{field_def.key}")
            row.refuse(REJECT, header, f"{field_def.label} is required for a new record.")
    if context.entity == "contact" and not (
        values.get("first_name") or values.get("last_name") or values.get("email")
    ):
        row.refuse(REJECT, context.header("email"), "A new contact needs a name or an email.")
    if context.entity == "company" and not values.get("name"):
        row.refuse(REJECT, context.header("name"), "A new company needs a name.")
    if row.action != REJECT:
        row.values, row.company, row.tags, row.consent = values, company, _unique(tags), consent


def _update(row: RowPlan, values: dict[str, Any], context: _Context) -> None:
    """Keep what changes: an empty cell leaves a value as it is, lists and tags only grow,
    custom values and consent change only for the keys and purposes the file gives."""
    existing = values.pop("_existing")
    _normalise_phones(row, values, values.get("country") or existing["country"], context)
    if row.action == REJECT:
        return
    new: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _NOT_PLAIN and existing.get(name) != value:
            new[name] = value
    for name, primary in (("other_emails", "email"), ("other_phones", "phone")):
        have = {*existing[name], new.get(primary, existing[primary])} if name in existing else set()
        added = [v for v in _unique(values.get(name, [])) if v not in have]
        if added:
            new[name] = existing[name] + added
    if values.get("custom"):
        merged = {**existing["custom"], **values["custom"]}
        if merged != existing["custom"]:
            new["custom"] = merged
    current = existing.get("consent", {})
    row.consent = {
        purpose: granted
        for purpose, granted in values.get("consent", {}).items()
        if current.get(purpose, {}).get("granted") is not granted
    }
    company = values.get("company", "")
    if company and company.lower() != (existing.get("company_name") or "").lower():
        row.company = company
    have_tags = {name.lower() for name in existing["tags"]}
    row.tags = [name for name in _unique(values.get("tags", [])) if name.lower() not in have_tags]
    row.values = new
    row.changes = diff(
        {_field(n): existing.get(n) for n in new}, {_field(n): v for n, v in new.items()}
    )
    # Filled in when applied, once the company's id and the new consent are known.
    if row.tags:
        row.changes["tags"] = [sorted(existing["tags"]), sorted([*existing["tags"], *row.tags])]
    if row.company:
        row.changes["company"] = [existing["company_id"], None]
    if row.consent:
        row.changes["consent"] = [current, None]
    if not row.changes:
        row.action = UNCHANGED


# Written by their own steps, not compared as plain fields.
_NOT_PLAIN = frozenset({"company", "tags", "consent", "custom", "other_emails", "other_phones"})


def _field(name: str) -> str:
    """The model field a value's key writes: owner_id is the owner field."""
    return name.removesuffix("_id") if name == "owner_id" else name


def _normalise_phones(
    row: RowPlan, values: dict[str, Any], country: str, context: _Context
) -> None:
    """Phone numbers in E.164, read with the row's country (or the record's)."""
    try:
        if values.get("phone"):
            values["phone"] = normalise_phone(values["phone"], country=country)
    except ValidationError as error:
        row.refuse(REJECT, context.header("phone"), " ".join(error.messages))
    try:
        if values.get("other_phones"):
            values["other_phones"] = [
                normalise_phone(p, country=country) for p in values["other_phones"]
            ]
    except ValidationError as error:
        row.refuse(REJECT, context.header("other_phones"), " ".join(error.messages))


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())
