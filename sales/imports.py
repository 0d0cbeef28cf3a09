"""Importing deals: what their columns can fill, and what a deal's row carries besides its
fields (its pipeline, stage and lost reason by name, its primary contact by email, its
company by name), written as deal_create writes a deal: its amount in the base currency,
its times, and its first stage change.

An import only adds deals: its rows are matched to none (the match key "none"), so a file
with the same title twice adds two deals, as two deals may well share a title."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils import timezone

from contacts.imports import CONTACTS
from contacts.models import Contact
from crm.models import Organization
from crm.records.imports.fields import OWNER, TAGS, Target, email, text
from crm.records.imports.importer import Importer, Match
from crm.records.imports.plan import CHUNK, CREATE, REJECT, Plan, RowPlan
from crm.records.imports.services import Writer
from crm.records.models import ImportJob
from crm.staging import insert_records
from crm.tenancy import require_org
from sales import currencies
from sales.models import DealStageChange, LostReason, Pipeline, Stage
from sales.pipelines import pipelines_ensure
from sales.services import MAX_AMOUNT, deals_rebase

# --- Reading cells ------------------------------------------------------------------------

# A sign, up to four characters of currency before or after ("€", "USD", "HK$"), digits with
# their separators, and a closing parenthesis for accountants' negatives: "(1,200.00)".
_AMOUNT = re.compile(
    r"(?P<sign>[-(]?)[^\d.,()\-]{0,4}(?P<minus>-?)(?P<number>\d[\d.,]*|[.,]\d+)"
    r"[^\d.,()\-]{0,4}(?P<close>\)?)"
)
_SPACES = re.compile(r"[\s'’_]")  # thousands as people group them: 12 500, 12'500, 12_500
_CENT = Decimal("0.01")


def amount(cell: str) -> Decimal:
    """An amount as people write it: "12500", "12,500.00", "12.500,00", "€12 500"."""
    found = _AMOUNT.fullmatch(_SPACES.sub("", cell))
    if found is None:
        raise ValidationError(f"“{cell}” is not an amount, such as 12500.00.")
    number = _decimal_point(found["number"])
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValidationError(f"“{cell}” is not an amount, such as 12500.00.") from None
    if value and (found["sign"] or found["minus"] or found["close"]):
        raise ValidationError("An amount cannot be negative.")
    if value > MAX_AMOUNT:
        raise ValidationError("That amount is too large: check the digits.")
    if value != value.quantize(_CENT):
        raise ValidationError("Give the amount with two decimals at most.")
    return value.quantize(_CENT)


def _decimal_point(number: str) -> str:
    """The digits with "." as the decimal point and no thousands separators: the last
    separator is the decimal point, unless it is the only kind and is a thousands one
    ("1,250,000", "12,500")."""
    last = max(number.rfind("."), number.rfind(","))
    if last < 0:
        return number
    separator = number[last]
    if "." in number and "," in number:
        whole, fraction = number[:last], number[last + 1 :]
    elif number.count(separator) > 1 or (separator == "," and len(number) - last - 1 == 3):
        whole, fraction = number, ""
    else:
        whole, fraction = number[:last], number[last + 1 :]
    whole = whole.replace(",", "").replace(".", "")
    return f"{whole}.{fraction}" if fraction else whole


def currency(cell: str) -> str:
    code = cell.strip().upper()
    if not currencies.is_currency(code):
        raise ValidationError(
            f"“{cell}” is not a currency we know: use its ISO 4217 code, such as EUR or USD."
        )
    return code


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day(cell: str) -> date:
    """A date as yyyy-mm-dd (a date and time gives its date, as a workbook's cell may)."""
    text = cell.strip()
    try:
        if not _ISO_DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError(f"“{cell}” is not a date: write it as yyyy-mm-dd.") from None


def moment(cell: str) -> date | datetime:
    """A date (yyyy-mm-dd), or a date and time as an export writes it, with its offset or
    without (then in the organisation's time zone, when planned)."""
    text = cell.strip()
    if len(text) == 10:
        return day(text)
    try:
        if not _ISO_DAY.match(text):
            raise ValueError(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"“{cell}” is not a date and time: write it as yyyy-mm-dd or yyyy-mm-dd hh:mm."
        ) from None


# Kept in row.extra, resolved once every row is read (after_plan), not columns of a deal.
_NAMED = ("pipeline", "stage", "lost_reason", "contact", "company", "closed_at", "touched_at")

DEAL_TARGETS = [
    Target("title", "Title", text(200),
           ("title", "deal", "dealname", "dealtitle", "name", "opportunity",
            "opportunityname", "subject")),
    Target("pipeline", "Pipeline (by name)", text(100),
           ("pipeline", "pipelinename", "dealpipeline")),
    Target("stage", "Stage (by name)", text(100),
           ("stage", "dealstage", "stagename", "salesstage", "opportunitystage")),
    Target("amount", "Amount", amount,
           ("amount", "value", "dealvalue", "dealamount", "opportunityamount", "total")),
    Target("currency", "Currency (ISO 4217 code)", currency,
           ("currency", "currencycode", "dealcurrency", "amountcurrency", "valuecurrency")),
    Target("close_date", "Expected close", day,
           ("expectedclose", "expectedclosedate", "closedate", "closingdate",
            "expectedclosingdate", "estimatedclosedate")),
    Target("closed_at", "Closed (when won or lost)", moment,
           ("closed", "closedat", "closedon", "dateclosed", "wonat", "wontime", "wondate",
            "lostat", "losttime", "lostdate")),
    Target(OWNER.key, OWNER.label, OWNER.convert,
           (*OWNER.aliases, "dealowner", "opportunityowner")),
    Target("contact", "Primary contact (by email)", email,
           ("contactemail", "primarycontactemail", "email", "emailaddress", "personemail")),
    Target("company", "Company (by name; added if new)", text(200),
           ("company", "companyname", "organization", "organisation", "organizationname",
            "organisationname", "account", "accountname")),
    Target("source", "Source", text(100),
           ("source", "dealsource", "leadsource", "origin", "channel")),
    TAGS,
    Target("lost_reason", "Lost reason (by name)", text(100),
           ("lostreason", "reasonlost", "lossreason", "closedlostreason")),
    Target("lost_note", "Lost note", text(5000),
           ("lostnote", "lostcomment", "lostdetails", "closedlostnote")),
    Target("touched_at", "Last activity", moment,
           ("lastactivity", "lastactivitydate", "lastactivityat")),
]  # fmt: skip


# --- What the organisation has, read once for all the rows ---------------------------------


@dataclass
class _Book:
    """The organisation's pipelines, stages and lost reasons by name, and the contacts the
    rows name, by email: what the rows' names are looked up in."""

    pipelines: dict[str, Pipeline]
    first: Pipeline | None
    stages: dict[int, list[Stage]]
    reasons: dict[str, LostReason]
    contacts: dict[str, tuple[int, int | None]]  # email -> (contact, its company)

    @classmethod
    def read(cls, rows: list[RowPlan]) -> "_Book":
        pipelines = list(Pipeline.objects.order_by("position", "id"))
        stages: dict[int, list[Stage]] = {}
        for stage in Stage.objects.order_by("position", "id"):
            stages.setdefault(stage.pipeline_id, []).append(stage)
        reasons: dict[str, LostReason] = {}
        for reason in LostReason.objects.order_by("is_archived", "position", "id"):
            reasons.setdefault(reason.name.lower(), reason)
        return cls(
            pipelines={p.name.lower(): p for p in pipelines},
            first=next((p for p in pipelines if not p.is_archived), None),
            stages=stages,
            reasons=reasons,
            contacts=_contacts(sorted({r.extra["contact"] for r in rows if r.extra["contact"]})),
        )


def _contacts(emails: list[str]) -> dict[str, tuple[int, int | None]]:
    """The organisation's contacts with these (lowercase) emails; the oldest of several."""
    found: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(emails), CHUNK):
        rows = (
            Contact.objects.alive()
            .annotate(_key=Lower("email"))
            .filter(_key__in=emails[start : start + CHUNK])
            .order_by("-pk")  # the oldest wins: written last
            .values_list("_key", "pk", "company_id")
        )
        found.update({key: (pk, company) for key, pk, company in rows})
    return found


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:8])
    return f"{shown}, …" if len(names) > 8 else shown


# --- The importer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DealImporter(Importer):
    """A deal's row names its pipeline, stage and lost reason, its primary contact and its
    company; they are looked up once every row is read, and a row naming one the
    organisation does not have is refused, with what it has."""

    def check_mapping(self, chosen: set[str], mode: str) -> None:
        if mode == ImportJob.Mode.UPDATE:
            raise ValidationError(
                {"mode": "An import adds deals and updates none: choose to create new records."}
            )
        super().check_mapping(chosen, mode)

    def put(self, values: dict[str, Any], key: str, value: Any) -> bool:
        if key in _NAMED:
            values[key] = value
            return True
        return False

    def take_new(self, row: RowPlan, values: dict[str, Any]) -> None:
        row.extra = {name: values.pop(name, None) for name in _NAMED}

    def prepare(self, row: RowPlan, values: dict[str, Any], existing: dict[str, Any] | None,
                header: Callable[[str], str]) -> None:  # fmt: skip
        values["title"] = (values.get("title") or "").strip()
        for name in ("title", "source", "lost_note"):
            if "\x00" in (values.get(name) or ""):
                row.refuse(REJECT, header(name), "Remove the null characters from this text.")
        values.setdefault("currency", require_org().base_currency)
        row.extra["header"] = header  # for after_plan's messages, which name the column

    def after_plan(self, plan: Plan) -> None:
        """Look up what the rows name, and refuse those naming what the organisation has
        not; then the companies, found by name or added, as a contacts import does."""
        rows = [row for row in plan.rows if row.action == CREATE]
        if rows:
            org = require_org()
            pipelines_ensure(org=org)  # as the deals' pages do: the first pipeline
            book = _Book.read(rows)
            now = timezone.now()
            for row in rows:
                _resolve(row, book, org, now)
                if row.action == REJECT:
                    row.values, row.tags, row.extra = {}, [], {}
        CONTACTS.after_plan(plan)

    def totals(self, plan: Plan) -> dict[str, int]:
        return CONTACTS.totals(plan)

    def describe(self, record: dict[str, Any]) -> str:
        return record.get("title") or f"Deal {record['id']}"

    def write_first(self, writer: Writer) -> None:
        CONTACTS.write_first(writer)  # the companies the rows name and none has yet

    def new_record(self, writer: Writer, row: RowPlan, record: dict[str, Any]) -> None:
        """What deal_create sets besides the fields: the company added with the import, the
        times, its furthest stage, and the amount in the base currency (of another currency:
        write_last)."""
        extra = row.extra
        if extra.get("company"):
            record["company_id"] = writer.extra["company_of"][extra["company"].lower()][0]
        entered = extra["entered_at"] or writer.now
        record["stage_entered_at"] = entered
        record["closed_at"] = entered if extra["closes"] else None
        # Its history is the one stage it is added in: as far as it went (a lost one, none).
        record["furthest_stage_id"] = None if extra["lost"] else record["stage_id"]
        record["touched_at"] = extra["touched_at"] or writer.now
        base = record["currency"] == writer.org.base_currency
        record["amount_base"] = record.get("amount") if base else None

    def write_last(self, writer: Writer) -> None:
        """Each deal's first stage change, from nothing, by the member importing; the
        amounts in other currencies at their rates, as a change of rates revalues them."""
        insert_records(DealStageChange, (
            {"org_id": writer.org.pk, "deal_id": row.record_id, "from_stage_id": None,
             "to_stage_id": row.values["stage_id"], "from_name": "",
             "to_name": row.extra["stage_name"], "at": row.extra["entered_at"] or writer.now,
             "by_id": writer.job.created_by_id, "seconds_in_from": None}
            for row in writer.created
        ))  # fmt: skip
        others = {row.values["currency"] for row in writer.created if row.values.get("amount")}
        for code in sorted(others - {writer.org.base_currency}):
            deals_rebase(org=writer.org, currency=code)


def _resolve(row: RowPlan, book: _Book, org: Organization, now: datetime) -> None:
    """Put into row.values the ids of what the row names, and into row.extra when it
    entered its stage; refuse the row if it names what the organisation has not."""
    extra, values = row.extra, row.values
    header: Callable[[str], str] = extra["header"]
    pipeline = _pipeline(row, book, header)
    stage = _stage(row, book, pipeline, header) if pipeline else None
    if stage is None:
        return
    values["pipeline_id"], values["stage_id"] = stage.pipeline_id, stage.pk
    extra["stage_name"], extra["closes"] = stage.name, stage.is_closed
    extra["lost"] = stage.kind == Stage.Kind.LOST
    _lost(row, book, stage, header)
    zone = ZoneInfo(org.time_zone)
    closed = _when(extra["closed_at"], zone)
    extra["entered_at"] = None  # the time of writing
    if closed and not stage.is_closed:
        message = f"The deal is open (in {stage.name}): its closing date is left out."
        row.notes.append((header("closed_at"), message))
    elif closed and closed > now:
        row.refuse(REJECT, header("closed_at"), "A deal cannot have closed in the future.")
    elif closed:
        extra["entered_at"] = closed  # it has been in its won or lost stage since
    touched = _when(extra["touched_at"], zone)
    if touched and touched > now:
        row.refuse(REJECT, header("touched_at"), "The last activity cannot be in the future.")
    extra["touched_at"] = touched
    if extra["contact"]:
        found = book.contacts.get(extra["contact"])
        if found is None:
            row.notes.append((header("contact"), (
                f"No contact of this organisation has the email “{extra['contact']}”: the "
                "deal has no primary contact."
            )))  # fmt: skip
        else:
            values["contact_id"] = found[0]
            if not extra["company"] and found[1]:
                values["company_id"] = found[1]  # as deal_create: the contact's company


def _pipeline(row: RowPlan, book: _Book, header: Callable[[str], str]) -> Pipeline | None:
    name = row.extra["pipeline"]
    if not name:
        if book.first is None:
            row.refuse(REJECT, header("pipeline"), "Add a pipeline in Settings first.")
        return book.first
    found = book.pipelines.get(name.lower())
    if found is None or found.is_archived:
        names = [p.name for p in book.pipelines.values() if not p.is_archived]
        why = "is archived" if found else "is not a pipeline of this organisation"
        row.refuse(REJECT, header("pipeline"), f"“{name}” {why}: use one of {_listed(names)}.")
        return None
    return found


def _stage(row: RowPlan, book: _Book, pipeline: Pipeline,
           header: Callable[[str], str]) -> Stage | None:  # fmt: skip
    name = row.extra["stage"]
    stages = book.stages.get(pipeline.pk, [])
    if not name:
        first = next((s for s in stages if s.kind == Stage.Kind.OPEN and not s.is_archived), None)
        if first is None:
            row.refuse(
                REJECT, header("stage"), f"{pipeline} has no open stage: add one in Settings."
            )
        return first
    named = [s for s in stages if s.name.lower() == name.lower()]
    found = next((s for s in named if not s.is_archived), None)
    if found is None:
        names = [s.name for s in stages if not s.is_archived]
        why = "is archived" if named else "is not a stage of"
        row.refuse(REJECT, header("stage"),
                   f"“{name}” {why} {pipeline}: use one of {_listed(names)}.")  # fmt: skip
    return found


def _lost(row: RowPlan, book: _Book, stage: Stage, header: Callable[[str], str]) -> None:
    """A lost deal names why, from the organisation's list; an open or won one has no
    reason (as moving it there would leave none)."""
    name = row.extra["lost_reason"]
    if stage.kind != Stage.Kind.LOST:
        if name or row.values.get("lost_note"):
            row.values.pop("lost_note", None)
            row.notes.append((header("lost_reason" if name else "lost_note"),
                              f"Only a lost deal says why: left out ({stage.name})."))  # fmt: skip
        return
    found = book.reasons.get((name or "").lower())
    if found is not None and not found.is_archived:
        row.values["lost_reason_id"] = found.pk
        return
    names = _listed([r.name for r in book.reasons.values() if not r.is_archived])
    if not name:
        message = f"A lost deal needs a lost reason: give one of {names}."
    else:
        message = f"“{name}” is not a lost reason in use: give one of {names}."
    row.refuse(REJECT, header("lost_reason"), message)


def _when(value: date | datetime | None, zone: ZoneInfo) -> datetime | None:
    """A cell's moment as an aware time: a date is its start, a time without an offset is
    in the organisation's zone."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if timezone.is_aware(value) else timezone.make_aware(value, zone)


DEALS = DealImporter(
    targets=DEAL_TARGETS,
    match={"none": Match("", "nothing", "Nothing: each row adds a deal")},
    plain=("title", "amount", "currency", "close_date", "owner", "source", "lost_note"),
    needs=("title",),
    needs_message="Map a column to the deals' titles.",
    new_needs=("title",),
    new_needs_message="A deal needs a title.",
    new_needs_column="title",
    repr_fields=("title",),
    other_totals={"companies_created": "New companies"},
)
