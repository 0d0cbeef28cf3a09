"""What a segment's conditions may test of a contact's tickets (contacts.segments): how many
are unsolved, and the average of their ratings. A contact's tickets are those they asked.
Registered from support's AppConfig.ready()."""

from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from contacts.segments import rules
from contacts.segments.rules import Field
from support.models import UNSOLVED, Ticket


def _unsolved() -> QuerySet[Ticket]:
    return Ticket.objects.alive().filter(status__in=UNSOLVED)


def _rated() -> QuerySet[Ticket]:
    return Ticket.objects.alive().filter(csat_score__isnull=False)


def _open_count(op: str, value: Any, params: dict[str, Any]) -> Q:
    return rules.count_q(_unsolved(), "requester_id", op, value)


def _csat(op: str, value: Any, params: dict[str, Any]) -> Q:
    # No ratings, no average: such a contact matches no comparison.
    return rules.aggregate_q(_rated(), "requester_id", Avg("csat_score"), op, value,
                             none_is_zero=False)  # fmt: skip


def register() -> None:
    group = "Tickets"
    rules.register(Field(
        "tickets.open", "Unsolved tickets", group, "count", where=_open_count,
        measure=lambda params: rules.aggregate_measure(_unsolved(), "requester_id", Count("*")),
    ))  # fmt: skip
    rules.register(Field(
        "tickets.csat", "Average rating (1–5)", group, "amount", where=_csat,
        measure=lambda params: rules.aggregate_measure(_rated(), "requester_id",
                                                       Avg("csat_score"), default=None),
    ))  # fmt: skip
