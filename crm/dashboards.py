"""What every dashboard is made of: periods in the organisation's time zone and fiscal
year; cards, each carrying its figures once as a table of cells (the page's chart, its
"Data" table and the CSV export all read that one table); the bar chart's geometry; and the
keeper of a long period's figures. The pipeline dashboard (sales.dashboard) and the support
dashboard (support.dashboard) are built of these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache

from crm.tasks import enqueue
from crm.tenancy import cache_key

PERIODS = [
    ("this_month", "This month"), ("last_month", "Last month"),
    ("this_quarter", "This quarter"), ("last_quarter", "Last quarter"),
    ("this_year", "This year"), ("last_12_months", "Last 12 months"), ("custom", "From – to"),
]  # fmt: skip
_TENTH = Decimal("0.1")


# --- Periods ------------------------------------------------------------------------------


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month `months` after the one holding `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year(day: date, start: int) -> int:
    """The fiscal year holding `day`, named by the calendar year it ends in (with a start
    in April, FY2027 runs from April 2026 to March 2027); from January, the calendar year."""
    return month_start(day, 11 - (day.month - start) % 12).year


def period_days(
    key: str, today: date, first: date | None = None, last: date | None = None, *,
    fiscal_start: int = 1,
) -> tuple[date, date]:  # fmt: skip
    """The first and last day (both included) of a period, seen from `today`. Quarters and
    years are the organisation's fiscal ones, which start in the month `fiscal_start`."""
    quarter = month_start(today, -((today.month - fiscal_start) % 3))
    year = month_start(today, -((today.month - fiscal_start) % 12))
    match key:
        case "last_month":
            return month_start(today, -1), month_start(today) - timedelta(days=1)
        case "this_quarter":
            return quarter, month_start(quarter, 3) - timedelta(days=1)
        case "last_quarter":
            return month_start(quarter, -3), quarter - timedelta(days=1)
        case "this_year":
            return year, month_start(year, 12) - timedelta(days=1)
        case "last_12_months":  # the eleven whole months before this one, and this one
            return month_start(today, -11), month_start(today, 1) - timedelta(days=1)
        case "custom" if first and last:
            return min(first, last), max(first, last)
    return month_start(today), month_start(today, 1) - timedelta(days=1)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The moment a day starts in `zone`: an aware datetime, right on either side of a
    change of summer time (the offset is the day's own, not today's)."""
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Period:
    """Days from `first` to `last`, both included, in the organisation's time zone."""

    key: str
    first: date
    last: date
    zone: ZoneInfo
    fiscal_start: int = 1  # the month the organisation's fiscal year starts in

    @property
    def start(self) -> datetime:
        return midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first moment after the period: it runs up to, not including, this."""
        return midnight(self.last + timedelta(days=1), self.zone)

    @property
    def label(self) -> str:
        """Its dates; a quarter or a year named first, as finance reads it: "Q1 FY2027" and
        "FY2027" with a fiscal year from April, "Q1 2026" and "2026" from January."""
        if self.first.year != self.last.year:
            dates = f"{self.first:%-d %b %Y} – {self.last:%-d %b %Y}"
        elif self.first.month != self.last.month:
            dates = f"{self.first:%-d %b} – {self.last:%-d %b %Y}"
        else:
            dates = f"{self.first.day}–{self.last:%-d %B %Y}"
        year = fiscal_year(self.first, self.fiscal_start)
        name = f"FY{year}" if self.fiscal_start != 1 else f"{year}"
        if self.key in ("this_quarter", "last_quarter") and self._whole(3):
            return f"Q{(self.first.month - self.fiscal_start) % 12 // 3 + 1} {name} ({dates})"
        if self.key == "this_year" and self._whole(12):
            return f"{name} ({dates})"
        return dates

    def _whole(self, months: int) -> bool:
        """Whether it is `months` whole months from the start of a fiscal quarter."""
        return (
            self.first.day == 1 and (self.first.month - self.fiscal_start) % 3 == 0
            and self.last == month_start(self.first, months) - timedelta(days=1)
        )  # fmt: skip


# --- Tables: the one form every figure takes ----------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One figure: its value for the CSV, its text for the page, and the deals behind it."""

    value: Any
    text: str
    url: str = ""
    num: bool = True

    # Kept in the cache as JSON (crm.cache): a cell as a list, a Decimal as {"d": …} so that
    # it comes back a Decimal (a CSV writes it as a number, a string it would neutralise).
    def to_json(self) -> list[Any]:
        value = {"d": str(self.value)} if isinstance(self.value, Decimal) else self.value
        return [value, self.text, self.url, self.num]

    @classmethod
    def from_json(cls, data: list[Any]) -> Cell:
        value = Decimal(data[0]["d"]) if isinstance(data[0], dict) else data[0]
        return cls(value, data[1], data[2], data[3])


@dataclass
class Card:
    """One card of the dashboard: a title, when it covers, its chart and its table."""

    key: str  # its CSV's name
    title: str
    when: str
    chart: str  # the chart component's template
    headers: list[str]
    rows: list[list[Cell]]
    url: str  # the records behind the whole card
    plot: dict[str, Any] = field(default_factory=dict)
    figures: list[tuple[str, Cell]] = field(default_factory=list)
    open: bool = False  # its table unfolded: the table is what it shows

    @property
    def columns(self) -> list[tuple[str, bool]]:
        """The headers, each with whether its column holds numbers (right-aligned)."""
        nums = [cell.num for cell in self.rows[0]] if self.rows else [False] * len(self.headers)
        return [(header, i > 0 and nums[i]) for i, header in enumerate(self.headers)]

    def csv_rows(self) -> list[list[Any]]:
        figures = [[label, cell.value] for label, cell in self.figures]
        return [*figures, *([[]] if figures else []), self.headers,
                *[[cell.value for cell in row] for row in self.rows]]  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The card as JSON, for figures kept in the cache (support.dashboard)."""
        return {
            "key": self.key, "title": self.title, "when": self.when, "chart": self.chart,
            "headers": self.headers, "rows": [[c.to_json() for c in row] for row in self.rows],
            "url": self.url, "plot": self.plot, "open": self.open,
            "figures": [[label, cell.to_json()] for label, cell in self.figures],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        return cls(
            data["key"], data["title"], data["when"], data["chart"], data["headers"],
            [[Cell.from_json(c) for c in row] for row in data["rows"]], data["url"],
            plot=data["plot"], open=data["open"],
            figures=[(label, Cell.from_json(cell)) for label, cell in data["figures"]],
        )  # fmt: skip


def label_cell(text: str) -> Cell:
    return Cell(text, text, num=False)


def count_cell(value: int, url: str = "") -> Cell:
    return Cell(value, f"{value:,}", url)


def share_cell(part: int, whole: int, url: str = "") -> Cell:
    """A percentage to a tenth; none of nothing."""
    if not whole:
        return Cell(None, "—", url)
    value = (Decimal(100 * part) / whole).quantize(_TENTH, rounding=ROUND_HALF_UP)
    return Cell(value, f"{value}%", url)


# --- Geometry of the charts (in the SVG's own units) --------------------------------------

BAR_PLOT = 200  # the bars' length at their longest, between the labels and the values


Bar = tuple[str, Decimal | int | None, str, str]  # label, value, text, url


def bar_plot(cells: Sequence[Bar], inner: Sequence[Decimal | int | None] = ()) -> dict[str, Any]:
    """Horizontal bars: (label, value, text, url) each, scaled to the longest; `inner`, a
    second value drawn inside each (the weighted part of an amount)."""
    top = max([Decimal(value or 0) for _, value, _, _ in cells] + [Decimal(0)])
    bars = []
    for i, (label, value, text, url) in enumerate(cells):
        width = float(Decimal(value or 0) / top * BAR_PLOT) if top else 0.0
        fill = float(Decimal(inner[i] or 0) / top * BAR_PLOT) if top and inner else None
        bars.append({
            "label": label, "text": text, "url": url, "y": 8 + i * 30, "width": round(width, 1),
            "inner": None if fill is None else round(fill, 1),
        })  # fmt: skip
    return {"bars": bars, "height": 16 + 30 * len(bars)}


# --- A long period's figures, kept a while --------------------------------------------------
# Up to a quarter, a dashboard's figures are read as the page asks for them. Over a longer
# period (a year: every deal or ticket of the organisation, every interaction of its reps),
# what was read is kept in the cache and shown with its time; once older than FRESH, the
# worker reads it again while the page shows what it has. "Read now" reads it at once. The
# pipeline's and the support dashboard's Keeper say how each is read and told apart.

LIVE_DAYS = 92
FRESH = timedelta(minutes=15)
KEPT_SECONDS = 24 * 3600  # figures older than a day are read again before they are shown


@dataclass(frozen=True)
class Figures:
    """A dashboard's cards, and when they were read if that was not just now."""

    cards: list[Card]
    as_of: datetime | None = None
    refreshing: bool = False  # the worker is reading them again

    def card(self, key: str) -> Card:
        return next(card for card in self.cards if card.key == key)


def is_kept(period: Period) -> bool:
    return (period.last - period.first).days >= LIVE_DAYS


@dataclass(frozen=True)
class Keeper:
    """How a dashboard keeps a long period's figures. `read` makes its cards for a scope;
    `which(scope)` tells its figures apart besides the period (whose they are: "all" for
    the members who see everything, else the member's user id; the filters chosen);
    `task` reads them again in the worker, sent with `task_args(scope)`. `version` goes up
    when the cards' shape changes: what the cache holds then reads as a miss."""

    name: str
    read: Callable[[Any], list[Card]]
    which: Callable[[Any], tuple[str, ...]]
    task: str
    task_args: Callable[[Any], dict[str, Any]]
    version: int = 1

    def key(self, scope: Any) -> str:
        period = scope.period
        return cache_key(self.name, self.version, *self.which(scope), period.first.isoformat(),
                         period.last.isoformat(), period.zone.key)  # fmt: skip

    def figures(self, scope: Any, *, now_please: bool = False) -> Figures:
        """The figures the page shows: read now for a period up to a quarter; else as
        kept, and read again by the worker once older than FRESH."""
        if not is_kept(scope.period):
            return Figures(self.read(scope))
        key = self.key(scope)
        kept = None if now_please else cache.get(key)
        if not isinstance(kept, dict) or kept.get("v") != self.version:
            return Figures(self.keep(scope), as_of=scope.now)
        as_of = datetime.fromisoformat(kept["as_of"])
        cards = [Card.from_json(card) for card in kept["cards"]]
        if scope.now - as_of < FRESH:
            return Figures(cards, as_of=as_of)
        if cache.add(f"{key}:reading", 1, timeout=int(FRESH.total_seconds())):
            period = scope.period
            enqueue(self.task, org_id=scope.org.pk, membership_id=scope.membership.pk,
                    key=period.key, first=period.first.isoformat(),
                    last=period.last.isoformat(), **self.task_args(scope))  # fmt: skip
        return Figures(cards, as_of=as_of, refreshing=True)

    def keep(self, scope: Any) -> list[Card]:
        """Read the figures and keep them for the next visit."""
        cards = self.read(scope)
        key = self.key(scope)
        kept = {"v": self.version, "as_of": scope.now.isoformat(),
                "cards": [card.to_json() for card in cards]}  # fmt: skip
        cache.set(key, kept, timeout=KEPT_SECONDS)
        cache.delete(f"{key}:reading")
        return cards
