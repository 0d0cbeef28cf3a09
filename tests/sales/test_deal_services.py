"""sales.services: adding, editing and moving deals, their history, and their amounts in
the base currency."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.tenancy import activate
from sales import services
from sales.models import Deal, DealStageChange, ExchangeRate, LostReason, Stage
from sales.pipelines import pipelines_ensure
from tests.factories import CompanyFactory, ContactFactory, DealFactory, StageFactory

pytestmark = pytest.mark.django_db


def _stage(org, name):
    with activate(org):
        pipelines_ensure(org=org)
        return Stage.objects.get(name=name, pipeline__name="Sales pipeline")


def _stored(org, deal):
    with activate(org):
        return Deal.objects.select_related("stage", "lost_reason").get(pk=deal.pk)


def test_it_starts_a_deal_in_the_first_open_stage_with_its_history(acme, alice) -> None:
    deal = DealFactory(org=acme, by=alice, title="Acme renewal")
    with activate(acme):
        assert deal.stage.name == "Qualification"
        [change] = DealStageChange.objects.filter(deal=deal)
    assert (change.from_stage, change.to_name, change.by) == (None, "Qualification", alice)


def test_it_refuses_a_stage_from_another_pipeline(acme, alice) -> None:
    deal = DealFactory(org=acme)
    other = StageFactory(org=acme)  # a second pipeline's stage
    with activate(acme), pytest.raises(ValidationError, match="another pipeline"):
        services.deal_move(org=acme, deal=deal, stage=other, by=alice)
    assert _stored(acme, deal).stage_id != other.pk


@pytest.mark.parametrize(
    ("values", "field"),
    [({"amount": Decimal("-1")}, "amount"), ({"currency": "XYZ"}, "currency"),
     ({"title": "  "}, "title"), ({"amount": Decimal("1e13")}, "amount")],
)  # fmt: skip
def test_it_refuses_bad_values_and_stores_nothing(acme, alice, values, field) -> None:
    with activate(acme), pytest.raises(ValidationError) as caught:
        DealFactory(org=acme, by=alice, **{"title": "Bad", **values})
    assert field in caught.value.message_dict
    with activate(acme):
        assert not Deal.objects.exists()


def test_moving_records_the_time_spent_in_the_stage(acme, alice) -> None:
    deal = DealFactory(org=acme)
    later = deal.stage_entered_at + timedelta(days=3, hours=1)
    with activate(acme):
        services.deal_move(org=acme, deal=deal, stage=_stage(acme, "Proposal"), by=alice, at=later)
        change = DealStageChange.objects.filter(deal=deal).first()
    assert change is not None
    assert (change.from_name, change.to_name) == ("Qualification", "Proposal")
    assert change.seconds_in_from == 3 * 86400 + 3600


def test_a_stale_move_changes_nothing_and_says_where_the_deal_is(acme, alice) -> None:
    deal = DealFactory(org=acme)
    with activate(acme):
        services.deal_move(org=acme, deal=deal, stage=_stage(acme, "Proposal"), by=alice)
        # A second tab still shows it in Qualification and drags it to Negotiation.
        with pytest.raises(ValidationError, match="moved to Proposal meanwhile"):
            services.deal_move(org=acme, deal=Deal.objects.get(pk=deal.pk),
                               stage=_stage(acme, "Negotiation"), by=alice,
                               expected_stage_id=_stage(acme, "Qualification").pk)  # fmt: skip
    assert _stored(acme, deal).stage.name == "Proposal"


def test_losing_asks_why_and_reopening_clears_it(acme, alice) -> None:
    deal = DealFactory(org=acme)
    lost = _stage(acme, "Lost")
    with activate(acme):
        with pytest.raises(ValidationError, match="why"):
            services.deal_move(org=acme, deal=deal, stage=lost, by=alice)
        reason = LostReason.objects.get(name="Price")
        services.deal_move(org=acme, deal=deal, stage=lost, by=alice, lost_reason=reason,
                           lost_note="Half the price elsewhere")  # fmt: skip
    stored = _stored(acme, deal)
    assert (stored.lost_reason, stored.closed_at is not None) == (reason, True)
    with activate(acme):
        services.deal_move(org=acme, deal=stored, stage=_stage(acme, "Discovery"), by=alice)
    reopened = _stored(acme, deal)
    assert (reopened.closed_at, reopened.lost_reason, reopened.lost_note) == (None, None, "")


def test_a_deal_in_another_currency_is_summed_in_the_base_one(acme, alice) -> None:
    with activate(acme):
        ExchangeRate.objects.create(org=acme, currency="EUR", rate=Decimal("1.10"),
                                    valid_from=date(2026, 1, 1))  # fmt: skip
    deal = DealFactory(org=acme, amount=Decimal("1000"), currency="EUR")
    assert deal.amount_base == Decimal("1100.00")


def test_a_won_deal_keeps_the_rate_of_the_day_it_closed(acme, alice) -> None:
    with activate(acme):
        ExchangeRate.objects.create(org=acme, currency="EUR", rate=Decimal("1.10"),
                                    valid_from=date(2026, 1, 1))  # fmt: skip
    deal = DealFactory(org=acme, amount=Decimal("1000"), currency="EUR")
    with activate(acme):
        services.deal_move(org=acme, deal=deal, stage=_stage(acme, "Won"), by=alice,
                           at=datetime(2026, 3, 1, 12, tzinfo=UTC))  # fmt: skip
        ExchangeRate.objects.create(org=acme, currency="EUR", rate=Decimal("1.20"),
                                    valid_from=date(2026, 6, 1))  # fmt: skip
        open_deal = DealFactory(org=acme, amount=Decimal("1000"), currency="EUR")
        services.deals_rebase(org=acme)
    assert _stored(acme, deal).amount_base == Decimal("1100.00")  # the rate of 1 March
    assert _stored(acme, open_deal).amount_base == Decimal("1200.00")  # the latest


def test_a_deal_without_a_rate_has_no_base_amount(acme) -> None:
    deal = DealFactory(org=acme, amount=Decimal("500"), currency="JPY")
    assert deal.amount_base is None


def test_an_edit_over_a_change_made_meanwhile_is_refused(acme, alice) -> None:
    deal = DealFactory(org=acme, title="Old title")
    opened = deal.updated_at.isoformat()
    with activate(acme):
        services.deal_update(org=acme, deal=deal, by=alice, title="First tab")
        with pytest.raises(ValidationError, match="since you opened this form"):
            services.deal_update(org=acme, deal=Deal.objects.get(pk=deal.pk), by=alice,
                                 version=opened, title="Second tab")  # fmt: skip
    assert _stored(acme, deal).title == "First tab"


def test_a_deal_takes_its_contacts_company(acme, alice) -> None:
    company = CompanyFactory(org=acme, name="Analytical Engines")
    contact = ContactFactory(org=acme, first_name="Ada", company=company)
    deal = DealFactory(org=acme, contact=contact)
    assert deal.company.name == "Analytical Engines"
