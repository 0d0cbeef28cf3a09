"""seed_demo's deals: two pipelines and a year of deals that moved, once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Min

from crm.models import Organization
from crm.tenancy import activate
from interactions.models import Interaction
from sales.models import Deal, DealStageChange, LostReason, Pipeline, Stage, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Organization:
    call_command("seed_demo", "--org", "demo", stdout=StringIO())
    return Organization.objects.get(slug="demo")


def test_it_adds_two_pipelines_and_lost_reasons(demo: Organization) -> None:
    with activate(demo):
        assert list(Pipeline.objects.values_list("name", flat=True)) == ["New business", "Renewals"]
        assert LostReason.objects.exists()


def test_it_fills_every_kind_of_stage(demo: Organization) -> None:
    with activate(demo):
        assert 150 <= Deal.objects.count() <= 250
        kinds = set(Deal.objects.values_list("stage__kind", flat=True))
        assert kinds == set(Stage.Kind.values)
        lost = Deal.objects.filter(stage__kind=Stage.Kind.LOST)
        assert not lost.filter(lost_reason__isnull=True).exists()
        assert not Deal.objects.filter(stage__kind=Stage.Kind.OPEN, closed_at__isnull=False)


def test_it_gives_every_deal_its_history_from_the_day_it_was_added(demo: Organization) -> None:
    with activate(demo):
        deals = Deal.objects.annotate(changes=Count("stage_changes"),
                                      first=Min("stage_changes__at"))  # fmt: skip
        assert not deals.filter(changes=0).exists()
        assert all(first == added for added, first in deals.values_list("created_at", "first"))
        assert deals.filter(changes__gte=3).exists()
        # Every move says how long the deal had been in the stage it left.
        moves = DealStageChange.objects.filter(from_stage__isnull=False)
        assert not moves.filter(seconds_in_from__isnull=True).exists()


def test_it_prices_deals_in_two_currencies_at_least(demo: Organization) -> None:
    with activate(demo):
        assert Deal.objects.values("currency").distinct().count() >= 2
        assert not Deal.objects.filter(amount_base__isnull=True).exists()
        assert Deal.objects.exclude(currency=demo.base_currency).exists()


def test_it_links_interactions_to_deals(demo: Organization) -> None:
    with activate(demo):
        assert Interaction.objects.filter(deal__isnull=False).exists()


def test_it_sets_monthly_targets_for_the_forecast(demo: Organization) -> None:
    with activate(demo):
        # The rep and the manager, a year back and six months on.
        assert Target.objects.values("user").distinct().count() == 2
        assert Target.objects.count() == 2 * 18


def test_it_adds_nothing_the_second_time(demo: Organization) -> None:
    with activate(demo):
        deals, changes = Deal.objects.count(), DealStageChange.objects.count()
    call_command("seed_demo", "--org", "demo", stdout=StringIO())  # as every `make run` does
    with activate(demo):
        assert (Deal.objects.count(), DealStageChange.objects.count()) == (deals, changes)
        assert Pipeline.objects.count() == 2
