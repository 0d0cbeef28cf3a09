"""Writes to the organisation's sales set-up: pipelines and their stages, lost reasons and
exchange rates (Settings → Pipelines). Every one is audited."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from crm.audit import audit_record, diff
from crm.db import advisory_lock
from crm.models import Organization, User
from sales import currencies
from sales.models import Deal, ExchangeRate, LostReason, Pipeline, Stage
from sales.services import deals_rebase

# A new organisation's first pipeline: (name, probability, kind).
DEFAULT_STAGES = (
    ("Qualification", 10, Stage.Kind.OPEN),
    ("Discovery", 25, Stage.Kind.OPEN),
    ("Proposal", 50, Stage.Kind.OPEN),
    ("Negotiation", 75, Stage.Kind.OPEN),
    ("Won", 100, Stage.Kind.WON),
    ("Lost", 0, Stage.Kind.LOST),
)
DEFAULT_LOST_REASONS = ("Price", "Chose a competitor", "No budget", "No decision", "Timing")


@transaction.atomic
def pipeline_create(
    *, org: Organization, by: User | None, name: str, stale_days: int = 14,
    stages: tuple[tuple[str, int, str], ...] = DEFAULT_STAGES,
) -> Pipeline:  # fmt: skip
    """Add a pipeline, last, with these stages (by default: qualification to won or lost)."""
    name = _clean_name(name, "pipeline")
    if not 1 <= stale_days <= 365:
        raise ValidationError({"stale_days": "Give a whole number of days, from 1 to 365."})
    if Pipeline.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a pipeline called “{name}”."})
    pipeline = Pipeline(org=org, name=name, stale_days=stale_days,
                        position=Pipeline.objects.count())  # fmt: skip
    _save_unique(pipeline, name, "pipeline")
    Stage.objects.bulk_create([
        Stage(org=org, pipeline=pipeline, name=stage, probability=chance, kind=kind, position=i)
        for i, (stage, chance, kind) in enumerate(stages)
    ])  # fmt: skip
    audit_record(org=org, actor=by, action="pipeline.created", target=pipeline)
    return pipeline


def pipelines_ensure(*, org: Organization) -> None:
    """Give an organisation without a pipeline its first one, and the usual lost reasons:
    what the deals' pages need before anyone has been to Settings."""
    if Pipeline.objects.exists():
        return
    with transaction.atomic():
        advisory_lock(f"sales.pipelines_ensure:{org.pk}")  # two first visits at once
        if Pipeline.objects.exists():
            return
        pipeline_create(org=org, by=None, name="Sales pipeline")
        if not LostReason.objects.exists():
            LostReason.objects.bulk_create([
                LostReason(org=org, name=name, position=i)
                for i, name in enumerate(DEFAULT_LOST_REASONS)
            ])  # fmt: skip


# --- Checks shared by the services below ----------------------------------------------------

MAX_RATE = Decimal("1000000")  # no currency is worth a million of another: a typo
RATE_PLACES = Decimal("0.00000001")  # what ExchangeRate.rate keeps
EARLIEST_RATE = date(1970, 1, 1)
RATE_LEAD_DAYS = 366  # a rate may be set ahead, for a year at most


def _clean_name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": f"Give the {what} a name."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name to 100 characters."})
    return name


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _save_unique(row: Any, name: str, what: str) -> None:
    """Save `row`, whose name is unique in the organisation by a constraint: a concurrent
    save of the same name becomes the form's error rather than a 500."""
    try:
        with transaction.atomic():  # a savepoint, so the request's transaction lives on
            row.save()
    except IntegrityError as error:
        raise ValidationError({"name": f"There is already a {what} called “{name}”."}) from error


def _is(count: int) -> str:
    return "is" if count == 1 else "are"


def _lock_pipelines(org: Organization) -> None:
    """Take turns at the organisation's pipelines: their order and the last one in use."""
    advisory_lock(f"sales.pipelines:{org.pk}")


def _lock_stages(pipeline: Pipeline) -> None:
    """Take turns at a pipeline's stages: their order, names and the last open one."""
    Pipeline.objects.select_for_update().filter(pk=pipeline.pk).first()


def _swap(rows: list[Any], row: Any, direction: str) -> list[Any]:
    """`rows` in their new order, `row` one place up or down; positions 0, 1, 2… again."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Move it up or down."})
    index = next(i for i, other in enumerate(rows) if other.pk == row.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
    for position, other in enumerate(rows):
        other.position = position
    return rows


# --- Pipelines --------------------------------------------------------------------------------


@transaction.atomic
def pipeline_update(
    *, org: Organization, pipeline: Pipeline, by: User | None, name: str, stale_days: int
) -> Pipeline:
    """Rename a pipeline, or change after how many days its untouched deals are stale."""
    name = _clean_name(name, "pipeline")
    if not 1 <= stale_days <= 365:
        raise ValidationError({"stale_days": "Give a whole number of days, from 1 to 365."})
    if Pipeline.objects.filter(name__iexact=name).exclude(pk=pipeline.pk).exists():
        raise ValidationError({"name": f"There is already a pipeline called “{name}”."})
    changes = diff({"name": pipeline.name, "stale_days": pipeline.stale_days},
                   {"name": name, "stale_days": stale_days})  # fmt: skip
    pipeline.name, pipeline.stale_days = name, stale_days
    _save_unique(pipeline, name, "pipeline")
    if changes:
        audit_record(org=org, actor=by, action="pipeline.updated", target=pipeline,
                     changes=changes)  # fmt: skip
    return pipeline


@transaction.atomic
def pipeline_archive(
    *, org: Organization, pipeline: Pipeline, by: User | None, archived: bool = True
) -> Pipeline:
    """Archive a pipeline (its deals stay; no new ones go in), or bring it back. The last
    pipeline in use stays: deals need one."""
    _lock_pipelines(org)
    if pipeline.is_archived == archived:
        return pipeline
    others = Pipeline.objects.filter(is_archived=False).exclude(pk=pipeline.pk)
    if archived and not others.exists():
        raise ValidationError(
            f"{pipeline} is the only pipeline in use: add or bring back another before "
            "archiving it."
        )
    pipeline.is_archived = archived
    pipeline.save(update_fields=["is_archived"])
    action = "pipeline.archived" if archived else "pipeline.unarchived"
    audit_record(org=org, actor=by, action=action, target=pipeline,
                 changes={"is_archived": [not archived, archived]})  # fmt: skip
    return pipeline


@transaction.atomic
def pipeline_reorder(
    *, org: Organization, pipeline: Pipeline, by: User | None, direction: str
) -> Pipeline:
    """Move a pipeline one place up or down in the organisation's list."""
    _lock_pipelines(org)
    rows = _swap(list(Pipeline.objects.all()), pipeline, direction)
    Pipeline.objects.bulk_update(rows, ["position"])
    pipeline.position = next(row.position for row in rows if row.pk == pipeline.pk)
    audit_record(org=org, actor=by, action="pipeline.reordered", target=pipeline,
                 changes={"direction": [None, direction]})  # fmt: skip
    return pipeline


# --- Stages -----------------------------------------------------------------------------------


def _clean_stage(pipeline: Pipeline, name: str, probability: int, kind: str,
                 stage: Stage | None = None) -> str:  # fmt: skip
    errors: dict[str, str] = {}
    try:
        name = _clean_name(name, "stage")
    except ValidationError as error:
        errors |= {field: messages[0] for field, messages in error.message_dict.items()}
    else:
        clash = Stage.objects.filter(pipeline=pipeline, name__iexact=name)
        if stage is not None:
            clash = clash.exclude(pk=stage.pk)
        if clash.exists():
            errors["name"] = f"{pipeline} already has a stage called “{name}”."
    if probability is None or not 0 <= probability <= 100:
        errors["probability"] = "Give a whole number from 0 to 100."
    if kind not in Stage.Kind.values:
        errors["kind"] = "Choose open, won or lost."
    if errors:
        raise ValidationError(errors)
    return name


def _other_open_stages(stage: Stage) -> bool:
    """Does the stage's pipeline keep an open stage in use without this one?"""
    others = Stage.objects.filter(pipeline_id=stage.pipeline_id, kind=Stage.Kind.OPEN)
    return others.filter(is_archived=False).exclude(pk=stage.pk).exists()


def _last_open(stage: Stage, doing: str) -> ValidationError:
    return ValidationError(
        f"{stage} is the only open stage of its pipeline in use: deals need one. Add another "
        f"open stage before {doing} it."
    )


@transaction.atomic
def stage_create(
    *, org: Organization, pipeline: Pipeline, by: User | None, name: str, probability: int,
    kind: str = Stage.Kind.OPEN,
) -> Stage:  # fmt: skip
    """Add a stage to a pipeline: an open one before the won and lost stages, where deals
    pass on their way, a won or lost one at the end."""
    _lock_stages(pipeline)
    name = _clean_stage(pipeline, name, probability, kind)
    rows = list(Stage.objects.filter(pipeline=pipeline))
    at = len(rows)
    if kind == Stage.Kind.OPEN:
        at = next((i for i, row in enumerate(rows) if row.kind != Stage.Kind.OPEN), at)
    stage = Stage(org=org, pipeline=pipeline, name=name, probability=probability, kind=kind)
    rows.insert(at, stage)
    for position, row in enumerate(rows):
        row.position = position
    stage.save()
    Stage.objects.bulk_update([row for row in rows if row is not stage], ["position"])
    audit_record(org=org, actor=by, action="stage.created", target=stage,
                 changes={"pipeline": [None, pipeline.name]})  # fmt: skip
    return stage


@transaction.atomic
def stage_update(
    *, org: Organization, stage: Stage, by: User | None, name: str, probability: int, kind: str
) -> Stage:
    """Rename a stage, or change its probability or its kind. Its kind stays while deals
    are in it (they are open or closed with it), and the last open stage in use stays open."""
    _lock_stages(stage.pipeline)
    name = _clean_stage(stage.pipeline, name, probability, kind, stage=stage)
    if kind != stage.kind:
        held = Deal.objects.filter(stage=stage).count()  # those in the Trash too
        if held:
            raise ValidationError({"kind": f"Move its {_plural(held, 'deal')} to another "
                                           "stage before changing its kind."})  # fmt: skip
        in_use = stage.kind == Stage.Kind.OPEN and not stage.is_archived
        if in_use and not _other_open_stages(stage):
            raise ValidationError({"kind": _last_open(stage, "changing the kind of").message})
    changes = diff({"name": stage.name, "probability": stage.probability, "kind": stage.kind},
                   {"name": name, "probability": probability, "kind": kind})  # fmt: skip
    stage.name, stage.probability, stage.kind = name, probability, kind
    stage.save(update_fields=["name", "probability", "kind"])
    if changes:
        audit_record(org=org, actor=by, action="stage.updated", target=stage, changes=changes)
    return stage


@transaction.atomic
def stage_reorder(*, org: Organization, stage: Stage, by: User | None, direction: str) -> Stage:
    """Move a stage one place up or down in its pipeline."""
    _lock_stages(stage.pipeline)
    rows = _swap(list(Stage.objects.filter(pipeline_id=stage.pipeline_id)), stage, direction)
    Stage.objects.bulk_update(rows, ["position"])
    stage.position = next(row.position for row in rows if row.pk == stage.pk)
    audit_record(org=org, actor=by, action="stage.reordered", target=stage,
                 changes={"direction": [None, direction]})  # fmt: skip
    return stage


@transaction.atomic
def stage_archive(
    *, org: Organization, stage: Stage, by: User | None, archived: bool = True
) -> Stage:
    """Archive a stage (the deals in it stay; no deal moves in), or bring it back."""
    _lock_stages(stage.pipeline)
    if stage.is_archived == archived:
        return stage
    if archived and stage.kind == Stage.Kind.OPEN and not _other_open_stages(stage):
        raise _last_open(stage, "archiving")
    stage.is_archived = archived
    stage.save(update_fields=["is_archived"])
    action = "stage.archived" if archived else "stage.unarchived"
    audit_record(org=org, actor=by, action=action, target=stage,
                 changes={"is_archived": [not archived, archived]})  # fmt: skip
    return stage


@transaction.atomic
def stage_delete(*, org: Organization, stage: Stage, by: User | None) -> None:
    """Delete a stage no deal is in (the Trash's included). Deals that passed through it
    keep their history: each stage change keeps the stage's name."""
    _lock_stages(stage.pipeline)
    held = Deal.objects.filter(stage=stage).count()
    if held:
        trashed = Deal.objects.trashed().filter(stage=stage).count()
        message = f"Move its {_plural(held, 'deal')} to another stage first."
        if trashed:  # the Trash shows no stage: say where the missing ones are
            which = "It is" if held == 1 else f"{trashed} of them {_is(trashed)}"
            them = "it" if trashed == 1 else "them"
            message += f" {which} in the Trash: restore {them} to move {them}."
        raise ValidationError(message)
    if stage.kind == Stage.Kind.OPEN and not stage.is_archived and not _other_open_stages(stage):
        raise _last_open(stage, "deleting")
    audit_record(org=org, actor=by, action="stage.deleted", target=stage,
                 changes={"pipeline": [stage.pipeline.name, None]})  # fmt: skip
    try:
        with transaction.atomic():  # a deal moved in meanwhile: PROTECT refuses
            stage.delete()
    except ProtectedError as error:
        raise ValidationError(f"A deal was just moved into {stage}: it was not deleted.") from error


# --- Lost reasons -----------------------------------------------------------------------------


def _check_reason_name(name: str, reason: LostReason | None = None) -> str:
    name = _clean_name(name, "reason")
    clash = LostReason.objects.filter(name__iexact=name)
    if reason is not None:
        clash = clash.exclude(pk=reason.pk)
    if clash.exists():
        raise ValidationError({"name": f"There is already a reason called “{name}”."})
    return name


@transaction.atomic
def lost_reason_create(*, org: Organization, by: User | None, name: str) -> LostReason:
    """Add a reason to the list offered when a deal is lost, at its end."""
    name = _check_reason_name(name)
    reason = LostReason(org=org, name=name, position=LostReason.objects.count())
    _save_unique(reason, name, "reason")
    audit_record(org=org, actor=by, action="lost_reason.created", target=reason)
    return reason


@transaction.atomic
def lost_reason_update(
    *, org: Organization, reason: LostReason, by: User | None, name: str
) -> LostReason:
    """Rename a lost reason; the deals lost for it follow."""
    name = _check_reason_name(name, reason)
    changes = diff({"name": reason.name}, {"name": name})
    reason.name = name
    _save_unique(reason, name, "reason")
    if changes:
        audit_record(org=org, actor=by, action="lost_reason.updated", target=reason,
                     changes=changes)  # fmt: skip
    return reason


@transaction.atomic
def lost_reason_archive(
    *, org: Organization, reason: LostReason, by: User | None, archived: bool = True
) -> LostReason:
    """Stop offering a reason (the deals lost for it keep it), or offer it again."""
    if reason.is_archived == archived:
        return reason
    reason.is_archived = archived
    reason.save(update_fields=["is_archived"])
    action = "lost_reason.archived" if archived else "lost_reason.unarchived"
    audit_record(org=org, actor=by, action=action, target=reason,
                 changes={"is_archived": [not archived, archived]})  # fmt: skip
    return reason


# --- Exchange rates ---------------------------------------------------------------------------


def _org_today(org: Organization) -> date:
    return timezone.localdate(timezone=ZoneInfo(org.time_zone))


def _clean_rate(org: Organization, currency: str, rate: Any, valid_from: Any) -> tuple[
    str, Decimal, date
]:  # fmt: skip
    errors: dict[str, str] = {}
    currency = (currency or "").strip().upper()
    if not currencies.is_currency(currency):
        errors["currency"] = "Choose a currency from the list (an ISO 4217 code, such as EUR)."
    elif currency == org.base_currency:
        errors["currency"] = (
            f"{currency} is the base currency: its amounts need no rate. Choose another."
        )
    try:
        rate = Decimal(str(rate)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        errors["rate"] = "Give the rate as a number, such as 1.08."
    else:
        if rate <= 0:
            errors["rate"] = "A rate is more than 0."
        elif rate > MAX_RATE:
            errors["rate"] = "That rate is too large: check the digits, and which way round it is."
    if not isinstance(valid_from, date):
        errors["valid_from"] = "Give the date the rate applies from."
    elif valid_from < EARLIEST_RATE:
        errors["valid_from"] = "Give a date from 1970 on."
    elif valid_from > _org_today(org) + timedelta(days=RATE_LEAD_DAYS):
        errors["valid_from"] = "A rate can start a year from today at the latest."
    if errors:
        raise ValidationError(errors)
    return currency, rate, valid_from


@transaction.atomic
def rate_set(
    *, org: Organization, by: User | None, currency: str, rate: Any, valid_from: date
) -> ExchangeRate:
    """Say what one unit of `currency` is worth in the base currency from `valid_from` on
    (replacing the rate of that day, if any); the deals in that currency follow."""
    currency, rate, valid_from = _clean_rate(org, currency, rate, valid_from)
    advisory_lock(f"sales.rate:{org.pk}:{currency}:{valid_from}")  # two saves of one day
    found = ExchangeRate.objects.filter(currency=currency, valid_from=valid_from).first()
    before = found.rate if found else None
    if found is None:
        found = ExchangeRate.objects.create(
            org=org, currency=currency, rate=rate, valid_from=valid_from
        )
    else:
        found.rate = rate
        found.save(update_fields=["rate"])
    audit_record(org=org, actor=by, action="exchange_rate.set", target=found,
                 changes={"rate": [before, rate]})  # fmt: skip
    deals_rebase(org=org, currency=currency)
    return found


@transaction.atomic
def rate_delete(*, org: Organization, rate: ExchangeRate, by: User | None) -> None:
    """Remove a rate; the deals in its currency take the rates that remain (none: no amount
    in the base currency)."""
    audit_record(org=org, actor=by, action="exchange_rate.deleted", target=rate,
                 changes={"rate": [rate.rate, None]})  # fmt: skip
    currency = rate.currency
    rate.delete()
    deals_rebase(org=org, currency=currency)
