"""Deals as a record kind: their list's filters, columns, saved views, export and bulk
actions, declared once. Amounts are for those who may see them (deal.view_value): a
support agent's list, filters, sorting and export have none."""

from datetime import date
from html import escape
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import django_filters
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from contacts.services import tags_by_name
from crm.models import Membership, TeamMember
from crm.permissions import can
from crm.records import bulk
from crm.records import columns as c
from crm.records import facts as f
from crm.records.filters import DATE, ModelFilter, RecordFilter
from crm.records.registry import Kind, Tags
from crm.tenancy import require_org
from sales import imports, selectors
from sales.forms import DealForm, deal_form_save, initial_for
from sales.models import Deal, DealTag, Pipeline, Stage
from sales.money import money

VALUE = "deal.view_value"  # the permission to see what deals are worth

_STATUSES = [("open", "Open"), ("won", "Won"), ("lost", "Lost")]


def _status(queryset: QuerySet[Deal], name: str, value: str) -> QuerySet[Deal]:
    if value == "open":
        return queryset.filter(closed_at__isnull=True)
    if value in ("won", "lost"):
        return queryset.filter(closed_at__isnull=False, stage__kind=value)
    return queryset


def _sort(*, with_value: bool) -> django_filters.OrderingFilter:
    value = (("amount_base", "amount"),) if with_value else ()
    return django_filters.OrderingFilter(
        fields=(("title", "name"), *value, ("close_date", "close"), ("touched_at", "touched"),
                ("created_at", "created")),
        field_labels={"title": "Title", "amount_base": "Amount", "close_date": "Expected close",
                      "touched_at": "Last activity"},
        label="Sort by", empty_label="Newest first (default)",
    )  # fmt: skip


class DealFilter(RecordFilter):
    primary: ClassVar[tuple[str, ...]] = ("q", "pipeline", "status", "owner", "sort")

    pipeline = ModelFilter(queryset=Pipeline.unscoped.none(), empty_label="Any pipeline")
    stage = ModelFilter(queryset=Stage.unscoped.none(), empty_label="Any stage")
    status = django_filters.ChoiceFilter(
        choices=_STATUSES, method=_status, empty_label="Open, won or lost"
    )
    close = django_filters.DateFromToRangeFilter(
        field_name="close_date", label="Expected close", widget=DATE
    )
    # The dashboard's figures link here: deals won or lost in a period, a team's deals.
    closed = django_filters.DateFromToRangeFilter(
        field_name="closed_at", label="Closed", widget=DATE
    )
    team = django_filters.NumberFilter(method="filter_team", label="Owner's team (id)")
    amount = django_filters.RangeFilter(field_name="amount_base", label="Amount (base currency)")
    company = django_filters.NumberFilter(field_name="company_id", label="Company (id)")
    contact = django_filters.NumberFilter(field_name="contact_id", label="Contact (id)")
    source = django_filters.CharFilter(lookup_expr="icontains")
    sort = _sort(with_value=True)

    class Meta:
        model = Deal
        fields: list[str] = []

    def filter_team(self, queryset: QuerySet[Deal], name: str, value: Any) -> QuerySet[Deal]:
        members = TeamMember.objects.filter(team_id=value).values("membership__user_id")
        return queryset.filter(owner_id__in=members)

    def __init__(self, *args: Any, membership: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, membership=membership, **kwargs)
        self.filters["pipeline"].queryset = Pipeline.objects.all()
        self.filters["stage"].queryset = Stage.objects.select_related("pipeline")
        self.filters["stage"].field.label_from_instance = lambda s: f"{s.pipeline} · {s.name}"
        if membership is not None and not can(membership, VALUE):
            # Neither a range nor an order by amount: both would tell what deals are worth.
            del self.filters["amount"]
            sort = self.filters["sort"] = _sort(with_value=False)
            sort.model, sort.parent = self.queryset.model, self


# --- Columns ------------------------------------------------------------------------------


@c.reading("title")
def _title(deal: Deal, row: c.Row) -> SafeString:
    url = row.link("deals:detail", deal.pk)
    return SafeString(f'<a href="{url}">{escape(deal.title)}</a>')  # nosec B703  # escaped


_KIND_BADGE = {"open": "neutral", "won": "success", "lost": "danger"}


@c.reading("stage__name", "stage__kind")
def _stage(deal: Deal, row: c.Row) -> SafeString:
    tone = _KIND_BADGE.get(deal.stage.kind, "neutral")
    return SafeString(  # nosec B703  # the name escaped
        f'<span class="badge badge--{tone}">{escape(deal.stage.name)}</span>'
    )


@c.reading("amount", "currency")
def _amount(deal: Deal, row: c.Row) -> str:
    return money(deal.amount, deal.currency)


def _amount_export(deal: Deal, zone: ZoneInfo) -> list[str]:
    return ["" if deal.amount is None else f"{deal.amount:f}", deal.currency]


@c.reading("close_date", "closed_at")
def _close(deal: Deal, row: c.Row) -> SafeString | str:
    if deal.close_date is None:
        return ""
    late = deal.closed_at is None and deal.close_date < timezone.localdate()
    text = escape(c.short_date(deal.close_date))
    css = ' class="is-overdue" title="Expected close has passed"' if late else ""
    return SafeString(f"<span{css}>{text}</span>")  # nosec B703  # escaped


def _day_export(name: str) -> c.Export:
    def export(deal: Deal, zone: ZoneInfo) -> list[str]:
        value: date | None = getattr(deal, name)
        return [value.isoformat() if value else ""]

    return export


def _related(relation: str, url_name: str, *reads: str) -> c.Render:
    @c.reading(*reads)
    def render(deal: Deal, row: c.Row) -> SafeString | str:
        found = getattr(deal, relation)
        if found is None:
            return ""
        url = row.link(url_name, found.pk)
        return SafeString(f'<a href="{url}">{escape(str(found))}</a>')  # nosec B703  # escaped

    return render


def _related_export(relation: str) -> c.Export:
    def export(deal: Deal, zone: ZoneInfo) -> list[str]:
        found = getattr(deal, relation)
        return [str(found) if found is not None else ""]

    return export


def _contact_export(deal: Deal, zone: ZoneInfo) -> list[str]:
    # The email too: an import finds the contact by it, names being no one's alone.
    found = deal.contact
    return [str(found), found.email] if found is not None else ["", ""]


@c.reading("pipeline__name")
def _pipeline(deal: Deal, row: c.Row) -> str:
    return deal.pipeline.name


@c.reading("stage__probability")
def _probability(deal: Deal, row: c.Row) -> str:
    return f"{deal.stage.probability}%"


@c.reading("lost_reason__name")
def _lost_reason(deal: Deal, row: c.Row) -> str:
    return deal.lost_reason.name if deal.lost_reason else ""


COLUMNS = [
    c.Column("title", "Deal", _title, c.plain("title"), sort="name", width="lg"),
    c.Column("stage", "Stage", _stage, lambda deal, zone: [deal.stage.name], width="md",
             card="chip"),
    c.Column("amount", "Amount", _amount, _amount_export, headers=("Amount", "Currency"),
             sort="amount", css="num", width="sm", card="fact", action=VALUE),
    c.Column("close", "Expected close", _close, _day_export("close_date"), sort="close",
             css="nowrap", width="sm", card="fact"),
    c.OWNER,
    c.Column("company", "Company", _related("company", "contacts:company_detail",
             "company__name"), _related_export("company"), width="md"),
    c.Column("contact", "Contact", _related("contact", "contacts:detail", "contact__first_name",
             "contact__last_name", "contact__email"), _contact_export,
             headers=("Contact", "Contact email"), width="md"),
    c.Column("pipeline", "Pipeline", _pipeline, lambda deal, zone: [deal.pipeline.name],
             width="md"),
    c.Column("probability", "Probability", _probability,
             lambda deal, zone: [str(deal.stage.probability)], css="num", width="xs"),
    c.Column("touched", "Last activity", c.day("touched_at"), c.iso("touched_at"),
             sort="touched", css="nowrap", width="sm"),
    c.Column("closed", "Closed", c.day("closed_at"), c.iso("closed_at"), css="nowrap",
             width="sm"),
    c.Column("lost_reason", "Lost reason", _lost_reason,
             lambda deal, zone: [deal.lost_reason.name if deal.lost_reason else ""]),
    c.Column("source", "Source", c.text("source"), c.plain("source")),
    c.TAGS,
    c.created(),
]  # fmt: skip


# --- Facts on its page ----------------------------------------------------------------------


def _show_amount(deal: Deal) -> str:
    if deal.amount is None:
        return ""
    shown = escape(money(deal.amount, deal.currency))
    org = require_org()  # the deal's organisation, whose page this is
    if deal.currency != org.base_currency and deal.amount_base is not None:
        base = escape(money(deal.amount_base, org.base_currency))
        return f'{shown} <span class="muted">≈ {base}</span>'
    return shown


def _show_close(deal: Deal) -> str:
    if deal.close_date is None:
        return ""
    text = escape(c.short_date(deal.close_date))
    if deal.closed_at is None and deal.close_date < timezone.localdate():
        return f'<span class="is-overdue" title="Expected close has passed">{text}</span>'
    return text


def _show_person(relation: str) -> f.Show:
    def show(deal: Deal) -> str:
        found = getattr(deal, relation)
        return escape(str(found)) if found is not None else ""

    return show


def _page_of(relation: str, url_name: str) -> f.Link:
    def link(deal: Deal, org_slug: str) -> str:
        found_id = getattr(deal, f"{relation}_id")
        return reverse(url_name, args=[org_slug, found_id]) if found_id else ""

    return link


def _show_lost(deal: Deal) -> str:
    if deal.lost_reason is None:
        return ""
    note = f"<br>{escape(deal.lost_note)}" if deal.lost_note else ""
    return f"{escape(deal.lost_reason.name)}{note}"


DEAL_FACTS = f.Facts(
    facts=(
        f.text("title", "Title"),
        f.Fact("amount", "Amount", _show_amount, fields=("amount", "currency"), action=VALUE),
        f.Fact("close_date", "Expected close", _show_close),
        f.OWNER,
        f.Fact("contact", "Primary contact", _show_person("contact"),
               link=_page_of("contact", "contacts:detail"), link_label="Open"),
        f.Fact("company", "Company", _show_person("company"),
               link=_page_of("company", "contacts:company_detail"), link_label="Open"),
        f.text("source", "Source"),
        f.TAGS,
        # Set by Lost, which asks for it (and by an edit of a lost deal), not in place.
        f.Fact("lost_reason", "Lost because", _show_lost, fields=()),
        f.ADDED,
    ),
    form=DealForm,
    initial=initial_for,
    save=deal_form_save,
)  # fmt: skip


def _editable(membership: Membership, found: QuerySet[Deal]) -> QuerySet[Deal]:
    """The deals among `found` this member may change: a rep's own; any, for managers."""
    if can(membership, "deal.edit", Deal(owner_id=None)):
        return found
    return found.filter(owner_id=membership.user_id)


DEAL_TAGS = Tags(link=DealTag, field="deal", by_name=tags_by_name)

DEAL = Kind(
    key="deal",
    model=Deal,
    noun="deal",
    nouns="deals",
    url_prefix="deals",
    visible=selectors.deal_list,
    filterset=DealFilter,
    columns=COLUMNS,
    default_columns=("title", "stage", "amount", "close", "owner", "company"),
    export_columns=(
        "title",
        "stage",
        "amount",
        "close",
        "owner",
        "company",
        "contact",
        "pipeline",
        "tags",
        "source",
        "closed",
        "lost_reason",
        "created",
    ),
    default_order=("-created_at", "-id"),
    detail_url="deals:detail",
    new_url="deals:new",
    row_reads=("title",),
    empty_text="Add the opportunities you are working on, or open the board.",
    searchable=True,
    custom_fields=True,
    tags=DEAL_TAGS,
    bulk_actions=(bulk.ASSIGN_OWNER, bulk.ADD_TAG, bulk.REMOVE_TAG, bulk.TRASH),
    editable=_editable,
    facts=DEAL_FACTS,
    views=(("Board", "board:board"),),
    imports=imports.DEALS,
)
