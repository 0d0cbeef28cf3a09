"""/o/<org>/settings/exchange-rates/…: the rates that turn deal amounts into the base
currency, by currency and date."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.tenancy import activate
from sales.models import ExchangeRate
from sales.pipelines import rate_set
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/settings/exchange-rates/"


def _rates(acme) -> list[tuple[str, Decimal, date]]:
    with activate(acme):
        return list(ExchangeRate.objects.values_list("currency", "rate", "valid_from"))


def _set(acme, currency: str, rate: str, valid_from: date) -> ExchangeRate:
    with activate(acme):
        return rate_set(org=acme, by=None, currency=currency, rate=Decimal(rate),
                        valid_from=valid_from)  # fmt: skip


def test_it_shows_the_base_currency_and_the_rates(client, acme, alice):
    _set(acme, "EUR", "1.10", date(2025, 1, 1))
    _set(acme, "EUR", "1.0825", date(2026, 1, 1))
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert "the base currency, <strong>USD</strong>" in body
    assert "1 EUR = 1.0825 USD" in body
    assert "1 EUR = 1.1 USD" in body
    assert body.count("Latest</span>") == 1
    assert '<option value="USD"' not in body  # no rate for the base currency itself


def test_it_sets_a_rate_and_revalues_the_deals_in_its_currency(client, acme, alice):
    deal = DealFactory(org=acme, amount=Decimal("100"), currency="EUR")
    client.force_login(alice)
    form = {"currency": "EUR", "rate": "1.2", "valid_from": "2026-01-01"}
    assert client.post(PAGE, form).url == PAGE
    assert _rates(acme) == [("EUR", Decimal("1.2"), date(2026, 1, 1))]
    with activate(acme):
        deal.refresh_from_db()
    assert deal.amount_base == Decimal("120.00")


def test_a_rate_for_a_day_that_has_one_replaces_it(client, acme, alice):
    _set(acme, "EUR", "1.10", date(2026, 1, 1))
    client.force_login(alice)
    client.post(PAGE, {"currency": "EUR", "rate": "1.15", "valid_from": "2026-01-01"})
    assert _rates(acme) == [("EUR", Decimal("1.15"), date(2026, 1, 1))]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rate": "0"}, "A rate is more than 0."),
        ({"rate": "-2"}, "A rate is more than 0."),
        ({"rate": "abc"}, "Give the rate as a number, such as 1.08."),
        ({"rate": ""}, "Give the rate as a number, such as 1.08."),
        ({"rate": "5000000"}, "That rate is too large"),
        ({"currency": "XYZ"}, "Choose a currency from the list."),
        ({"currency": "USD"}, "Choose a currency from the list."),  # the base currency
        ({"valid_from": "someday"}, "Give a date, such as 2026-01-31."),
        ({"valid_from": (date.today() + timedelta(days=800)).isoformat()},
         "A rate can start a year from today at the latest."),
    ],
)  # fmt: skip
def test_it_refuses_bad_input_beside_the_field(client, acme, alice, values, message):
    client.force_login(alice)
    form = {"currency": "EUR", "rate": "1.1", "valid_from": "2026-01-01"} | values
    response = client.post(PAGE, form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _rates(acme) == []


def test_it_asks_before_deleting_a_rate_and_revalues_the_deals(client, acme, alice):
    rate = _set(acme, "EUR", "1.10", date(2026, 1, 1))
    deal = DealFactory(org=acme, amount=Decimal("100"), currency="EUR")
    client.force_login(alice)
    body = client.get(f"{PAGE}{rate.pk}/delete/").content.decode()
    assert "<strong>1 EUR = 1.1 USD</strong>" in body
    assert len(_rates(acme)) == 1
    assert client.post(f"{PAGE}{rate.pk}/delete/").url == PAGE
    assert _rates(acme) == []
    with activate(acme):
        deal.refresh_from_db()
    assert deal.amount_base is None


def test_it_pins_the_queries_of_the_list(client, acme, alice, django_assert_max_num_queries):
    for number in range(5):
        _set(acme, "EUR", "1.1", date(2026, 1, 1 + number))
        _set(acme, "GBP", "1.3", date(2026, 1, 1 + number))
    client.force_login(alice)
    client.get(PAGE)  # the first visit also writes the default pipeline: not what is pinned
    with django_assert_max_num_queries(11):
        assert client.get(PAGE).status_code == 200


def test_it_is_in_the_settings_navigation(client, alice):
    client.force_login(alice)
    link = f'<a href="{PAGE}" aria-current="page">Exchange rates</a>'
    assert link in client.get(PAGE).content.decode()
