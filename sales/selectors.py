"""Reads of deals: the ones a member may see, and what a deal's, a contact's or a
company's page shows of them."""

from typing import Any, cast

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, QuerySet
from django.db.models.functions import JSONObject

from contacts.models import Company, Contact
from crm.models import Membership
from crm.selectors import person_fields_unshown
from interactions.timeline import everything
from sales.models import Deal, DealContact, DealStageChange, Pipeline, Stage


def deal_list(membership: Membership) -> QuerySet[Deal]:
    """The deals this member may see (record visibility, on the owner), with what a row of
    the list shows."""
    found = Deal.objects.alive().visible_to(membership)
    found = found.select_related("stage", "pipeline", "owner", "contact", "company").defer(
        *person_fields_unshown("owner"), "search_text",
        "contact__search_vector", "contact__search_text", "company__search_text",
    )  # fmt: skip
    return cast(QuerySet[Deal], found)


def pipelines() -> list[Pipeline]:
    """The organisation's pipelines in use, in their order."""
    return list(Pipeline.objects.filter(is_archived=False).order_by("position", "id"))


def pipeline_stages(pipeline: Pipeline) -> list[Stage]:
    """A pipeline's stages in use, in their order."""
    return list(pipeline.stages.filter(is_archived=False).order_by("position", "id"))


def _deal_ids(record: Contact | Company) -> QuerySet[Any]:
    """The ids of a record's deals: a company's; a contact's as its primary contact or one of
    the others. A UNION of two index reads, where an OR over the join would read every deal."""
    deals = Deal.objects.alive().order_by()
    if isinstance(record, Company):
        return deals.filter(company=record).values("pk")
    primary = deals.filter(contact=record).values("pk")
    other = DealContact.objects.filter(contact=record, deal__deleted_at__isnull=True)
    return primary.union(other.order_by().values("deal_id"), all=True)


# What a timeline's entry shows of a stage change (sales/_stage_change_entry.html).
_CHANGE = (
    "at", "from_name", "to_name", "deal__title", "to_stage__kind", "by__first_name",
    "by__last_name", "by__email",
)  # fmt: skip
_LINE = ("title", "amount", "currency", "close_date", "closed_at", "stage__name", "stage__kind")


def record_deals(
    membership: Membership, record: Contact | Company, *, limit: int = 10
) -> dict[str, list[Deal]]:
    """A contact's or company's deals that the member may see: open ones first, then the
    latest closed; at most `limit` of each."""
    found = Deal.objects.alive().visible_to(membership).filter(pk__in=_deal_ids(record))
    # What a line of the card shows, and no more: fewer joins to plan on every page.
    found = found.select_related("stage").only(*_LINE)
    # One query: the open ones first (closing soonest first), then the latest closed.
    order = (F("closed_at").desc(nulls_first=True), F("close_date").asc(nulls_last=True), "id")
    deals = list(found.order_by(*order)[: limit * 2])
    return {
        "open": [deal for deal in deals if deal.closed_at is None][:limit],
        "closed": [deal for deal in deals if deal.closed_at is not None][:limit],
    }


def stage_history(deal: Deal) -> list[DealStageChange]:
    """A deal's stage changes, the latest first; kept on the deal as `stage_history`, where
    its timeline's first page finds them (contact_stage_changes) instead of asking again."""
    found = deal.stage_changes.select_related("by", "to_stage").defer(
        *person_fields_unshown("by")
    )  # fmt: skip
    changes = list(found.order_by("-at", "-id"))
    for change in changes:
        change.deal = deal  # the timeline's entry names it
    deal.stage_history = changes  # type: ignore[attr-defined]
    return changes


def with_other_contacts(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """The deals with `other_people`: their contacts besides the primary one, by name, as
    {"id", "name"} dicts, read in the deals' own query."""
    others = (
        DealContact.objects.filter(deal=OuterRef("pk"), contact__deleted_at__isnull=True)
        .order_by("contact__last_name", "contact__first_name", "contact_id")
        .values(json=JSONObject(id="contact_id", first="contact__first_name",
                                last="contact__last_name", email="contact__email"))
    )  # fmt: skip
    return deals.annotate(other_people=ArraySubquery(others))


def stage_before_closing(deal: Deal) -> Stage | None:
    """The open stage a closed deal was in before it closed (the one it reopens in), else
    its pipeline's first open stage."""
    last = (
        deal.stage_changes.filter(from_stage__kind=Stage.Kind.OPEN, from_stage__is_archived=False)
        .select_related("from_stage").order_by("-at", "-id").first()
    )  # fmt: skip
    if last is not None and last.from_stage is not None:
        return last.from_stage
    open_stages = deal.pipeline.stages.filter(kind=Stage.Kind.OPEN, is_archived=False)
    return open_stages.order_by("position", "id").first()


def contact_stage_changes(record: Any, key: str, after: Any, limit: int) -> list[DealStageChange]:
    """The stage changes of a record's deals (a deal's own; a contact's or a company's deals'),
    newest first: entries of their timelines."""
    if key == "deal":
        read = getattr(record, "stage_history", None)  # the deal's page read them already
        if read is not None and after is everything:
            return read[:limit]
        found = DealStageChange.objects.filter(deal=record)
    else:  # its deals' (in the Trash, they are not on it)
        found = DealStageChange.objects.filter(deal_id__in=_deal_ids(record))
    found = after(found, "at").select_related("by", "deal", "to_stage").only(*_CHANGE)
    return list(found.order_by("-at", "-id")[:limit])
