"""Reads of deals: the ones a member may see, and what a deal's, a contact's or a
company's page shows of them."""

from typing import cast

from django.db.models import Q, QuerySet

from contacts.models import Company, Contact
from crm.models import Membership
from crm.selectors import person_fields_unshown
from sales.models import Deal, DealStageChange, Pipeline, Stage


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


def record_deals(membership: Membership, record: Contact | Company, *, limit: int = 10) -> dict:
    """A contact's or company's deals that the member may see: open ones first, then the
    latest closed; and how many of each there are."""
    if isinstance(record, Contact):
        mine = Q(contact=record) | Q(contact_links__contact=record)
    else:
        mine = Q(company=record)
    found = deal_list(membership).filter(mine).distinct()
    open_deals = list(found.filter(closed_at__isnull=True).order_by("close_date", "id")[:limit])
    closed = list(found.filter(closed_at__isnull=False).order_by("-closed_at", "-id")[:limit])
    return {"open": open_deals, "closed": closed}


def stage_history(deal: Deal) -> list[DealStageChange]:
    """A deal's stage changes, the latest first."""
    found = deal.stage_changes.select_related("by").defer(*person_fields_unshown("by"))
    return list(found.order_by("-at", "-id"))
