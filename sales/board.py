"""The deal board: a pipeline's stages as columns, each column's count and totals from one
aggregate over every deal the filters keep, and its first cards, the latest touched.

Cards are written in Python, as list cells are (crm.records.columns): a board of 2,000
open deals shows up to 50 cards a column, and a template included per card would spend
most of the page's time. Every value is escaped with html.escape.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from crm.models import Membership
from crm.people import avatar_html
from crm.permissions import can
from sales import selectors, services
from sales.models import Deal, Pipeline, Stage
from sales.money import money
from sales.records import DEAL, VALUE, DealFilter

PAGE = 50  # cards a column shows at first, and how many more each "Show more" adds
MOST_SHOWN = 1000  # a column shown further without JavaScript stops here
CLOSED_DAYS = 30  # won and lost columns show the deals closed this recently
FILTERS = ("owner", "close", "amount", "tag", "company")
# What a card reads, and nothing else: a deal row is wide (custom values, notes).
CARD_FIELDS = (
    "id", "title", "amount", "currency", "close_date", "closed_at", "stage_id", "pipeline_id",
    "owner_id", "company_id", "touched_at", "stage_entered_at", "owner__first_name",
    "owner__last_name", "owner__email", "company__name",
)  # fmt: skip


class BoardFilter(DealFilter):
    """The deals list's filters that a board keeps: owner, expected close, amount (for those
    who may see amounts), tag and company. The pipeline and stages are the board's own."""

    def __init__(self, data: Any, queryset: QuerySet[Deal], *, membership: Membership) -> None:
        # Without custom fields: the board filters on none of them, so it need not read them.
        super().__init__(data, queryset, kind=_KIND, membership=membership)
        for name in [name for name in self.filters if name not in FILTERS]:
            del self.filters[name]


_KIND = replace(DEAL, custom_fields=False)


@dataclass
class Column:
    """A stage on the board: how many deals the filters keep in it, what they are worth in
    the base currency (in all, and weighted by the stage's probability), and its cards."""

    stage: Stage
    currency: str  # the organisation's base currency
    count: int = 0
    total: Decimal = Decimal(0)
    cards: list[Deal] = field(default_factory=list)
    shown: int = PAGE  # how many cards it may show (more after "Show more" without htmx)
    html: str = ""  # its cards, as cards_html() writes them

    @property
    def weighted(self) -> Decimal:
        return self.total * self.stage.probability / 100

    @property
    def total_short(self) -> str:
        return money(self.total, self.currency, short=True)

    @property
    def total_text(self) -> str:
        return money(self.total, self.currency)

    @property
    def weighted_short(self) -> str:
        return money(self.weighted, self.currency, short=True)

    @property
    def weighted_text(self) -> str:
        return money(self.weighted, self.currency)

    @property
    def more(self) -> int:
        """How many the next "Show more" adds."""
        return max(0, min(PAGE, self.count - self.shown))

    @property
    def next_shown(self) -> int:
        return self.shown + PAGE

    @property
    def is_closed(self) -> bool:
        return self.stage.kind != Stage.Kind.OPEN


def board_deals(
    membership: Membership, pipeline: Pipeline, data: Any
) -> tuple[BoardFilter, QuerySet[Deal]]:
    """The pipeline's deals the member may see and the filters keep (of which the board
    shows the open ones and the recently closed). Filters that do not validate keep none."""
    found = selectors.deal_list(membership).filter(pipeline=pipeline)
    filters = BoardFilter(data or None, found, membership=membership)
    if filters.is_bound and not filters.is_valid():
        return filters, found.none()
    return filters, filters.qs


def _in_view(found: QuerySet[Deal], stage: Stage) -> QuerySet[Deal]:
    """A column's deals, latest first: an open stage's by when they were last touched (the
    partial index deal_org_stage_open), a won or lost one's closed in the last CLOSED_DAYS
    days, by when they closed (deal_org_closed)."""
    if stage.kind == Stage.Kind.OPEN:
        in_stage = found.filter(stage=stage, closed_at__isnull=True)
        return in_stage.order_by("-touched_at", "-id")
    since = timezone.now() - timedelta(days=CLOSED_DAYS)
    return found.filter(stage=stage, closed_at__gte=since).order_by("-closed_at", "-id")


def _latest(deal: Deal) -> tuple[Any, int]:
    return (deal.touched_at if deal.closed_at is None else deal.closed_at), deal.pk


def board_columns(
    found: QuerySet[Deal], stages: list[Stage], *, currency: str,
    shown: Mapping[int, int] | None = None,
) -> list[Column]:  # fmt: skip
    """A column per stage, its totals from one aggregate grouped by stage, and its first
    cards (`shown[stage_id]` of them, else PAGE): two queries, however many stages and
    deals, each read through index ranges."""
    shown = shown or {}
    columns = {s.pk: Column(s, currency, shown=shown.get(s.pk, PAGE)) for s in stages}
    # The open deals and the recently closed as two sets rather than one condition with OR,
    # which would read the pipeline's whole history.
    since = timezone.now() - timedelta(days=CLOSED_DAYS)
    totals = [
        part.order_by().values("stage_id").annotate(count=Count("id"), total=Sum("amount_base"))
        for part in (found.filter(closed_at__isnull=True), found.filter(closed_at__gte=since))
    ]
    for row in totals[0].union(totals[1], all=True):
        if row["stage_id"] in columns:
            column = columns[row["stage_id"]]
            column.count += row["count"]
            column.total += row["total"] or Decimal(0)
    wanted = [column for column in columns.values() if column.count]
    if not wanted:
        return list(columns.values())
    # Each column's first cards, a subquery a column (its own index range) in one statement.
    firsts = [_for_cards(_in_view(found, column.stage))[: column.shown] for column in wanted]
    cards = firsts[0].union(*firsts[1:], all=True) if len(firsts) > 1 else firsts[0]
    for deal in sorted(cards, key=_latest, reverse=True):
        columns[deal.stage_id].cards.append(deal)
    return list(columns.values())


def column_cards(found: QuerySet[Deal], stage: Stage, *, shown: int) -> tuple[list[Deal], int]:
    """One column's cards after the first `shown - PAGE` (what "Show more" adds), and how
    many deals the column has in all."""
    in_view = _in_view(found, stage)
    cards = list(_for_cards(in_view)[max(0, shown - PAGE) : shown])
    return cards, in_view.order_by().count()


def _for_cards(found: QuerySet[Deal]) -> QuerySet[Deal]:
    return found.select_related(None).select_related("owner", "company").only(*CARD_FIELDS)


# --- Cards ---------------------------------------------------------------------------------


@dataclass
class Cards:
    """What every card of a board needs besides its deal, worked out once per page."""

    membership: Membership
    pipeline: Pipeline
    stages: list[Stage]
    detail_prefix: str  # a deal's page without its id
    move_url: str  # the move's address, with the board's filters
    csrf_token: str
    now: datetime = field(default_factory=timezone.now)

    def __post_init__(self) -> None:
        self.today = timezone.localdate(self.now)
        self.stale_before = self.now - timedelta(days=self.pipeline.stale_days)
        self.show_value = can(self.membership, VALUE)
        self.may_move = can(self.membership, "deal.edit")
        self.names = {stage.pk: stage.name for stage in self.stages}
        self._options: dict[int, str] = {}

    def options(self, current: int) -> str:
        """The stage select's options with `current` selected, written once per stage."""
        if current not in self._options:
            self._options[current] = "".join(
                f'<option value="{stage.pk}"{" selected" if stage.pk == current else ""}>'
                f"{escape(stage.name)}</option>"
                for stage in self.stages
            )
        return self._options[current]


def card_context(
    membership: Membership, pipeline: Pipeline, stages: list[Stage], *, move_url: str,
    csrf_token: str,
) -> Cards:  # fmt: skip
    detail = reverse("deals:detail", args=[membership.org.slug, 0]).removesuffix("0/")
    return Cards(membership, pipeline, stages, detail, move_url, csrf_token)


def cards_html(deals: Iterable[Deal], cards: Cards) -> SafeString:
    """The cards of these deals, as the board's columns list them."""
    return SafeString("".join(_card(deal, cards) for deal in deals))  # nosec B703  # escaped


def _card(deal: Deal, cards: Cards) -> str:
    title = escape(deal.title)
    movable = cards.may_move and services.may_edit_deal(cards.membership, deal)
    stale = deal.closed_at is None and deal.touched_at < cards.stale_before
    drag = f' draggable="true" data-deal="{deal.pk}"' if movable else ""
    parts = [
        f'<li class="board-card{" is-stale" if stale else ""}" id="deal-{deal.pk}" '
        f'data-stage="{deal.stage_id}"{drag}>',
        f'<a class="board-card__title" href="{cards.detail_prefix}{deal.pk}/" title="{title}">'
        f"{title}</a>",
    ]
    if deal.company_id and deal.company is not None:
        name = escape(deal.company.name)
        parts.append(f'<p class="board-card__company" title="{name}">{name}</p>')
    parts.append('<p class="board-card__facts">')
    if cards.show_value and deal.amount is not None:
        amount = escape(money(deal.amount, deal.currency))
        parts.append(f'<span class="board-card__amount">{amount}</span>')
    parts.append(_when(deal, cards))
    days = max(0, (cards.now - deal.stage_entered_at).days)
    parts.append(
        f'<span class="board-card__age" title="In this stage for {days} day{_s(days)}">'
        f'{days}d<span class="visually-hidden"> in this stage</span></span>'
    )
    if stale:
        parts.append(
            f'<span class="badge badge--warning" title="Nobody has touched it for more than '
            f'{cards.pipeline.stale_days} days">Stale</span>'
        )
    if deal.owner_id and deal.owner is not None:
        name = deal.owner.display_name
        parts.append(
            f'<span class="board-card__owner" title="{escape(name)}">{avatar_html(name, size="sm")}'
            f'<span class="visually-hidden">Owner: {escape(name)}</span></span>'
        )
    parts.append("</p>")
    if movable:
        parts.append(_move_form(deal, cards, title))
    parts.append("</li>")
    return "".join(parts)


def _when(deal: Deal, cards: Cards) -> str:
    """The expected close date, marked once it has passed; a closed deal's closing day."""
    if deal.closed_at is not None:
        day = timezone.localtime(deal.closed_at).date()
        return f'<time datetime="{day.isoformat()}" title="Closed">{_day(day, cards.today)}</time>'
    if deal.close_date is None:
        return ""
    day = deal.close_date
    if day < cards.today:
        return (
            f'<time class="is-overdue" datetime="{day.isoformat()}" title="Expected close has '
            f'passed">{_day(day, cards.today)}'
            '<span class="visually-hidden"> (overdue)</span></time>'
        )
    return (
        f'<time datetime="{day.isoformat()}" title="Expected close">{_day(day, cards.today)}</time>'
    )


def _day(day: date, today: date) -> str:
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _move_form(deal: Deal, cards: Cards, title: str) -> str:
    """The stage select that moves a card without a mouse (and without JavaScript)."""
    url = escape(cards.move_url)
    return (
        '<details class="board-card__move"><summary class="btn btn--ghost btn--sm">'
        f'Move<span class="visually-hidden"> “{title}”</span></summary>'
        f'<form method="post" action="{url}" hx-post="{url}" hx-target="#board" '
        'hx-swap="outerHTML" class="board-card__form">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(cards.csrf_token)}">'
        f'<input type="hidden" name="deal" value="{deal.pk}">'
        f'<input type="hidden" name="from_stage" value="{deal.stage_id}">'
        f'<label class="visually-hidden" for="move-{deal.pk}">Stage of “{title}”</label>'
        f'<select name="stage" id="move-{deal.pk}">{cards.options(deal.stage_id)}</select>'
        '<button type="submit" class="btn btn--secondary btn--sm">Move</button>'
        "</form></details>"
    )
