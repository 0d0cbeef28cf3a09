"""The deals list (the platform's, crm.records, for the DEAL kind): its filters, its query
count, and amounts only for those who may see them."""

from decimal import Decimal

import pytest
from django.test import Client

from crm.tenancy import activate
from sales.models import Stage
from sales.services import deal_move
from tests.factories import CompanyFactory, DealFactory

pytestmark = pytest.mark.django_db
URL = "/o/acme/deals/"


def _titles(response) -> list[str]:
    html = response.content.decode()
    return [title for title in ("Alpha", "Beta", "Gamma") if f">{title}<" in html]


@pytest.mark.parametrize("deals", [3, 40])
def test_it_lists_in_a_fixed_number_of_queries(
    client: Client, acme, alice, deals, django_assert_max_num_queries
) -> None:
    company = CompanyFactory(org=acme, name="Northwind")
    for n in range(deals):
        DealFactory(org=acme, title=f"Deal {n:02d}", owner=alice, company=company,
                    amount=Decimal(1000 + n), tags=["Hot"])  # fmt: skip
    client.force_login(alice)
    # As the contacts list's (test_contact_list), and the choices of the pipeline and stage
    # filters: twelve in production, where the test's savepoint, its release and putting
    # app.org_id back are not made, and the custom fields come from the cache.
    with django_assert_max_num_queries(16):
        response = client.get(URL + "?columns=title,stage,amount,close,owner,company,tags")
    assert f"{deals} deals" in response.content.decode()


def test_it_filters_by_status_stage_and_amount(client: Client, acme, alice) -> None:
    DealFactory(org=acme, title="Alpha", amount=Decimal("500"))
    beta = DealFactory(org=acme, title="Beta", amount=Decimal("5000"))
    DealFactory(org=acme, title="Gamma", amount=Decimal("50000"))
    with activate(acme):
        won = Stage.objects.get(name="Won")
        proposal = Stage.objects.get(name="Proposal")
    with activate(acme):
        deal_move(org=acme, deal=beta, stage=won, by=alice)
    client.force_login(alice)
    assert _titles(client.get(URL + "?status=won")) == ["Beta"]
    assert _titles(client.get(URL + "?status=open")) == ["Alpha", "Gamma"]
    assert _titles(client.get(URL + f"?stage={proposal.pk}")) == []
    assert _titles(client.get(URL + "?amount_min=1000&amount_max=10000")) == ["Beta"]


def test_an_agent_can_neither_filter_nor_sort_by_amount(client: Client, acme, sam) -> None:
    DealFactory(org=acme, title="Alpha", amount=Decimal("500"))
    DealFactory(org=acme, title="Beta", amount=Decimal("5000"))
    client.force_login(sam)
    # The range is no filter of theirs: ignored, and the list shows no amount.
    response = client.get(URL + "?amount_min=1000")
    assert _titles(response) == ["Alpha", "Beta"]
    assert "5,000" not in response.content.decode()
    assert "Amount" not in response.content.decode()
    # An order by amount is no choice of theirs: refused, as any order not offered, with
    # no rows rather than rows in an order that would tell what they are worth.
    sorted_ = client.get(URL + "?sort=-amount")
    assert sorted_.status_code == 200
    assert _titles(sorted_) == []
    assert "Select a valid choice" in sorted_.content.decode()
