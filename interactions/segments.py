"""What a segment's conditions may test of a contact's interactions (contacts.segments):
how many in the last N days by channel and direction, whether any, and how long since the
last. Registered from interactions' AppConfig.ready()."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Now
from django.utils import timezone

from contacts import scores
from contacts.segments import rules
from contacts.segments.rules import CHOICE, NUMBER, Field, Param
from interactions.models import Interaction

_DAYS = Param("days", "Days", NUMBER, before="in the last", after="days")
_CHANNEL = Param("channel", "Channel", CHOICE, choices=lambda: list(Interaction.Channel.choices))
_DIRECTION = Param(
    "direction", "Direction", CHOICE, choices=lambda: list(Interaction.Direction.choices)
)


def _rows(params: dict[str, Any]) -> QuerySet[Interaction]:
    found = Interaction.objects.alive()
    if params.get("days"):
        found = found.filter(occurred_at__gte=timezone.now() - timedelta(days=int(params["days"])))
    if params.get("channel"):
        found = found.filter(channel=params["channel"])
    if params.get("direction"):
        found = found.filter(direction=params["direction"])
    return found


def _count(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.count_q(_rows(params), "contact_id", op, value)


def _any(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.presence_q(_rows(params), "contact_id", op)


def _since(op: str, value: Any, params: dict[str, Any]) -> Q:
    """Days since the last interaction (Last contacted, kept by the services): a contact
    never contacted has waited longer than any number of days."""
    if op == "is_empty":
        return Q(last_interaction_at__isnull=True)
    if op == "is_not_empty":
        return Q(last_interaction_at__isnull=False)
    days = float(value)
    cut = timezone.now() - timedelta(days=days)
    match op:
        case "gte":  # at least N days ago, or never
            return Q(last_interaction_at__lte=cut) | Q(last_interaction_at__isnull=True)
        case "gt":
            return Q(last_interaction_at__lt=cut) | Q(last_interaction_at__isnull=True)
        case "lte":
            return Q(last_interaction_at__gte=cut)
        case "lt":
            return Q(last_interaction_at__gt=cut)
        case "eq":
            return Q(last_interaction_at__gt=cut - timedelta(days=1), last_interaction_at__lte=cut)
        case _:  # ne
            return ~Q(last_interaction_at__gt=cut - timedelta(days=1),
                      last_interaction_at__lte=cut)  # fmt: skip


def _days_since() -> Any:
    return Func(
        Now(), "last_interaction_at",
        template="floor(date_part('epoch', %(expressions)s) / 86400)",
        arg_joiner=" - ", output_field=FloatField(),
    )  # fmt: skip


def register() -> None:
    group = "Interactions"
    rules.register(Field(
        "interactions.count", "Interactions", group, "count",
        params=(_DAYS, _CHANNEL, _DIRECTION), where=_count,
        measure=lambda params: rules.aggregate_measure(_rows(params), "contact_id", Count("*")),
    ))  # fmt: skip
    rules.register(Field(
        "interactions.any", "Any interaction", group, "presence",
        params=(_DAYS, _CHANNEL, _DIRECTION), where=_any,
        measure=lambda params: Exists(_rows(params).filter(contact_id=OuterRef("pk"))),
    ))  # fmt: skip
    rules.register(Field(
        "interactions.days_since", "Days since the last interaction", group, "number",
        where=_since, measure=lambda params: _days_since(), lowest=0,
    ))  # fmt: skip
    scores.register_engagement(engagement_rows)


# --- The engagement score's inputs (contacts.scores) -----------------------------------------

# Points an interaction earns by its channel, and the customer's own emails and forms more
# than ours; internal notes none. Halved for every HALF_LIFE_DAYS of the interaction's age.
Channel = Interaction.Channel
POINTS = Case(
    When(direction=Interaction.Direction.INTERNAL, then=Value(0.0)),
    When(channel=Channel.MEETING, then=Value(5.0)),
    When(channel=Channel.CALL, then=Value(4.0)),
    When(channel__in=(Channel.EMAIL, Channel.WEB_FORM),
         direction=Interaction.Direction.INBOUND, then=Value(3.0)),
    When(channel__in=(Channel.CHAT, Channel.SMS, Channel.SOCIAL), then=Value(2.0)),
    When(channel__in=(Channel.EMAIL, Channel.LETTER), then=Value(1.0)),
    default=Value(0.0), output_field=FloatField(),
)  # fmt: skip


def engagement_rows(now: datetime) -> QuerySet[Any]:
    """Per contact: the points of their interactions of the last year, each halved for
    every 30 days of its age, and how many there were."""
    seconds = scores.HALF_LIFE_DAYS * 86400  # a constant of ours, in the SQL as it is
    half = Func(
        Value(now), F("occurred_at"), arg_joiner=" - ", output_field=FloatField(),
        template=f"power(0.5, date_part('epoch', %(expressions)s) / {seconds})",
    )  # fmt: skip
    found = Interaction.objects.alive().filter(
        contact_id__isnull=False, occurred_at__gte=now - timedelta(days=scores.YEAR_DAYS),
        occurred_at__lte=now,
    )  # fmt: skip
    return (
        found.order_by().values("contact_id")
        .annotate(points=Sum(POINTS * half), n=Count("*"))
        .values_list("contact_id", "points", "n")
    )  # fmt: skip
