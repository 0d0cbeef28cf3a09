"""Writes to deals: add, edit, move through the stages, win, lose, reopen. Every one is
audited, and every stage change is kept (DealStageChange) for the timelines and the
dashboard."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import Contact, Tag
from contacts.services import company_for_name, tags_by_name
from crm.audit import audit_record, diff
from crm.models import Membership, Organization, User
from crm.permissions import can
from crm.records.custom_fields import clean_custom
from crm.records.versions import check_version
from interactions.services import interaction_log
from sales import currencies
from sales.models import Deal, DealContact, DealStageChange, DealTag, ExchangeRate, Stage

# What an edit may change; the stage moves through deal_move, which keeps its history.
EDITABLE = frozenset({
    "title", "amount", "currency", "close_date", "owner", "contact", "company", "source",
    "custom", "lost_reason", "lost_note",
})  # fmt: skip
MAX_AMOUNT = Decimal("999999999999.99")


def may_edit_deal(membership: Membership | None, deal: Deal) -> bool:
    """Managers and admins edit any deal; a rep only the deals they own."""
    return can(membership, "deal.edit", deal)


# --- Amounts in the base currency -----------------------------------------------------------


def _rate(currency: str, on: date | None) -> Decimal | None:
    """The rate in force on `on` (the latest when None); before the first rate, the first."""
    rates = ExchangeRate.objects.filter(currency=currency)
    if on is not None:
        found = rates.filter(valid_from__lte=on).order_by("-valid_from").first()
        if found is None:
            found = rates.order_by("valid_from").first()
    else:
        found = rates.order_by("-valid_from").first()
    return found.rate if found else None


def _closed_on(deal: Deal, org: Organization) -> date | None:
    if deal.closed_at is None:
        return None
    return timezone.localtime(deal.closed_at, timezone=ZoneInfo(org.time_zone)).date()


def base_amount(deal: Deal, org: Organization) -> Decimal | None:
    """The deal's amount in the base currency: a closed deal at the rate of the day it
    closed, an open one at the latest rate. None without an amount or without a rate."""
    if deal.amount is None:
        return None
    if deal.currency == org.base_currency:
        return deal.amount
    rate = _rate(deal.currency, _closed_on(deal, org))
    return None if rate is None else (deal.amount * rate).quantize(Decimal("0.01"))


def deals_rebase(*, org: Organization, currency: str | None = None) -> int:
    """Every deal's amount in the base currency again (after a change of rates or of the
    base currency), in one UPDATE; how many deals it touched."""
    # The rate in force on the day a closed deal closed (in the organisation's zone), or the
    # latest for an open one; before the first rate, the first.
    sql = """
        UPDATE sales_deal AS d SET amount_base = CASE
          WHEN d.amount IS NULL THEN NULL
          WHEN d.currency = %(base)s THEN d.amount
          ELSE round(d.amount * (
            SELECT r.rate FROM sales_exchangerate AS r
            WHERE r.org_id = d.org_id AND r.currency = d.currency
            ORDER BY r.valid_from <= coalesce((d.closed_at AT TIME ZONE %(zone)s)::date,
                                              'infinity'::date) DESC,
                     CASE WHEN r.valid_from <= coalesce((d.closed_at AT TIME ZONE %(zone)s)::date,
                                                        'infinity'::date)
                          THEN r.valid_from END DESC,
                     r.valid_from
            LIMIT 1), 2)
        END
        WHERE d.org_id = %(org)s AND (%(currency)s::text IS NULL OR d.currency = %(currency)s)
    """
    params: dict[str, str | int | None] = {
        "base": org.base_currency, "zone": org.time_zone, "org": org.pk, "currency": currency,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- Checks -----------------------------------------------------------------------------------


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Refuse what cannot be stored or makes no sense; ValidationError by field."""
    errors: dict[str, str] = {}
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            errors["title"] = "Give the deal a title."
    if "currency" in fields:
        fields["currency"] = (fields["currency"] or "").strip().upper()
        if not currencies.is_currency(fields["currency"]):
            errors["currency"] = "Choose a currency by its ISO 4217 code, such as EUR or USD."
    amount = fields.get("amount")
    if amount is not None:
        if amount < 0:
            errors["amount"] = "An amount cannot be negative."
        elif amount > MAX_AMOUNT:
            errors["amount"] = "That amount is too large: check the digits."
    for name in ("title", "source", "lost_note"):
        if "\x00" in str(fields.get(name) or ""):
            errors[name] = "Remove the null characters (\\x00) from this text."
    if errors:
        raise ValidationError(errors)
    return fields


def _check_stage(stage: Stage, pipeline_id: int) -> None:
    if stage.pipeline_id != pipeline_id:
        raise ValidationError({"stage": "That stage belongs to another pipeline."})
    if stage.is_archived:
        raise ValidationError({"stage": "That stage is archived: choose another."})


def _check_lost(stage: Stage, lost_reason: Any) -> None:
    if stage.kind == Stage.Kind.LOST and lost_reason is None:
        raise ValidationError({"lost_reason": "Say why the deal was lost."})


def furthest(current: Stage | None, stage: Stage) -> Stage | None:
    """A deal's furthest stage once it enters `stage`: the further of the two by position,
    won beyond every open stage, a lost one never; in another pipeline, `stage` afresh."""
    if current is None or current.pipeline_id != stage.pipeline_id:
        return None if stage.kind == Stage.Kind.LOST else stage
    if stage.kind == Stage.Kind.LOST:
        return current

    def reach(s: Stage) -> tuple[bool, int, int]:
        return s.kind == Stage.Kind.WON, s.position, s.pk

    return stage if reach(stage) > reach(current) else current


# --- Deals ------------------------------------------------------------------------------------


@transaction.atomic
def deal_create(
    *, org: Organization, by: User | None, title: str, pipeline: Any, stage: Stage | None = None,
    tags: list[Tag] | None = None, contacts: Iterable[Contact] = (), **fields: Any,
) -> Deal:  # fmt: skip
    """Add a deal, in `stage` or the pipeline's first open stage; its first stage change
    (from nothing) starts its history."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"Not a deal field: {', '.join(sorted(unknown))}")
    fields.setdefault("currency", org.base_currency)
    fields = _clean({"title": title, **fields})
    if stage is None:
        stage = pipeline.stages.filter(kind=Stage.Kind.OPEN, is_archived=False).first()
        if stage is None:
            raise ValidationError({"stage": f"{pipeline} has no open stage: add one in Settings."})
    _check_stage(stage, pipeline.pk)
    _check_lost(stage, fields.get("lost_reason"))
    if "custom" in fields:
        fields["custom"] = clean_custom("deal", fields["custom"])
    company = fields.get("company")
    if company is None and fields.get("contact") is not None and fields["contact"].company_id:
        fields["company"] = fields["contact"].company
    now = timezone.now()
    deal = Deal(org=org, pipeline=pipeline, stage=stage, stage_entered_at=now, touched_at=now,
                closed_at=now if stage.is_closed else None, furthest_stage=furthest(None, stage),
                **fields)  # fmt: skip
    deal.full_clean(exclude=["org", "owner", "contact", "company", "lost_reason", "search_text"])
    deal.amount_base = base_amount(deal, org)
    deal.save()
    DealStageChange.objects.create(org=org, deal=deal, to_stage=stage, to_name=stage.name,
                                   at=now, by=by)  # fmt: skip
    if tags:
        DealTag.objects.bulk_create([DealTag(org=org, deal=deal, tag=tag) for tag in tags])
    _set_contacts(deal, contacts)
    audit_record(org=org, actor=by, action="deal.created", target=deal)
    return deal


@transaction.atomic
def deal_save(
    *, org: Organization, by: User | None, deal: Deal | None = None,
    company_name: str | None = None, tag_names: list[str] | None = None, **fields: Any,
) -> Deal:  # fmt: skip
    """Add or change a deal as a form gives it: the company by name (created when new) and
    the tags by name; None leaves them as they are (a form for another field). One
    transaction: a refused deal leaves no company or tag behind."""
    version = fields.pop("version", None)
    if deal is not None:
        check_version(deal, version, "deal")  # before a company is made for it
    if company_name is not None:
        fields["company"] = company_for_name(org=org, name=company_name, by=by)
    tags = None if tag_names is None else tags_by_name(org=org, names=tag_names, by=by)
    if deal is None:
        stage = fields.pop("stage")
        return deal_create(org=org, by=by, pipeline=stage.pipeline, stage=stage, tags=tags,
                           **fields)  # fmt: skip
    return deal_update(org=org, deal=deal, by=by, tags=tags, **fields)


def _set_contacts(deal: Deal, contacts: Iterable[Contact]) -> dict[str, list[Any]]:
    """The deal's other contacts become these (the primary one is never among them)."""
    wanted = {c.pk: c for c in contacts if c.pk != deal.contact_id}
    current = set(DealContact.objects.filter(deal=deal).values_list("contact_id", flat=True))
    if set(wanted) == current:
        return {}
    DealContact.objects.filter(deal=deal).exclude(contact_id__in=wanted).delete()
    DealContact.objects.bulk_create(
        [DealContact(org_id=deal.org_id, deal=deal, contact=c)
         for pk, c in wanted.items() if pk not in current]
    )  # fmt: skip
    return {"contacts": [sorted(current), sorted(wanted)]}


def _set_tags(deal: Deal, tags: list[Tag]) -> dict[str, list[Any]]:
    current = dict(DealTag.objects.filter(deal=deal).values_list("tag_id", "tag__name"))
    wanted = {tag.pk: tag for tag in tags}
    if set(current) == set(wanted):
        return {}
    DealTag.objects.filter(deal=deal).exclude(tag_id__in=wanted).delete()
    DealTag.objects.bulk_create(
        [DealTag(org_id=deal.org_id, deal=deal, tag=t) for pk, t in wanted.items()
         if pk not in current]
    )  # fmt: skip
    return {"tags": [sorted(current.values()), sorted(t.name for t in tags)]}


@transaction.atomic
def deal_update(
    *, org: Organization, deal: Deal, by: User | None, version: str | None = None,
    tags: list[Tag] | None = None, contacts: Iterable[Contact] | None = None,
    stage: Stage | None = None, pipeline: Any = None, **fields: Any,
) -> Deal:  # fmt: skip
    """Change a deal's fields (a new stage or pipeline through deal_move). With `version`
    (what the form was opened on), refused if the deal changed since."""
    check_version(deal, version, "deal")
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"Not a deal field: {', '.join(sorted(unknown))}")
    fields = _clean(fields)
    if "custom" in fields:
        fields["custom"] = clean_custom("deal", fields["custom"], keep=deal.custom)
    before = {name: getattr(deal, name) for name in fields}
    for name, value in fields.items():
        setattr(deal, name, value)
    deal.touched_at = timezone.now()
    deal.full_clean(exclude=["org", "owner", "contact", "company", "lost_reason", "search_text"])
    deal.amount_base = base_amount(deal, org)
    deal.save()
    changes = diff(before, fields)
    if tags is not None:
        changes |= _set_tags(deal, tags)
    if contacts is not None:
        changes |= _set_contacts(deal, contacts)
    if changes:
        audit_record(org=org, actor=by, action="deal.updated", target=deal, changes=changes)
    if stage is not None and (stage.pk != deal.stage_id or stage.pipeline_id != deal.pipeline_id):
        deal_move(org=org, deal=deal, stage=stage, by=by, pipeline=pipeline,
                  lost_reason=deal.lost_reason, lost_note=deal.lost_note)  # fmt: skip
    return deal


@transaction.atomic
def deal_move(
    *, org: Organization, deal: Deal, stage: Stage, by: User | None,
    expected_stage_id: int | None = None, pipeline: Any = None, lost_reason: Any = None,
    lost_note: str = "", at: datetime | None = None,
) -> Deal:  # fmt: skip
    """Move a deal to another stage of its pipeline (or, with `pipeline`, to a stage of
    another) and record the change. Into a won or lost stage it closes (a lost one asks for
    the reason); back into an open stage it is open again.

    `expected_stage_id` is the stage the member saw it in (a card dragged on the board): if
    it moved meanwhile, or went to the Trash, nothing changes and the error says so."""
    locked = Deal.objects.select_for_update().filter(pk=deal.pk).values(
        "stage_id", "deleted_at", "stage_entered_at", "furthest_stage_id"
    ).first()  # fmt: skip
    if locked is None or locked["deleted_at"] is not None:
        raise ValidationError(
            {NON_FIELD_ERRORS: [ValidationError(
                f"“{deal}” was deleted meanwhile: nothing was moved.", code="gone")]}
        )  # fmt: skip
    if expected_stage_id is not None and locked["stage_id"] != expected_stage_id:
        current = Stage.objects.filter(pk=locked["stage_id"]).first()
        raise ValidationError(
            {NON_FIELD_ERRORS: [ValidationError(
                f"“{deal}” was moved to {current} meanwhile: nothing was changed. "
                "The board shows where it is now.", code="stale")]}
        )  # fmt: skip
    target_pipeline = pipeline.pk if pipeline is not None else deal.pipeline_id
    _check_stage(stage, target_pipeline)
    if stage.pk == locked["stage_id"]:
        return deal
    _check_lost(stage, lost_reason)
    # The stage it leaves and its furthest, in one query.
    known = Stage.objects.in_bulk({locked["stage_id"], locked["furthest_stage_id"]} - {None})
    previous = known[locked["stage_id"]]
    now = at or timezone.now()
    was_open = deal.closed_at is None
    deal.stage, deal.pipeline_id = stage, target_pipeline
    deal.furthest_stage = furthest(known.get(locked["furthest_stage_id"]), stage)
    if not stage.is_closed:
        deal.closed_at = None
    elif was_open or previous.kind != stage.kind:  # won, or lost, from now on
        deal.closed_at = now
    deal.lost_reason = lost_reason if stage.kind == Stage.Kind.LOST else None
    deal.lost_note = (lost_note or "").strip() if stage.kind == Stage.Kind.LOST else ""
    deal.stage_entered_at = deal.touched_at = now
    deal.amount_base = base_amount(deal, org)
    deal.save()
    spent = (now - locked["stage_entered_at"]).total_seconds()
    DealStageChange.objects.create(
        org=org, deal=deal, from_stage=previous, to_stage=stage, from_name=previous.name,
        to_name=stage.name, at=now, by=by, seconds_in_from=max(0, int(spent)),
    )  # fmt: skip
    action = {Stage.Kind.WON: "deal.won", Stage.Kind.LOST: "deal.lost"}.get(
        Stage.Kind(stage.kind), "deal.reopened" if not was_open else "deal.moved"
    )
    changes = {"stage": [previous.name, stage.name]}
    if deal.lost_reason is not None:
        changes["lost_reason"] = ["", deal.lost_reason.name]
    audit_record(org=org, actor=by, action=action, target=deal, changes=changes)
    return deal


@transaction.atomic
def deal_win(*, org: Organization, deal: Deal, stage: Stage, by: User | None, reason: str) -> Deal:
    """Win a deal (into `stage`, a won stage), and keep why as a note on its timeline (and
    its contact's and company's): what a team reads back when the next one is like it."""
    if stage.kind != Stage.Kind.WON:
        raise ValidationError({"stage": "Choose a won stage."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why they chose us."})
    deal = deal_move(org=org, deal=deal, stage=stage, by=by)
    interaction_log(
        org=org, by=by, channel="note", direction="internal", subject=f"Won: {deal.title}"[:200],
        body=reason, deal=deal, contact=deal.contact, company=deal.company,
    )  # fmt: skip
    return deal


def deals_touch(*, deal_ids: Iterable[int], at: datetime | None = None) -> None:
    """Someone did something with these deals (logged an interaction, say): not stale."""
    ids = [pk for pk in deal_ids if pk]
    if ids:
        Deal.objects.filter(pk__in=ids, touched_at__lt=at or timezone.now()).update(
            touched_at=at or timezone.now()
        )
