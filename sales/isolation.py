"""Sales' isolation seeder: one row of each of the app's tenant models, through the
services: a pipeline with its stages, a lost reason, an exchange rate, a deal on the seeded
contact, with a tag, another contact and a move to another stage, and a monthly target."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import models

from contacts.models import Contact, Tag
from crm.models import Organization, User
from sales import dashboard, pipelines, services
from sales.models import (
    Deal,
    DealContact,
    DealStageChange,
    DealTag,
    ExchangeRate,
    LostReason,
    Pipeline,
    Stage,
    Target,
)

URL_KWARGS: dict[str, type[models.Model]] = {
    "deal_id": Deal,
    "pipeline_id": Pipeline,
    "stage_id": Stage,
    "reason_id": LostReason,
    "rate_id": ExchangeRate,
}


def seed(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Run with `org` active, after contacts' seeder (its contact and tag)."""
    pipelines.pipelines_ensure(org=org)
    pipeline = Pipeline.objects.get()
    first, second = Stage.objects.filter(pipeline=pipeline).order_by("position")[:2]
    rate = ExchangeRate.objects.create(
        org=org, currency="EUR", rate=Decimal("1.1"), valid_from=date(2026, 1, 1)
    )
    contact = Contact.objects.filter(last_name="Secret").first()
    other = Contact.objects.create(org=org, first_name=org.name, last_name="Other")
    deal = services.deal_create(
        org=org, by=admin, title=f"{org.name} Secret Deal", pipeline=pipeline, stage=first,
        amount=Decimal("1000"), currency="EUR", owner=admin, contact=contact,
        tags=list(Tag.objects.all()[:1]), contacts=[other],
    )  # fmt: skip
    services.deal_move(org=org, deal=deal, stage=second, by=admin)
    target = dashboard.target_set(
        org=org, by=admin, month=date(2026, 1, 1), amount=Decimal(5000), user=admin
    )
    return {
        Pipeline: pipeline, Stage: first, LostReason: LostReason.objects.first(),
        ExchangeRate: rate, Deal: deal, DealTag: DealTag.objects.get(deal=deal),
        DealContact: DealContact.objects.get(deal=deal),
        DealStageChange: DealStageChange.objects.filter(deal=deal).first(), Target: target,
    }  # fmt: skip
