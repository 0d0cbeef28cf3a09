"""The support dashboard's figures: SQL aggregates over the tickets a member may see, days
read in the organisation's time zone, each card a table of cells as every dashboard's
(crm.dashboards): the chart, its "Data" table and the CSV read the one table.

Durations are measured twice, their median and 90th percentile percentile_cont in SQL:
round the clock, from the times; in business hours, from what each ticket keeps of how
long its customer waited for a first response and for a solution (first_response_seconds,
resolution_seconds: support.hours over its policy's calendar, reckoned by the services when
it happened, since SQL cannot reckon with holidays and summer time). A duration counts from
creation, pauses included (time pending on the customer is part of what the customer
waited); the SLA figures are the ones that leave pauses out, since their due times do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.postgres.fields import ArrayField
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from crm.dashboards import (
    PERIODS,
    Card,
    Cell,
    Figures,
    Keeper,
    Period,
    bar_plot,
    count_cell,
    is_kept,
    label_cell,
    share_cell,
)
from crm.models import Membership, Organization, Role, User
from crm.permissions import can
from crm.selectors import org_users
from crm.tenancy import require_org
from support.models import UNSOLVED, Priority, Queue, Ticket, TicketEvent
from support.records import TicketFilter

__all__ = [
    "ALL",
    "CARDS",
    "PERIODS",
    "Figures",
    "Period",
    "Scope",
    "dashboard_figures",
    "is_kept",
    "support_dashboard",
]

ALL = "dashboard.view_all"  # every agent's row in the per-agent table; without it, one's own
_TENTH, _HUNDREDTH = Decimal("0.1"), Decimal("0.01")
PRIORITIES = list(Priority)


# --- What the dashboard covers ------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose tickets over which period: the member's visible ones, and the period chosen."""

    membership: Membership
    period: Period
    now: datetime = field(default_factory=timezone.now)

    @property
    def org(self) -> Organization:
        return require_org()

    @property
    def org_wide(self) -> bool:
        return can(self.membership, ALL)

    @property
    def zone(self) -> ZoneInfo:
        return self.period.zone

    def tickets(self) -> QuerySet[Ticket]:
        """The tickets the figures are made of: alive (not in the Trash, not merged away)
        and visible to the member."""
        return Ticket.objects.alive().visible_to(self.membership).order_by()

    def within(self, name: str) -> Q:
        """`name` (a moment) falls in the period."""
        return Q(**{f"{name}__gte": self.period.start, f"{name}__lt": self.period.end})

    def days(self, first: date | None = None, last: date | None = None) -> dict[str, str]:
        first, last = first or self.period.first, last or self.period.last
        return {"after": first.isoformat(), "before": last.isoformat()}

    def list_url(self, **params: Any) -> str:
        """The tickets list filtered to the tickets behind a figure; empty when the list
        has no filter for one of `params` yet, rather than a link to the wrong tickets.
        A range is given as name={"after": …, "before": …}."""
        query: dict[str, Any] = {}
        for name, value in params.items():
            if value is None:
                continue
            if name not in TicketFilter.base_filters:
                return ""
            if isinstance(value, dict):
                query.update({f"{name}_{end}": day for end, day in value.items()})
            else:
                query[name] = value
        return reverse("ticket:list", args=[self.org.slug]) + "?" + urlencode(query)


def scope_for(membership: Membership, *, period: Period, now: datetime | None = None) -> Scope:
    return Scope(membership, period, now or timezone.now())


# --- Cells --------------------------------------------------------------------------------


def _hours(seconds: float | None, url: str = "") -> Cell:
    """A duration in hours to a hundredth for the CSV; "45 min" or "3.5 h" on the page."""
    if seconds is None:
        return Cell(None, "—", url)
    value = (Decimal(str(seconds)) / 3600).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
    if seconds < 3600:
        return Cell(value, f"{round(seconds / 60)} min", url)
    return Cell(value, f"{value.quantize(_TENTH, rounding=ROUND_HALF_UP)} h", url)


def _average(total: int, n: int, url: str = "") -> Cell:
    if not n:
        return Cell(None, "—", url)
    value = (Decimal(total) / n).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
    return Cell(value, f"{value.quantize(_TENTH, rounding=ROUND_HALF_UP)}", url)


class _PercentileCont(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        # A constant of this module, never a request's: written into the SQL as it is.
        super().__init__(expression, fraction=f"{float(fraction):.2f}", **extra)


class _Spread(Aggregate):
    """The median and the 90th percentile of an expression in one sort:
    percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())


def _took(end: str) -> Func:
    """Seconds from the ticket's creation to `end`, round the clock."""
    # date_part gives a double; EXTRACT a numeric, which sorts three times slower.
    return Func(F(end) - F("created_at"), template="date_part('epoch', %(expressions)s)",
                output_field=FloatField())  # fmt: skip


def _spread(found: QuerySet[Ticket], measured: str, end: str) -> dict[str, Any]:
    """How many tickets have a business time kept, and the median and 90th percentile of
    it and of the round-the-clock time to `end`."""
    spread = found.aggregate(
        n=Count(measured), business=_Spread(F(measured)), clock=_Spread(_took(end))
    )
    business, clock = spread["business"] or [None, None], spread["clock"] or [None, None]
    return {"n": spread["n"], "median": business[0], "p90": business[1],
            "clock_median": clock[0], "clock_p90": clock[1]}  # fmt: skip


# --- The cards ----------------------------------------------------------------------------


def open_by_queue(scope: Scope) -> Card:
    """Unsolved tickets now, by queue and priority."""
    found: dict[tuple[int, str], int] = {
        (queue, priority): n
        for queue, priority, n in scope.tickets().filter(status__in=UNSOLVED)
        .values_list("queue_id", "priority").annotate(n=Count("*"))
    }  # fmt: skip
    queues = [q for q in Queue.objects.order_by("position", "name", "id")
              if not q.is_archived or any(key[0] == q.pk for key in found)]  # fmt: skip
    rows, stacks = [], []
    totals = dict.fromkeys(PRIORITIES, 0)
    for queue in queues:
        counts = [found.get((queue.pk, p), 0) for p in PRIORITIES]
        url = scope.list_url(inbox="open", queue=queue.pk)
        cells = [count_cell(n, scope.list_url(inbox="open", queue=queue.pk, priority=p.value))
                 for p, n in zip(PRIORITIES, counts, strict=True)]  # fmt: skip
        rows.append([label_cell(queue.name), *cells, count_cell(sum(counts), url)])
        stacks.append((queue.name, counts, url))
        for p, n in zip(PRIORITIES, counts, strict=True):
            totals[p] += n
    url = scope.list_url(inbox="open")
    rows.append([
        label_cell("Total"),
        *[count_cell(totals[p], scope.list_url(inbox="open", priority=p.value))
          for p in PRIORITIES],
        count_cell(sum(totals.values()), url),
    ])  # fmt: skip
    return Card(
        "open", "Open tickets", f"Now, {scope.now.astimezone(scope.zone):%-d %b %Y %H:%M}",
        "support/dashboard_stacked.html", ["Queue", *[p.label for p in PRIORITIES], "Total"],
        rows, url, plot=_stacked(stacks),
        figures=[("Open tickets", count_cell(sum(totals.values()), url))],
    )  # fmt: skip


STACK_PLOT = 280  # the longest queue's bar
# Each priority's legend key; its part of a bar is coloured by chart__stack--<priority>,
# from quiet (low) to alarming (urgent).
_FILLS = {priority: ("", f"chart__key--{priority.value}") for priority in Priority}


def _stacked(stacks: list[tuple[str, list[int], str]]) -> dict[str, Any]:
    """A bar per queue, its parts the priorities, scaled to the longest."""
    top = max([sum(counts) for _, counts, _ in stacks] + [0])
    bars = []
    for i, (label, counts, url) in enumerate(stacks):
        x, parts = 116.0, []
        for priority, n in zip(PRIORITIES, counts, strict=True):
            width = round(n / top * STACK_PLOT, 1) if top else 0.0
            if n:
                parts.append({"key": priority.value, "label": priority.label, "n": n,
                              "x": round(x, 1), "width": width,
                              "fill": _FILLS[priority][0]})  # fmt: skip
            x += width
        bars.append({"label": label, "url": url, "y": 8 + i * 30, "parts": parts,
                     "total": sum(counts), "end": round(x + 8, 1)})  # fmt: skip
    legend = [(_FILLS[p][1], p.label) for p in PRIORITIES]
    return {"bars": bars if top else [], "height": 16 + 30 * len(bars), "legend": legend}


def created_solved(scope: Scope) -> Card:
    """Tickets created and tickets solved, per day of the period in the organisation's zone."""
    period, zone = scope.period, scope.zone
    created = dict(
        scope.tickets().filter(scope.within("created_at"))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day").annotate(n=Count("*"))
    )  # fmt: skip
    solved = dict(
        scope.tickets().filter(scope.within("solved_at"))
        .annotate(day=TruncDate("solved_at", tzinfo=zone))
        .values_list("day").annotate(n=Count("*"))
    )  # fmt: skip
    rows, days = [], []
    day = period.first
    while day <= period.last:
        a, b = created.get(day, 0), solved.get(day, 0)
        made_url = scope.list_url(created=scope.days(day, day))
        solved_url = scope.list_url(solved=scope.days(day, day))
        rows.append([
            Cell(day.isoformat(), f"{day:%a %-d %b}", num=False), count_cell(a, made_url),
            count_cell(b, solved_url), Cell(a - b, f"{a - b:+,}"),
        ])  # fmt: skip
        days.append((day, a, b))
        day += timedelta(days=1)
    n_made, n_solved = sum(created.values()), sum(solved.values())
    made_url = scope.list_url(created=scope.days())
    solved_url = scope.list_url(solved=scope.days())
    return Card(
        "flow", "Created and solved", period.label, "support/dashboard_columns.html",
        ["Day", "Created", "Solved", "Backlog change"], rows, made_url,
        plot=_columns(days),
        figures=[("Created", count_cell(n_made, made_url)),
                 ("Solved", count_cell(n_solved, solved_url))],
    )  # fmt: skip


COLUMN_PLOT = 120  # the busiest day's column
COLUMNS_WIDTH = 400


def _columns(days: list[tuple[date, int, int]]) -> dict[str, Any]:
    """Two columns a day, created and solved side by side, scaled to the busiest day."""
    top = max([max(a, b) for _, a, b in days] + [0])
    slot = COLUMNS_WIDTH / max(len(days), 1)
    base = 12 + COLUMN_PLOT

    def height(n: int) -> float:
        return round(n / top * COLUMN_PLOT, 1) if top else 0.0

    every = max(1, round(len(days) / 8))  # about eight day labels along the axis
    slots = []
    for i, (day, a, b) in enumerate(days):
        x = 32 + i * slot
        width = round(max(slot * 0.4, 0.5), 2)
        slots.append({
            "title": f"{day:%a %-d %b}: {a} created, {b} solved",
            "created": {"x": round(x + slot * 0.1, 2), "h": height(a), "y": base - height(a)},
            "solved": {"x": round(x + slot * 0.5, 2), "h": height(b), "y": base - height(b)},
            "width": width, "label": f"{day:%-d %b}" if i % every == 0 else "",
            "middle": round(x + slot / 2, 1),
        })  # fmt: skip
    return {"slots": slots if top else [], "base": base, "width": 32 + COLUMNS_WIDTH}


def times(scope: Scope) -> Card:
    """How long tickets waited for a first answer (answered in the period) and to be solved
    (solved in the period): median and 90th percentile, in business hours and round the
    clock."""
    # One query each, answered and solved, each read from its own index.
    tickets = scope.tickets()
    spreads = {
        "fr": _spread(tickets.filter(scope.within("first_response_at")),
                      "first_response_seconds", "first_response_at"),
        "res": _spread(tickets.filter(scope.within("solved_at")), "resolution_seconds",
                       "solved_at"),
    }  # fmt: skip
    rows, bars = [], []
    for key, label, short, params in (
        ("fr", "First response", "Answer", {"responded": scope.days()}),
        ("res", "Resolution", "Solve", {"solved": scope.days()}),
    ):  # fmt: skip
        url = scope.list_url(**params)
        spread = spreads[key]
        median, p90 = spread["median"], spread["p90"]
        rows.append([
            label_cell(label), count_cell(int(spread["n"] or 0), url), _hours(median, url),
            _hours(p90, url), _hours(spread["clock_median"], url),
            _hours(spread["clock_p90"], url),
        ])  # fmt: skip
        # Labels short enough for the chart's 16 characters.
        bars += [(f"{short}, median", median, _hours(median).text, url),
                 (f"{short}, 90th %", p90, _hours(p90).text, url)]  # fmt: skip
    plot = bar_plot([(lb, _decimal(v), text, url) for lb, v, text, url in bars])
    return Card(
        "times", "Response and resolution times", scope.period.label, "components/_chart_bars.html",
        ["Measure", "Tickets", "Median (business hours)", "90th percentile (business hours)",
         "Median (round the clock)", "90th percentile (round the clock)"],
        rows, scope.list_url(solved=scope.days()),
        plot=plot | {"legend": ("In business hours",)}, open=True,
    )  # fmt: skip


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def sla(scope: Scope) -> Card:
    """Of the tickets first answered (solved) in the period with a due time, the share
    answered (solved) by it. A ticket whose clock was stopped, pending on the customer, when
    it was answered or solved has no due time and is left out."""
    answered = scope.within("first_response_at") & Q(first_response_due__isnull=False)
    solved = scope.within("solved_at") & Q(resolution_due__isnull=False)
    found = scope.tickets().filter(answered | solved).aggregate(
        fr=Count("pk", filter=answered),
        fr_met=Count("pk", filter=answered & Q(first_response_at__lte=F("first_response_due"))),
        res=Count("pk", filter=solved),
        res_met=Count("pk", filter=solved & Q(solved_at__lte=F("resolution_due"))),
    )  # fmt: skip
    rows, bars = [], []
    for key, label, params in (
        ("fr", "First response", {"responded": scope.days()}),
        ("res", "Resolution", {"solved": scope.days()}),
    ):
        field = "first_response_sla" if key == "fr" else "resolution_sla"
        n, met = found[key], found[f"{key}_met"]
        met_url = scope.list_url(**params, **{field: "met"})
        missed_url = scope.list_url(**params, **{field: "missed"})
        share = share_cell(met, n, met_url)
        # No link on the count: the list would need "has a due time" as a filter as well.
        rows.append([label_cell(label), count_cell(n), count_cell(met, met_url),
                     count_cell(n - met, missed_url), share])  # fmt: skip
        bars.append((label, share.value, share.text, met_url))
    # Scaled to 100%, not to the larger share: a bar's length is its share.
    plot = bar_plot([*bars, ("", 100, "", "")])
    plot["bars"].pop()
    plot["height"] -= 30
    return Card(
        "sla", "SLA attainment", scope.period.label, "components/_chart_bars.html",
        ["Target", "With a due time", "Met", "Missed", "Met (%)"], rows,
        scope.list_url(responded=scope.days()), plot=plot,
    )  # fmt: skip


def breaches(scope: Scope) -> Card:
    """SLA breaches recorded in the period, by the ticket's queue now and by target."""
    events = TicketEvent.objects.filter(
        kind=TicketEvent.Kind.BREACHED, at__gte=scope.period.start, at__lt=scope.period.end,
        ticket__in=scope.tickets().values("pk"),
    )  # fmt: skip
    first = Q(key__startswith="first_response:")
    found = {
        queue: (fr, total)
        for queue, fr, total in events.order_by().values_list("ticket__queue_id").annotate(
            fr=Count("pk", filter=first), total=Count("pk")
        )
    }  # fmt: skip
    queues = [q for q in Queue.objects.order_by("position", "name", "id")
              if not q.is_archived or q.pk in found]  # fmt: skip
    rows, bars = [], []
    days = scope.days()
    for queue in queues:
        fr, total = found.get(queue.pk, (0, 0))
        url = scope.list_url(queue=queue.pk, breached=days)
        rows.append([
            label_cell(queue.name),
            count_cell(fr, scope.list_url(queue=queue.pk, breached=days, breach="first_response")),
            count_cell(total - fr,
                       scope.list_url(queue=queue.pk, breached=days, breach="resolution")),
            count_cell(total, url),
        ])  # fmt: skip
        bars.append((queue.name, total, f"{total:,}", url))
    url = scope.list_url(breached=days)
    total = sum(t for _, t in found.values())
    return Card(
        "breaches", "SLA breaches by queue", scope.period.label, "components/_chart_bars.html",
        ["Queue", "First response", "Resolution", "Total"], rows, url, plot=bar_plot(bars),
        figures=[("Breaches", count_cell(total, url))],
    )  # fmt: skip


def agents(scope: Scope) -> Card:
    """Per agent: unsolved tickets assigned now, tickets solved in the period, the median
    business time to a first response (of the tickets answered in the period, by their
    assignee now) and the average rating (of the tickets rated in the period)."""
    tickets, mine = scope.tickets(), None if scope.org_wide else scope.membership.user_id
    if mine is not None:
        tickets = tickets.filter(Q(assignee_id=mine))
    open_now = dict(
        tickets.filter(status__in=UNSOLVED).values_list("assignee_id").annotate(n=Count("*"))
    )
    solved = dict(
        tickets.filter(scope.within("solved_at")).values_list("assignee_id")
        .annotate(n=Count("*"))
    )  # fmt: skip
    rated = {
        assignee: (total, n)
        for assignee, total, n in tickets.filter(scope.within("csat_at"), csat_score__isnull=False)
        .values_list("assignee_id").annotate(total=Sum("csat_score"), n=Count("*"))
    }  # fmt: skip
    answered = dict(
        tickets.filter(scope.within("first_response_at")).values_list("assignee_id")
        .annotate(median=_PercentileCont(F("first_response_seconds"), 0.5))
    )  # fmt: skip
    people = _people(scope, {*open_now, *solved, *rated} - {None})
    days = scope.days()
    rows, bars = [], []
    for person in people:
        pk = person.pk
        name = person.display_name
        solved_url = scope.list_url(owner=pk, solved=days)
        median = answered.get(pk)
        total, n = rated.get(pk, (0, 0))
        rows.append([
            label_cell(name),
            count_cell(open_now.get(pk, 0), scope.list_url(inbox="open", owner=pk)),
            count_cell(solved.get(pk, 0), solved_url),
            _hours(median, scope.list_url(owner=pk, responded=days)),
            _average(total, n, scope.list_url(owner=pk, rated=days)),
        ])  # fmt: skip
        bars.append((name, solved.get(pk, 0), f"{solved.get(pk, 0):,}", solved_url))
    if mine is None and open_now.get(None):
        rows.append([label_cell("Unassigned"),
                     count_cell(open_now[None], scope.list_url(inbox="unassigned")),
                     Cell(None, ""), Cell(None, ""), Cell(None, "")])  # fmt: skip
    return Card(
        "agents", "By agent", scope.period.label, "components/_chart_bars.html",
        ["Agent", "Assigned open", "Solved", "Median first response (business hours)",
         "CSAT average"],
        rows, scope.list_url(solved=days),
        plot=bar_plot(bars) | {"legend": ("Solved in the period",)}, open=True,
    )  # fmt: skip


def _people(scope: Scope, assignees: set[int]) -> list[User]:
    """The table's rows: the member alone without dashboard.view_all; else the agents, and
    whoever else the figures name, by name."""
    if not scope.org_wide:
        wanted = Q(pk=scope.membership.user_id)
    else:
        agents = Membership.objects.filter(role=Role.AGENT).values("user_id")
        wanted = Q(pk__in=agents) | Q(pk__in=assignees)
    return list(org_users().filter(wanted).only("first_name", "last_name", "email"))


def csat(scope: Scope) -> Card:
    """Ratings given in the period: their average and how many of each score."""
    found = dict(
        scope.tickets().filter(scope.within("csat_at"), csat_score__isnull=False)
        .values_list("csat_score").annotate(n=Count("*"))
    )  # fmt: skip
    days = scope.days()
    n = sum(found.values())
    url = scope.list_url(rated=days)
    rows, bars = [], []
    for score in (5, 4, 3, 2, 1):
        count = found.get(score, 0)
        score_url = scope.list_url(rated=days, csat=score)
        rows.append([label_cell(f"{score} of 5"), count_cell(count, score_url),
                     share_cell(count, n, score_url)])  # fmt: skip
        bars.append((f"{score} of 5", count, f"{count:,}", score_url))
    total = sum(score * count for score, count in found.items())
    return Card(
        "csat", "Customer satisfaction", scope.period.label, "components/_chart_bars.html",
        ["Rating", "Tickets", "Share"], rows, url, plot=bar_plot(bars),
        figures=[("Average rating", _average(total, n, url)), ("Ratings", count_cell(n, url))],
    )  # fmt: skip


CARDS: dict[str, Callable[[Scope], Card]] = {
    "open": open_by_queue, "flow": created_solved, "times": times, "sla": sla,
    "breaches": breaches, "agents": agents, "csat": csat,
}  # fmt: skip


def support_dashboard(scope: Scope) -> list[Card]:
    """Every card of the support dashboard, in the order the page shows them."""
    return [make(scope) for make in CARDS.values()]


# --- A year's figures, kept a while (crm.dashboards.Keeper) --------------------------------


def _whose(scope: Scope) -> tuple[str, ...]:
    """One set of figures for the members who see every ticket and every agent; one per
    member for the others."""
    everyone = scope.org.visibility_for(scope.membership.role) == Organization.Visibility.ALL
    return ("all" if everyone and scope.org_wide else str(scope.membership.user_id),)


KEEPER = Keeper("support_dashboard", support_dashboard, _whose, "support.dashboard_keep",
                lambda scope: {})  # fmt: skip


def dashboard_figures(scope: Scope, *, now_please: bool = False) -> Figures:
    """The figures the page shows (kept over a long period: crm.dashboards.Keeper)."""
    return KEEPER.figures(scope, now_please=now_please)


def keep_figures(scope: Scope) -> list[Card]:
    """Read the figures and keep them for the next visit."""
    return KEEPER.keep(scope)
