"""The pipeline dashboard's figures: a handful of SQL aggregates over the deals a member may
see, in the organisation's time zone and base currency, so that two managers anywhere see
the same numbers. Its periods, cards, cells, bars and kept figures are every dashboard's
(crm.dashboards).

Also the monthly targets the forecast is measured against, and their one write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from crm.audit import audit_record
from crm.dashboards import (
    Bar,
    Card,
    Cell,
    Keeper,
    Period,
    bar_plot,
    count_cell,
    label_cell,
    midnight,
    month_start,
    share_cell,
)
from crm.models import Membership, Organization, Role, Team, TeamMember, User
from crm.permissions import can
from crm.selectors import org_users
from crm.tenancy import require_org
from interactions.models import Interaction, Task
from sales.models import Deal, DealStageChange, Pipeline, Stage, Target
from sales.money import money

ALL = "dashboard.view_all"  # the whole organisation's figures; without it, one's own
FORECAST_MONTHS = 6
SLIPPING_SHOWN = 20
_CENT, _TENTH = Decimal("0.01"), Decimal("0.1")
_AMOUNT: DecimalField[Decimal, Decimal] = DecimalField(max_digits=24, decimal_places=4)


# --- What the dashboard covers ------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose deals, in which pipeline, over which period: the filters at the top."""

    membership: Membership
    pipeline: Pipeline
    stages: list[Stage]
    period: Period
    owner: User | None = None
    team: Team | None = None
    now: datetime = field(default_factory=timezone.now)

    @property
    def org(self) -> Organization:
        return require_org()

    @property
    def today(self) -> date:
        return self.now.astimezone(self.period.zone).date()

    def stage_ids(self, kind: str) -> list[int]:
        return [stage.pk for stage in self.stages if stage.kind == kind]

    def owner_ids(self) -> QuerySet[Any] | list[int] | None:
        """The owners the figures are limited to; None for everyone visible."""
        if self.owner is not None:
            return [self.owner.pk]
        if self.team is not None:
            return TeamMember.objects.filter(team=self.team).values("membership__user_id")
        return None

    def deals(self) -> QuerySet[Deal]:
        """The pipeline's deals these figures are made of: the member's visible ones, of the
        chosen owner or team."""
        found = Deal.objects.alive().visible_to(self.membership).filter(pipeline=self.pipeline)
        owners = self.owner_ids()
        if owners is not None:
            found = found.filter(owner_id__in=owners)
        return found.order_by()

    def list_url(self, **params: Any) -> str:
        """The deals list, filtered to the deals behind a figure."""
        query: dict[str, Any] = {"pipeline": self.pipeline.pk}
        if self.owner is not None:
            query["owner"] = self.owner.pk
        elif self.team is not None:
            query["team"] = self.team.pk
        query.update({name: value for name, value in params.items() if value is not None})
        return reverse("deal:list", args=[self.org.slug]) + "?" + urlencode(query)

    def closed_params(self, first: date, last: date) -> dict[str, str]:
        return {"closed_after": first.isoformat(), "closed_before": last.isoformat()}


def scope_for(
    membership: Membership, *, pipeline: Pipeline, stages: list[Stage], period: Period,
    owner: User | None = None, team: Team | None = None, now: datetime | None = None,
) -> Scope:  # fmt: skip
    """The scope a member may have: without dashboard.view_all, their own deals alone."""
    if not can(membership, ALL):
        owner, team = membership.user, None
    elif owner is not None:
        team = None
    return Scope(membership, pipeline, stages, period, owner, team, now or timezone.now())


# --- The pipeline's own cells and charts --------------------------------------------------


def _amount(value: Decimal | None, currency: str, url: str = "") -> Cell:
    value = (value or Decimal(0)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return Cell(value, money(value, currency), url)


def _days(seconds: Decimal | float | None, url: str = "") -> Cell:
    if seconds is None:
        return Cell(None, "—", url)
    value = (Decimal(str(seconds)) / 86400).quantize(_TENTH, rounding=ROUND_HALF_UP)
    return Cell(value, f"{value} day{'' if value == 1 else 's'}", url)


def _weighted(value: Any) -> Decimal:
    """A sum of amount * probability, in hundredths, as an amount."""
    return (Decimal(value or 0) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def _weight() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount_base") * F("stage__probability"), output_field=_AMOUNT)


COLUMN_PLOT = 140  # the forecast's tallest column, in the SVG's own units


def _columns(months: list[dict[str, Any]]) -> dict[str, Any]:
    """The forecast: three columns a month (weighted, best case, won) and the target's mark."""
    values = [m[name] for m in months for name in ("weighted", "best", "won", "target")]
    top = max([Decimal(v or 0) for v in values] + [Decimal(0)])

    def height(value: Decimal | None) -> float:
        return round(float(Decimal(value or 0) / top * COLUMN_PLOT), 1) if top else 0.0

    slots = []
    for i, month in enumerate(months):
        x = 40 + i * 64
        columns = []
        for j, name in enumerate(("weighted", "best", "won")):
            h = height(month[name])
            columns.append({"name": name, "x": x + j * 15, "y": 20 + COLUMN_PLOT - h, "h": h})
        target = month["target"]
        mark = None if target is None else 20 + COLUMN_PLOT - height(target)
        slots.append({"label": month["label"], "x": x, "columns": columns, "target": mark,
                      "title": month["title"]})  # fmt: skip
    return {"slots": slots, "base": 20 + COLUMN_PLOT, "width": 40 + 64 * len(months)}


# --- The cards ----------------------------------------------------------------------------


def open_by_stage(scope: Scope) -> Card:
    """Open deals by stage now: how many, their amount, and that amount weighted by the
    stage's probability."""
    currency = scope.org.base_currency
    found = {
        row["stage_id"]: row
        for row in scope.deals().filter(closed_at__isnull=True).values("stage_id").annotate(
            n=Count("pk"), amount=Sum("amount_base"), weighted=Sum(_weight())
        )
    }  # fmt: skip
    rows: list[list[Cell]] = []
    cells: list[Bar] = []
    inner: list[Decimal | int | None] = []
    count, total, total_weighted = 0, Decimal(0), Decimal(0)
    for stage in scope.stages:
        if stage.kind != Stage.Kind.OPEN or (stage.is_archived and stage.pk not in found):
            continue
        row = found.get(stage.pk, {})
        n, amount = row.get("n", 0), row.get("amount") or Decimal(0)
        weighted = _weighted(row.get("weighted"))
        url = scope.list_url(status="open", stage=stage.pk)
        rows.append([
            label_cell(stage.name), Cell(stage.probability, f"{stage.probability}%"),
            count_cell(n, url),
            _amount(amount, currency, url), _amount(weighted, currency, url),
        ])  # fmt: skip
        cells.append((stage.name, amount, money(amount, currency), url))
        inner.append(weighted)
        count, total, total_weighted = count + n, total + amount, total_weighted + weighted
    url = scope.list_url(status="open")
    rows.append([
        label_cell("Total"), label_cell(""), count_cell(count, url), _amount(total, currency, url),
        _amount(total_weighted, currency, url),
    ])  # fmt: skip
    return Card(
        "stages", "Open pipeline by stage", "Now", "components/_chart_bars.html",
        ["Stage", "Probability", "Deals", "Amount", "Weighted"], rows, url,
        plot=bar_plot(cells, inner) | {"legend": ("Amount", "Weighted")},
    )  # fmt: skip


def forecast(scope: Scope) -> Card:
    """The period's months (a month's period: the six from it): open deals by expected close
    (weighted, and all of them: the best case), against what was won in each month and the
    target. A quarter or a year reads as what was won against the targets, month by month,
    with what is still open where it is expected."""
    currency, zone = scope.org.base_currency, scope.period.zone
    first, last = month_start(scope.period.first), month_start(scope.period.last)
    span = (last.year - first.year) * 12 + last.month - first.month + 1
    count = min(span, 12) if span > 1 else FORECAST_MONTHS
    months = [month_start(first, i) for i in range(count)]
    after = month_start(first, count)
    expected = {
        row["month"]: row
        for row in scope.deals().filter(
            closed_at__isnull=True, close_date__gte=first, close_date__lt=after
        ).annotate(month=TruncMonth("close_date")).values("month").annotate(
            best=Sum("amount_base"), weighted=Sum(_weight())
        )
    }  # fmt: skip
    won = {
        row["month"].date(): row["won"]
        for row in scope.deals().filter(
            stage_id__in=scope.stage_ids(Stage.Kind.WON),
            closed_at__gte=midnight(first, zone), closed_at__lt=midnight(after, zone),
        ).annotate(month=TruncMonth("closed_at", tzinfo=zone)).values("month").annotate(
            won=Sum("amount_base")
        )
    }  # fmt: skip
    targets = _targets(scope, first, after)
    rows, plotted = [], []
    for month in months:
        last = month_start(month, 1) - timedelta(days=1)
        row = expected.get(month, {})
        open_url = scope.list_url(status="open", close_after=month.isoformat(),
                                  close_before=last.isoformat())  # fmt: skip
        won_url = scope.list_url(status="won", **scope.closed_params(month, last))
        values = {"weighted": _weighted(row.get("weighted")), "best": row.get("best") or Decimal(0),
                  "won": won.get(month) or Decimal(0), "target": targets.get(month)}  # fmt: skip
        target = values["target"]
        rows.append([
            label_cell(f"{month:%b %Y}"), _amount(values["weighted"], currency, open_url),
            _amount(values["best"], currency, open_url), _amount(values["won"], currency, won_url),
            _amount(target, currency) if target is not None else Cell(None, "—"),
        ])  # fmt: skip
        title = ", ".join(f"{name} {cell.text}" for name, cell in zip(
            ("weighted", "best case", "won", "target"), rows[-1][1:], strict=True))  # fmt: skip
        plotted.append(values | {"label": f"{month:%b}", "title": f"{month:%B %Y}: {title}"})
    return Card(
        "forecast", "Forecast", f"{first:%b %Y} – {months[-1]:%b %Y}",
        "components/_chart_columns.html", ["Month", "Weighted", "Best case", "Won", "Target"],
        rows, scope.list_url(status="open", close_after=first.isoformat(),
                             close_before=(after - timedelta(days=1)).isoformat()),
        plot=_columns(plotted),
    )  # fmt: skip


def _targets(scope: Scope, first: date, after: date) -> dict[date, Decimal]:
    """The chosen rep's or team's target by month; for everyone, the sum of the reps'."""
    found = Target.objects.filter(month__gte=first, month__lt=after)
    if scope.owner is not None:
        found = found.filter(user=scope.owner)
    elif scope.team is not None:
        found = found.filter(team=scope.team)
    else:
        found = found.filter(user__isnull=False)
    rows = found.order_by().values("month").annotate(amount=Sum("amount"))
    return {row["month"]: row["amount"] for row in rows}


def results(scope: Scope) -> Card:
    """Deals closed in the period: the win rate, the average won deal and how long it took
    from creation to won, and the average time a deal spent in each stage it left."""
    currency, period = scope.org.base_currency, scope.period
    won_ids, lost_ids = scope.stage_ids(Stage.Kind.WON), scope.stage_ids(Stage.Kind.LOST)
    won = Q(stage_id__in=won_ids)
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    found = scope.deals().filter(closed_at__gte=period.start, closed_at__lt=period.end).aggregate(
        won=Count("pk", filter=won), lost=Count("pk", filter=Q(stage_id__in=lost_ids)),
        won_amount=Sum("amount_base", filter=won), size=Avg("amount_base", filter=won),
        cycle=Avg(cycle, filter=won),
    )  # fmt: skip
    closed = scope.closed_params(period.first, period.last)
    won_url, lost_url = (
        scope.list_url(status="won", **closed),
        scope.list_url(status="lost", **closed),
    )
    cycle_seconds = found["cycle"].total_seconds() if found["cycle"] is not None else None
    figures = [
        ("Win rate",
         share_cell(found["won"], found["won"] + found["lost"], scope.list_url(**closed))),
        ("Won", count_cell(found["won"], won_url)),
        ("Lost", count_cell(found["lost"], lost_url)),
        ("Won amount", _amount(found["won_amount"], currency, won_url)),
        ("Average deal size", _amount(found["size"], currency, won_url)
         if found["size"] is not None else Cell(None, "—", won_url)),
        ("Average sales cycle", _days(cycle_seconds, won_url)),
    ]  # fmt: skip
    stays = time_in_stage(scope)
    total = found["won"] + found["lost"]
    split = [("Won", found["won"], f"{found['won']:,}", won_url),
             ("Lost", found["lost"], f"{found['lost']:,}", lost_url)]  # fmt: skip
    return Card(
        "results", "Win rate and cycle", period.label, "components/_chart_split.html",
        ["Stage", "Moves out", "Average time in stage"], stays, scope.list_url(**closed),
        plot={"parts": _split(split, total)},
        figures=figures,
    )  # fmt: skip


def _split(parts: list[tuple[str, int, str, str]], total: int) -> list[dict[str, Any]]:
    """Parts of one 400-long bar, each as long as its share, one after the other."""
    found, x = [], 10.0
    for label, n, text, url in parts:
        width = round(400 * n / total, 1) if total else 0.0
        found.append({"label": label, "text": text, "url": url, "x": x, "width": width})
        x += width
    return found


def time_in_stage(scope: Scope) -> list[list[Cell]]:
    """For each stage, the deals that left it in the period and how long, on average, they
    had been in it."""
    period = scope.period
    # Leaving out the deals in the Trash (a few, read by their own index) rather than joining
    # every deal: the changes are then summed from their index alone.
    changes = DealStageChange.objects.filter(
        at__gte=period.start, at__lt=period.end, from_stage_id__in=[s.pk for s in scope.stages],
    ).exclude(deal_id__in=Deal.objects.trashed().values("pk"))  # fmt: skip
    owners = scope.owner_ids()
    if owners is not None:
        changes = changes.filter(deal__owner_id__in=owners)
    if require_org().visibility_for(scope.membership.role) != Organization.Visibility.ALL:
        changes = changes.filter(deal__in=Deal.objects.visible_to(scope.membership).values("pk"))
    found = {
        row["from_stage_id"]: row
        for row in changes.order_by().values("from_stage_id").annotate(
            n=Count("deal_id"), seconds=Avg("seconds_in_from")
        )
    }  # fmt: skip
    rows = []
    for stage in scope.stages:
        if (stage.kind != Stage.Kind.OPEN or stage.is_archived) and stage.pk not in found:
            continue  # a closed stage appears only when reopened deals left it
        row = found.get(stage.pk, {})
        rows.append(
            [label_cell(stage.name), count_cell(row.get("n", 0)), _days(row.get("seconds"))]
        )
    return rows


def funnel(scope: Scope) -> Card:
    """Of the deals created in the period, how many reached each stage or went beyond it
    (won counts as beyond every open stage; a deal moved back counts once, at the furthest
    stage it reached)."""
    period = scope.period
    steps = [s for s in scope.stages if s.kind == Stage.Kind.OPEN and not s.is_archived]
    # Each deal's furthest stage is kept on it (sales.services.furthest): one count by it,
    # from one index, rather than every deal's history. It is a stage, not a rank, so the
    # funnel reads it by where the stages are now: after a reorder in Settings a deal
    # counts by its stage's new place, as the board would show it.
    by_furthest = dict(
        scope.deals().filter(created_at__gte=period.start, created_at__lt=period.end)
        .values_list("furthest_stage_id").annotate(n=Count("*"))  # from the index alone
    )  # fmt: skip
    # "Reached step i or beyond": a deal counts at every step up to its furthest; at every
    # one when won; an archived stage counts at the steps before it.
    reached = [0] * (len(steps) + 1)
    won = set(scope.stage_ids(Stage.Kind.WON))
    for stage in scope.stages:
        n = by_furthest.get(stage.pk, 0)
        if not n or stage.kind == Stage.Kind.LOST:
            continue
        place = (stage.position, stage.pk)
        top = len(steps) if stage.pk in won else sum(
            (s.position, s.pk) <= place for s in steps
        ) - 1  # fmt: skip
        for i in range(top + 1):
            reached[i] += n
    url = scope.list_url(created_after=period.first.isoformat(),
                         created_before=period.last.isoformat())  # fmt: skip
    names = [stage.name for stage in steps] + ["Won"]
    rows, cells = [], []
    for i, name in enumerate(names):
        from_first = share_cell(reached[i], reached[0]) if i else Cell(None, "")
        from_last = share_cell(reached[i], reached[i - 1]) if i else Cell(None, "")
        rows.append([label_cell(name), count_cell(reached[i], url), from_last, from_first])
        cells.append((name, reached[i], f"{reached[i]:,}", url))
    return Card(
        "funnel", "Conversion funnel", period.label, "components/_chart_bars.html",
        ["Stage reached", "Deals", "From the stage before", "From the first"], rows, url,
        plot=bar_plot(cells),
    )  # fmt: skip


def reps(scope: Scope) -> Card:
    """Per owner: open amount, won amount and win rate in the period, interactions logged
    in the period and open tasks past due."""
    currency, period = scope.org.base_currency, scope.period
    closed_in = Q(closed_at__gte=period.start, closed_at__lt=period.end)
    won = closed_in & Q(stage_id__in=scope.stage_ids(Stage.Kind.WON))
    lost = closed_in & Q(stage_id__in=scope.stage_ids(Stage.Kind.LOST))
    # Two queries, not one with an OR: each then reads an index of its own (the open deals',
    # and the closed deals' sums), and neither the table.
    by_owner: dict[int | None, dict[str, Any]] = {}
    for row in scope.deals().filter(closed_at__isnull=True).values("owner_id").annotate(
        open=Sum("amount_base")
    ):  # fmt: skip
        by_owner[row["owner_id"]] = {"open": row["open"], "won": None, "n_won": 0, "n_lost": 0}
    for row in scope.deals().filter(closed_in).values("owner_id").annotate(
        won=Sum("amount_base", filter=won), n_won=Count("pk", filter=won),
        n_lost=Count("pk", filter=lost),
    ):  # fmt: skip
        by_owner.setdefault(row["owner_id"], {"open": None}).update(
            won=row["won"], n_won=row["n_won"], n_lost=row["n_lost"]
        )
    people = _people(scope, [pk for pk in by_owner if pk is not None])
    ids = [person.pk for person in people]
    logged = dict(
        Interaction.objects.alive().filter(
            author_id__in=ids, occurred_at__gte=period.start, occurred_at__lt=period.end
        ).order_by().values_list("author_id").annotate(n=Count("*"))  # from the index alone
    )  # fmt: skip
    overdue = dict(
        Task.objects.open().filter(assignee_id__in=ids, due_at__lt=scope.now)
        .order_by().values_list("assignee_id").annotate(n=Count("pk"))
    )  # fmt: skip
    closed = scope.closed_params(period.first, period.last)
    slug = scope.org.slug
    rows, cells = [], []
    for person in [*people, None]:
        found = by_owner.get(person.pk if person else None)
        if person is None and found is None:
            continue
        row = found or {"open": None, "won": None, "n_won": 0, "n_lost": 0}
        owner = {"owner": person.pk if person else None}
        mine = {"pipeline": scope.pipeline.pk, **owner}
        open_url = _list(slug, "deal", mine | {"status": "open"})
        won_url = _list(slug, "deal", mine | {"status": "won", **closed})
        rate_url = _list(slug, "deal", mine | closed)
        if (
            person is None
        ):  # the list has no filter for "nobody's": no link, rather than a wrong one
            open_url = won_url = rate_url = ""
        name = person.display_name if person else "No owner"
        logged_url = _list(slug, "interaction", owner | {
            "occurred_after": period.first.isoformat(),
            "occurred_before": period.last.isoformat(),
        })  # fmt: skip
        tasks_url = _list(slug, "task", owner | {"status": "open", "due": "overdue"})
        rows.append([
            label_cell(name), _amount(row["open"], currency, open_url),
            _amount(row["won"], currency, won_url),
            share_cell(row["n_won"], row["n_won"] + row["n_lost"], rate_url),
            count_cell(logged.get(person.pk, 0), logged_url) if person else Cell(None, ""),
            count_cell(overdue.get(person.pk, 0), tasks_url) if person else Cell(None, ""),
        ])  # fmt: skip
        cells.append((name, row["won"], money(row["won"] or 0, currency), won_url))
    return Card(
        "reps", "By rep", period.label, "components/_chart_bars.html",
        ["Rep", "Open amount", "Won amount", "Win rate", "Interactions", "Overdue tasks"],
        rows, scope.list_url(), plot=bar_plot(cells) | {"legend": ("Won amount",)}, open=True,
    )  # fmt: skip


def _list(slug: str, kind: str, params: dict[str, Any]) -> str:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    return reverse(f"{kind}:list", args=[slug]) + "?" + query


def _people(scope: Scope, owners: list[int]) -> list[User]:
    """The rows of the per-rep table: the owner chosen, else the team's members or the
    organisation's reps, and whoever owns deals among the figures, by name."""
    if scope.owner is not None:
        wanted: Q = Q(pk=scope.owner.pk)
    elif scope.team is not None:
        wanted = Q(pk__in=TeamMember.objects.filter(team=scope.team).values("membership__user_id"))
    else:
        wanted = Q(pk__in=Membership.objects.filter(role=Role.REP).values("user_id"))
    found = org_users().filter(wanted | Q(pk__in=owners)).only("first_name", "last_name", "email")
    return list(found)


def slipping(scope: Scope) -> Card:
    """Open deals whose expected close has passed: the largest first."""
    currency, today = scope.org.base_currency, scope.today
    late = scope.deals().filter(closed_at__isnull=True, close_date__lt=today)
    summary = late.aggregate(n=Count("pk"), amount=Sum("amount_base"))
    shown = list(
        late.select_related("stage").only("title", "amount_base", "close_date", "stage__name")
        .order_by(F("amount_base").desc(nulls_last=True), "close_date", "id")[:SLIPPING_SHOWN]
    )  # fmt: skip
    slug = scope.org.slug
    rows, cells = [], []
    for deal in shown:
        url = reverse("deals:detail", args=[slug, deal.pk])
        close = deal.close_date or today  # never None here: the filter wants a date before
        rows.append([
            Cell(deal.title, deal.title, url, num=False), label_cell(deal.stage.name),
            Cell(close.isoformat(), f"{close:%-d %b %Y}", num=False),
            Cell((today - close).days, f"{(today - close).days:,}"),
            _amount(deal.amount_base, currency),
        ])  # fmt: skip
        cells.append((deal.title, deal.amount_base, money(deal.amount_base or 0, currency), url))
    url = scope.list_url(status="open", close_before=(today - timedelta(days=1)).isoformat(),
                         sort="-amount")  # fmt: skip
    return Card(
        "slipping", "Slipping deals", f"Expected before {today:%-d %b %Y}",
        "components/_chart_bars.html", ["Deal", "Stage", "Expected close", "Days late", "Amount"],
        rows, url, plot=bar_plot(cells),
        figures=[("Open deals past their close date", count_cell(summary["n"], url)),
                 ("Their amount", _amount(summary["amount"], currency, url))],
        open=True,
    )  # fmt: skip


CARDS = {"stages": open_by_stage, "forecast": forecast, "results": results, "funnel": funnel,
         "reps": reps, "slipping": slipping}  # fmt: skip


def pipeline_dashboard(scope: Scope) -> list[Card]:
    """Every card of the pipeline dashboard, in the order the page shows them."""
    return [make(scope) for make in CARDS.values()]


def _whose(scope: Scope) -> tuple[str, ...]:
    """Whose figures: one set for the members who see every deal of the organisation, one
    per member for the others; and the pipeline, owner and team chosen."""
    sees_all = scope.org.visibility_for(scope.membership.role) == Organization.Visibility.ALL
    who = "all" if sees_all and can(scope.membership, ALL) else str(scope.membership.user_id)
    owner, team = scope.owner.pk if scope.owner else "", scope.team.pk if scope.team else ""
    return who, f"p{scope.pipeline.pk}", f"o{owner}", f"t{team}"


KEEPER = Keeper(
    "pipeline_dashboard", pipeline_dashboard, _whose, "sales.dashboard_keep",
    lambda scope: {"pipeline_id": scope.pipeline.pk,
                   "owner_id": scope.owner.pk if scope.owner else None,
                   "team_id": scope.team.pk if scope.team else None},
)  # fmt: skip


# --- Targets ------------------------------------------------------------------------------


def targets_of(first: date, months: int = 12) -> list[Target]:
    """The targets set for `months` months from `first`, by month and then whose."""
    found = Target.objects.filter(month__gte=first, month__lt=month_start(first, months))
    return list(
        found.select_related("user", "team").order_by(
            "month", "team__name", "user__first_name", "id"
        )
    )


@transaction.atomic
def target_set(
    *, org: Organization, by: User | None, month: date, amount: Decimal | None,
    user: User | None = None, team: Team | None = None,
) -> Target | None:  # fmt: skip
    """Set a rep's or a team's target for a month (in the base currency); no amount removes
    it. Audited."""
    if (user is None) == (team is None):
        raise ValueError("A target is for a rep or for a team.")
    month = month_start(month)
    whose: dict[str, Any] = {"user": user} if user is not None else {"team": team}
    current = Target.objects.select_for_update().filter(month=month, **whose).first()
    before = current.amount if current else None
    if amount is None:
        if current is not None:
            audit_record(org=org, actor=by, action="target.removed", target=current,
                         changes={"amount": [str(before), None]})  # fmt: skip
            current.delete()
        return None
    target = current or Target(org=org, month=month, **whose)
    target.amount = amount
    target.save()
    if before != amount:
        was = None if before is None else str(before)
        audit_record(org=org, actor=by, action="target.set", target=target,
                     changes={"amount": [was, str(amount)]})  # fmt: skip
    return target
