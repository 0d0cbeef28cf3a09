"""manage.py seed_deals_scale: deals at benchmark size, with their history, in one org."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Min

from crm.models import Organization, User
from crm.tenancy import activate
from sales.models import Deal, DealStageChange, Pipeline, Stage
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(acme: Organization, alice: User, rita: User) -> Organization:
    company = CompanyFactory(org=acme, name="Northwind")
    for n in range(5):
        ContactFactory(org=acme, first_name=f"Ada{n}", company=company)
    call_command("seed_deals_scale", "--org", "acme", "--deals", "500", "--open", "40",
                 stdout=StringIO())  # fmt: skip
    return acme


def test_it_adds_the_deals_asked_for(seeded: Organization, alice: User, rita: User) -> None:
    with activate(seeded):
        assert Deal.objects.count() == 500
        assert set(Deal.objects.values_list("owner_id", flat=True)) <= {alice.pk, rita.pk}
        assert not Deal.objects.filter(contact__isnull=True).exists()
        assert not Deal.objects.filter(company__isnull=True).exists()


def test_it_leaves_the_open_ones_in_the_first_pipeline(seeded: Organization) -> None:
    with activate(seeded):
        first = Pipeline.objects.order_by("position", "id")[0]
        assert Deal.objects.open().count() == 40
        assert Deal.objects.open().filter(pipeline=first).count() == 40
        kinds = set(Deal.objects.values_list("stage__kind", flat=True))
        assert kinds == set(Stage.Kind.values)
        lost = Deal.objects.filter(stage__kind=Stage.Kind.LOST)
        assert not lost.filter(lost_reason__isnull=True).exists()


def test_it_gives_every_deal_a_history_ending_where_it_is(seeded: Organization) -> None:
    with activate(seeded):
        deals = Deal.objects.annotate(changes=Count("stage_changes"),
                                      first=Min("stage_changes__at"))  # fmt: skip
        assert not deals.filter(changes=0).exists()
        assert 2 <= DealStageChange.objects.count() / 500 <= 5
        assert all(first == added for added, first in deals.values_list("created_at", "first"))
        for deal in Deal.objects.all()[:50]:
            history = list(deal.stage_changes.order_by("at", "id"))
            assert history[-1].to_stage_id == deal.stage_id
            assert history[-1].at == deal.stage_entered_at
            assert all(c.seconds_in_from is not None and c.seconds_in_from >= 0
                       for c in history[1:])  # fmt: skip


def test_it_sets_every_amount_in_the_base_currency(seeded: Organization) -> None:
    with activate(seeded):
        assert not Deal.objects.filter(amount_base__isnull=True).exists()
        usd = Deal.objects.filter(currency="USD")
        assert all(deal.amount_base == deal.amount for deal in usd)


def test_another_org_sees_none_of_them(seeded: Organization, globex: Organization) -> None:
    with activate(globex):
        assert not Deal.objects.exists()
        assert not DealStageChange.objects.exists()


def test_it_adds_nothing_the_second_time(seeded: Organization) -> None:
    with activate(seeded):
        changes = DealStageChange.objects.count()
    call_command("seed_deals_scale", "--org", "acme", "--deals", "500", stdout=StringIO())
    with activate(seeded):
        assert (Deal.objects.count(), DealStageChange.objects.count()) == (500, changes)


def test_it_refuses_an_unknown_org(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("seed_deals_scale", "--org", "nowhere", stdout=StringIO())
