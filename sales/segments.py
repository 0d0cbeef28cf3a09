"""What a segment's conditions may test of a contact's deals (contacts.segments): the amount
of their open deals, whether they have won one, and whether they have a deal in a stage.
A contact's deals are those they are the primary contact of. Registered from sales'
AppConfig.ready()."""

from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from contacts import scores
from contacts.segments import rules
from contacts.segments.rules import NUMBER, Field, Param
from sales.models import Deal, Stage

_WON_DAYS = Param("days", "Days", NUMBER, before="in the last", after="days")


def _open() -> QuerySet[Deal]:
    return Deal.objects.alive().filter(closed_at__isnull=True)


def _won(params: dict[str, Any]) -> QuerySet[Deal]:
    found = Deal.objects.alive().filter(stage__kind=Stage.Kind.WON)
    if params.get("days"):
        found = found.filter(closed_at__gte=timezone.now() - timedelta(days=int(params["days"])))
    return found


def _stages() -> list[tuple[str, str]]:
    found = Stage.objects.filter(is_archived=False).select_related("pipeline")
    found = found.order_by("pipeline__position", "pipeline__name", "position", "id")
    return [(str(stage.pk), f"{stage.pipeline.name} · {stage.name}") for stage in found]


def _open_amount(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.aggregate_q(_open(), "contact_id", Sum("amount_base"), op, value)


def _has_won(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.presence_q(_won(params), "contact_id", op)


def _in_stage(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.presence_q(Deal.objects.alive().filter(stage_id=int(value)), "contact_id", op)


def won_rows() -> QuerySet[Any]:
    """Per contact (as a deal's primary contact): their last won deal's close, how many they
    won and how much, in the organisation's currency: the RFM score's inputs."""
    won = Deal.objects.alive().filter(stage__kind=Stage.Kind.WON, contact_id__isnull=False)
    return (
        won.order_by().values("contact_id")
        .annotate(last_at=Max("closed_at"), won=Count("*"), amount=Sum("amount_base"))
        .values_list("contact_id", "last_at", "won", "amount")
    )  # fmt: skip


def register() -> None:
    group = "Deals"
    rules.register(Field(
        "deals.open_amount", "Open deals' amount", group, "amount", where=_open_amount,
        measure=lambda params: rules.aggregate_measure(_open(), "contact_id", Sum("amount_base")),
    ))  # fmt: skip
    rules.register(Field(
        "deals.won", "A won deal", group, "presence", params=(_WON_DAYS,), where=_has_won,
        measure=lambda params: Exists(_won(params).filter(contact_id=OuterRef("pk"))),
    ))  # fmt: skip
    rules.register(Field(
        "deals.stage", "A deal in stage", group, "set", choices=_stages, where=_in_stage,
    ))  # fmt: skip
    scores.register_value(won_rows)
