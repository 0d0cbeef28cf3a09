"""A deal's furthest stage (what the dashboard's funnel counts by): kept by the services,
the import and the seeder, and worked out from the history by sales migration 0004."""

import importlib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from crm.models import Organization, User
from crm.records.models import ImportJob
from crm.tenancy import activate
from sales import services
from sales.models import Deal, LostReason, Pipeline, Stage
from sales.pipelines import pipelines_ensure
from tests.contacts.imports import csv_bytes, media, run
from tests.factories import CompanyFactory, ContactFactory, DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db


def _stage(name: str, pipeline: str = "Sales pipeline") -> Stage:
    return Stage.objects.get(name=name, pipeline__name=pipeline)


def _furthest(org: Organization, deal: Deal) -> str | None:
    with activate(org):
        found = Deal.objects.select_related("furthest_stage").get(pk=deal.pk).furthest_stage
        return found.name if found else None


def _walk(org: Organization, deal: Deal, *names: str) -> list[str | None]:
    """Move the deal through these stages; its furthest stage after each move."""
    seen = []
    for name in names:
        with activate(org):
            deal.refresh_from_db()
            stage = Stage.objects.get(name=name, pipeline=deal.pipeline)
            reason = LostReason.objects.first() if stage.kind == Stage.Kind.LOST else None
            services.deal_move(org=org, deal=deal, stage=stage, by=None, lost_reason=reason)
        seen.append(_furthest(org, deal))
    return seen


def test_it_goes_forward_never_back_and_won_is_beyond_every_open_stage(acme, alice) -> None:
    deal = DealFactory(org=acme, by=alice, title="Forward")
    assert _furthest(acme, deal) == "Qualification"
    assert _walk(acme, deal, "Proposal", "Discovery", "Lost", "Negotiation", "Won",
                 "Proposal") == [
        "Proposal", "Proposal", "Proposal", "Negotiation", "Won", "Won",
    ]  # fmt: skip


def test_a_deal_added_lost_has_none_and_one_added_won_has_won(acme, alice) -> None:
    with activate(acme):
        pipelines_ensure(org=acme)
        lost, won = _stage("Lost"), _stage("Won")
        reason = LostReason.objects.first()
    assert _furthest(acme, DealFactory(org=acme, by=alice, stage=lost, lost_reason=reason)) is None
    assert _furthest(acme, DealFactory(org=acme, by=alice, stage=won)) == "Won"


def test_in_another_pipeline_it_starts_again_from_the_stage_moved_into(acme, alice) -> None:
    deal = DealFactory(org=acme, by=alice, title="Mover")
    _walk(acme, deal, "Won")
    renewals = PipelineFactory(org=acme, name="Renewals")
    with activate(acme):
        first = renewals.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "id").first()
        assert first is not None
        deal.refresh_from_db()
        services.deal_move(org=acme, deal=deal, stage=first, by=alice, pipeline=renewals)
    assert _furthest(acme, deal) == first.name


def test_the_migration_works_out_from_the_history_what_the_services_kept(acme, alice) -> None:
    walks = [("Discovery", "Proposal", "Discovery"), ("Won", "Negotiation"), ("Lost",), ()]
    deals = [DealFactory(org=acme, by=alice, title=f"Deal {n}") for n in range(len(walks))]
    for deal, walk in zip(deals, walks, strict=True):
        _walk(acme, deal, *walk)
    kept = [_furthest(acme, deal) for deal in deals]
    assert kept == ["Proposal", "Won", "Qualification", "Qualification"]
    migration = importlib.import_module("sales.migrations.0004_deal_furthest_stage")
    with activate(acme):
        Deal.objects.update(furthest_stage=None)
        with connection.cursor() as cursor:
            cursor.execute(migration.FURTHEST)
    assert [_furthest(acme, deal) for deal in deals] == kept


def test_an_import_sets_each_deal_at_its_own_stage(
    acme: Organization, alice: User, settings: Any, tmp_path: Path
) -> None:
    media(settings, tmp_path)
    with activate(acme):
        pipelines_ensure(org=acme)
    rows = [["Title", "Stage", "Lost reason"], ["Ahead", "Proposal", ""], ["Done", "Won", ""],
            ["Gone", "Lost", "price"]]  # fmt: skip
    job = run(acme, alice, csv_bytes(rows), record_kind="deal")
    assert job.status == ImportJob.Status.DONE, job.error
    with activate(acme):
        found = dict(Deal.objects.values_list("title", "furthest_stage__name"))
    assert found == {"Ahead": "Proposal", "Done": "Won", "Gone": None}


def test_the_seeder_sets_it_from_the_history_it_writes(acme: Organization, alice: User) -> None:
    company = CompanyFactory(org=acme, name="Northwind")
    ContactFactory(org=acme, first_name="Ada", company=company)
    call_command("seed_deals_scale", "--org", "acme", "--deals", "200", "--open", "30",
                 stdout=StringIO())  # fmt: skip
    with activate(acme):
        pipeline = Pipeline.objects.order_by("position", "id")[0]
        stages = {s.pk: s for s in pipeline.stages.all()}
        for deal in Deal.objects.prefetch_related("stage_changes"):
            been = [stages[c.to_stage_id] for c in deal.stage_changes.all() if c.to_stage_id]
            reached = [s for s in been if s.kind != Stage.Kind.LOST]
            expected = max(
                reached, key=lambda s: (s.kind == Stage.Kind.WON, s.position, s.pk), default=None
            )
            assert deal.furthest_stage_id == (expected.pk if expected else None), deal.title
