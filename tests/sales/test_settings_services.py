"""sales.pipelines: the writes behind Settings → Pipelines, Lost reasons and Exchange
rates, and what each refuses."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditEvent
from crm.tenancy import activate
from sales import pipelines as services
from sales.models import DealStageChange, ExchangeRate, LostReason, Pipeline, Stage
from tests.factories import DealFactory, PipelineFactory, StageFactory, trash

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(acme) -> Pipeline:
    """Acme's default pipeline: Qualification … Negotiation (open), Won, Lost."""
    with activate(acme):
        services.pipelines_ensure(org=acme)
        return Pipeline.objects.get()


def _stages(acme, pipeline) -> list[tuple[str, str, bool]]:
    with activate(acme):
        return [(s.name, s.kind, s.is_archived) for s in pipeline.stages.all()]


def _stage(acme, pipeline, name: str) -> Stage:
    with activate(acme):
        return Stage.objects.get(pipeline=pipeline, name=name)


def _errors(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


# --- Pipelines --------------------------------------------------------------------------------


def test_it_renames_a_pipeline_and_audits_it(acme, alice, pipeline):
    with activate(acme):
        services.pipeline_update(
            org=acme, pipeline=pipeline, by=alice, name="  New   business ", stale_days=30
        )
        pipeline.refresh_from_db()
        event = AuditEvent.objects.get(action="pipeline.updated")
    assert (pipeline.name, pipeline.stale_days) == ("New business", 30)
    assert event.changes["stale_days"] == [14, 30]


def test_it_refuses_a_pipeline_name_taken_in_any_case(acme, alice, pipeline):
    with activate(acme):
        PipelineFactory(org=acme, name="Renewals")
        with pytest.raises(ValidationError) as error:
            services.pipeline_update(
                org=acme, pipeline=pipeline, by=alice, name="RENEWALS", stale_days=14
            )
        with pytest.raises(ValidationError):
            services.pipeline_create(org=acme, by=alice, name="renewals")
        assert Pipeline.objects.filter(name__iexact="renewals").count() == 1
    assert "There is already a pipeline called “RENEWALS”." in _errors(error)["name"]


def test_a_pipeline_name_is_free_in_another_organisation(acme, globex, alice, charlie):
    PipelineFactory(org=acme, name="Renewals")
    assert PipelineFactory(org=globex, by=charlie, name="Renewals").name == "Renewals"


def test_it_refuses_to_archive_the_last_pipeline_in_use(acme, alice, pipeline):
    with activate(acme):
        with pytest.raises(ValidationError) as error:
            services.pipeline_archive(org=acme, pipeline=pipeline, by=alice)
        pipeline.refresh_from_db()
    assert "only pipeline in use" in str(error.value)
    assert not pipeline.is_archived


def test_it_archives_a_pipeline_while_another_is_in_use_and_brings_it_back(acme, alice, pipeline):
    PipelineFactory(org=acme, name="Renewals")
    with activate(acme):
        services.pipeline_archive(org=acme, pipeline=pipeline, by=alice)
        assert Pipeline.objects.get(pk=pipeline.pk).is_archived
        services.pipeline_archive(org=acme, pipeline=pipeline, by=alice, archived=False)
        assert not Pipeline.objects.get(pk=pipeline.pk).is_archived


def test_it_reorders_pipelines_one_place_at_a_time(acme, alice, pipeline):
    second = PipelineFactory(org=acme, name="Renewals")
    third = PipelineFactory(org=acme, name="Partners")
    with activate(acme):
        services.pipeline_reorder(org=acme, pipeline=third, by=alice, direction="up")
        assert [p.name for p in Pipeline.objects.all()] == [pipeline.name, "Partners", "Renewals"]
        services.pipeline_reorder(org=acme, pipeline=pipeline, by=alice, direction="up")  # first
        services.pipeline_reorder(org=acme, pipeline=second, by=alice, direction="down")  # last
        assert [p.name for p in Pipeline.objects.all()] == [pipeline.name, "Partners", "Renewals"]
        with pytest.raises(ValidationError):
            services.pipeline_reorder(org=acme, pipeline=second, by=alice, direction="sideways")


# --- Stages -----------------------------------------------------------------------------------


def test_it_adds_an_open_stage_before_the_closed_ones(acme, alice, pipeline):
    with activate(acme):
        services.stage_create(org=acme, pipeline=pipeline, by=alice, name="Demo", probability=60)
        services.stage_create(
            org=acme, pipeline=pipeline, by=alice, name="Won via partner", probability=100,
            kind=Stage.Kind.WON,
        )  # fmt: skip
    names = [name for name, _, _ in _stages(acme, pipeline)]
    assert names[-4:] == ["Demo", "Won", "Lost", "Won via partner"]


@pytest.mark.parametrize(
    ("name", "probability", "kind", "field", "message"),
    [
        ("Demo", -1, "open", "probability", "Give a whole number from 0 to 100."),
        ("Demo", 101, "open", "probability", "Give a whole number from 0 to 100."),
        ("   ", 10, "open", "name", "Give the stage a name."),
        ("proposal", 10, "open", "name", "already has a stage called “proposal”."),
        ("Demo", 10, "maybe", "kind", "Choose open, won or lost."),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_stage(acme, alice, pipeline, name, probability, kind, field, message):
    before = _stages(acme, pipeline)
    with activate(acme), pytest.raises(ValidationError) as error:
        services.stage_create(
            org=acme, pipeline=pipeline, by=alice, name=name, probability=probability, kind=kind
        )
    assert any(message in text for text in _errors(error)[field])
    assert _stages(acme, pipeline) == before


def test_a_stage_name_is_free_in_another_pipeline(acme, alice, pipeline):
    other = PipelineFactory(org=acme, name="Renewals")
    with activate(acme):
        stage = services.stage_create(
            org=acme, pipeline=other, by=alice, name="Demo", probability=5
        )
        services.stage_create(org=acme, pipeline=pipeline, by=alice, name="DEMO", probability=5)
    assert stage.pipeline == other


def test_it_updates_a_stage_and_audits_it(acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Proposal")
    with activate(acme):
        services.stage_update(
            org=acme, stage=stage, by=alice, name="Offer", probability=55, kind="open"
        )
        event = AuditEvent.objects.get(action="stage.updated")
    assert _stage(acme, pipeline, "Offer").probability == 55
    assert event.changes == {"name": ["Proposal", "Offer"], "probability": [50, 55]}


def test_it_keeps_the_kind_of_a_stage_that_holds_deals(acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Proposal")
    DealFactory(org=acme, stage=stage)
    with activate(acme), pytest.raises(ValidationError) as error:
        services.stage_update(org=acme, stage=stage, by=alice, name="Proposal", probability=50,
                              kind="won")  # fmt: skip
    assert _errors(error)["kind"] == ["Move its 1 deal to another stage before changing its kind."]
    assert _stage(acme, pipeline, "Proposal").kind == "open"


def test_it_keeps_an_open_stage_in_use(acme, alice):
    pipeline = PipelineFactory(org=acme, stages=(("Open", 10, "open"), ("Won", 100, "won")))
    stage = _stage(acme, pipeline, "Open")
    with activate(acme):
        for refused in (
            lambda: services.stage_archive(org=acme, stage=stage, by=alice),
            lambda: services.stage_delete(org=acme, stage=stage, by=alice),
            lambda: services.stage_update(
                org=acme, stage=stage, by=alice, name="Open", probability=10, kind="lost"
            ),
        ):
            with pytest.raises(ValidationError, match="only open stage of its pipeline in use"):
                refused()
    assert _stages(acme, pipeline) == [("Open", "open", False), ("Won", "won", False)]


def test_an_archived_open_stage_does_not_count_as_in_use(acme, alice):
    pipeline = PipelineFactory(
        org=acme, stages=(("First", 10, "open"), ("Second", 20, "open"), ("Won", 100, "won"))
    )
    with activate(acme):
        services.stage_archive(org=acme, stage=_stage(acme, pipeline, "First"), by=alice)
        with pytest.raises(ValidationError):
            services.stage_archive(org=acme, stage=_stage(acme, pipeline, "Second"), by=alice)
        # Bringing the first back lets the second go.
        services.stage_archive(org=acme, stage=_stage(acme, pipeline, "First"), by=alice,
                               archived=False)  # fmt: skip
        services.stage_archive(org=acme, stage=_stage(acme, pipeline, "Second"), by=alice)
    assert _stages(acme, pipeline)[:2] == [("First", "open", False), ("Second", "open", True)]


def test_it_reorders_stages_within_their_pipeline(acme, alice, pipeline):
    with activate(acme):
        services.stage_reorder(
            org=acme, stage=_stage(acme, pipeline, "Discovery"), by=alice, direction="up"
        )
    names = [name for name, _, _ in _stages(acme, pipeline)]
    assert names[:3] == ["Discovery", "Qualification", "Proposal"]


def test_it_refuses_to_delete_a_stage_that_holds_deals_the_trashs_included(acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Proposal")
    for _ in range(11):
        DealFactory(org=acme, stage=stage)
    trash(acme, DealFactory(org=acme, stage=stage))
    with activate(acme), pytest.raises(ValidationError) as error:
        services.stage_delete(org=acme, stage=stage, by=alice)
    assert error.value.messages == [
        "Move its 12 deals to another stage first. 1 of them is in the Trash: restore it to "
        "move it."
    ]
    assert _stage(acme, pipeline, "Proposal")


def test_it_deletes_a_stage_with_only_history_which_keeps_its_name(acme, alice, pipeline):
    stage = _stage(acme, pipeline, "Proposal")
    deal = DealFactory(org=acme, stage=stage)
    with activate(acme):
        from sales.services import deal_move

        deal_move(org=acme, deal=deal, stage=_stage(acme, pipeline, "Negotiation"), by=alice)
        services.stage_delete(org=acme, stage=stage, by=alice)
        change = DealStageChange.objects.get(deal=deal, from_name="Proposal")
        assert AuditEvent.objects.filter(action="stage.deleted").exists()
    assert (change.from_stage_id, change.to_name) == (None, "Negotiation")
    assert "Proposal" not in [name for name, _, _ in _stages(acme, pipeline)]


def test_it_deletes_an_empty_stage_of_another_pipeline_only(acme, alice, pipeline):
    stage = StageFactory(org=acme, name="Elsewhere", kind="won")
    with activate(acme):
        services.stage_delete(org=acme, stage=stage, by=alice)
        assert not Stage.objects.filter(pk=stage.pk).exists()
    assert len(_stages(acme, pipeline)) == 6


# --- Lost reasons -----------------------------------------------------------------------------


def test_it_adds_renames_and_archives_lost_reasons(acme, alice, pipeline):
    with activate(acme):
        reason = services.lost_reason_create(org=acme, by=alice, name="Went silent")
        services.lost_reason_update(org=acme, reason=reason, by=alice, name="Ghosted")
        services.lost_reason_archive(org=acme, reason=reason, by=alice)
        reason.refresh_from_db()
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert (reason.name, reason.is_archived, reason.position) == ("Ghosted", True, 5)
    assert {"lost_reason.created", "lost_reason.updated", "lost_reason.archived"} <= actions


@pytest.mark.parametrize("name", ["price", " PRICE ", ""])
def test_it_refuses_an_empty_or_taken_reason(acme, alice, pipeline, name):
    with activate(acme):
        with pytest.raises(ValidationError) as error:
            services.lost_reason_create(org=acme, by=alice, name=name)
        assert LostReason.objects.count() == 5
    assert _errors(error)["name"]


# --- Exchange rates ---------------------------------------------------------------------------


def test_a_new_rate_revalues_the_deals_in_its_currency(acme, alice):
    deal = DealFactory(org=acme, amount=Decimal("100"), currency="EUR")
    dollars = DealFactory(org=acme, amount=Decimal("100"), currency="USD")
    assert deal.amount_base is None  # no rate for EUR yet
    with activate(acme):
        services.rate_set(org=acme, by=alice, currency="EUR", rate=Decimal("1.1"),
                          valid_from=date(2026, 1, 1))  # fmt: skip
        deal.refresh_from_db()
        dollars.refresh_from_db()
    assert deal.amount_base == Decimal("110.00")
    assert dollars.amount_base == Decimal("100.00")  # the base currency: untouched


def test_a_rate_for_the_same_day_replaces_the_first_and_deleting_it_forgets_it(acme, alice):
    deal = DealFactory(org=acme, amount=Decimal("100"), currency="EUR")
    with activate(acme):
        for rate in ("1.1", "1.25"):
            services.rate_set(org=acme, by=alice, currency="eur", rate=Decimal(rate),
                              valid_from=date(2026, 1, 1))  # fmt: skip
        found = ExchangeRate.objects.get()
        deal.refresh_from_db()
        assert (found.rate, deal.amount_base) == (Decimal("1.25"), Decimal("125.00"))
        services.rate_delete(org=acme, rate=found, by=alice)
        deal.refresh_from_db()
        assert AuditEvent.objects.filter(action="exchange_rate.deleted").exists()
    assert deal.amount_base is None


def test_open_deals_follow_the_latest_rate(acme, alice):
    deal = DealFactory(org=acme, amount=Decimal("200"), currency="GBP")
    with activate(acme):
        for day, rate in ((date(2025, 1, 1), "1.2"), (date(2026, 1, 1), "1.3")):
            services.rate_set(org=acme, by=alice, currency="GBP", rate=Decimal(rate),
                              valid_from=day)  # fmt: skip
        deal.refresh_from_db()
    assert deal.amount_base == Decimal("260.00")


@pytest.mark.parametrize(
    ("currency", "rate", "valid_from", "field"),
    [
        ("USD", "1", date(2026, 1, 1), "currency"),  # Acme's base currency
        ("XYZ", "1", date(2026, 1, 1), "currency"),
        ("EUR", "0", date(2026, 1, 1), "rate"),
        ("EUR", "-1.5", date(2026, 1, 1), "rate"),
        ("EUR", "abc", date(2026, 1, 1), "rate"),
        ("EUR", "5000000", date(2026, 1, 1), "rate"),
        ("EUR", "0.000000001", date(2026, 1, 1), "rate"),  # rounds to 0
        ("EUR", "1.1", date.today() + timedelta(days=400), "valid_from"),
        ("EUR", "1.1", date(1900, 1, 1), "valid_from"),
    ],
)  # fmt: skip
def test_it_refuses_a_bad_rate(acme, alice, currency, rate, valid_from, field):
    with activate(acme):
        with pytest.raises(ValidationError) as error:
            services.rate_set(org=acme, by=alice, currency=currency, rate=rate,
                              valid_from=valid_from)  # fmt: skip
        assert not ExchangeRate.objects.exists()
    assert list(_errors(error)) == [field]
