"""An organisation's home: how many records of each kind the member sees, the ways in,
and, while the organisation is empty, where to start. Nothing of parts not built yet."""

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from crm.models import Organization, User
from crm.records import registry
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_a_new_organisation_is_offered_an_import_first(client: Client, alice: User) -> None:
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    assert "Start with your customers" in html
    assert '<a class="btn btn--primary" href="/o/acme/contacts/import/">Import contacts</a>' in html
    assert 'href="/o/acme/companies/import/">Import companies</a>' in html
    assert 'href="/o/acme/contacts/new/">Add a contact</a>' in html


def test_it_counts_what_the_member_sees_and_offers_what_they_may_do(
    client: Client, acme: Organization, alice: User, bob: User
) -> None:
    ContactFactory(org=acme, first_name="Ada")
    ContactFactory(org=acme, first_name="Grace")
    CompanyFactory(org=acme, name="Initech")
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    assert "Start with your customers" not in html
    assert "<strong>2</strong> contacts you can see" in html
    assert "<strong>1</strong> company you can see" in html
    client.force_login(bob)  # a viewer: the lists, nothing to add or import
    html = client.get("/o/acme/").content.decode()
    assert "<strong>2</strong> contacts you can see" in html
    assert "/o/acme/contacts/new/" not in html
    assert "/o/acme/contacts/import/" not in html


def test_the_home_page_costs_a_query_per_kind(
    client: Client,
    acme: Organization,
    alice: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    ContactFactory(org=acme, first_name="Ada")
    client.force_login(alice)
    client.get("/o/acme/")
    # The session, the member, their organisation and the tenancy's own (seven), one capped
    # count per kind, the records changed lately of each kind that has any (contacts),
    # My day's two (the member's tasks, the interactions they logged) and, for a member who
    # works tickets, My tickets' two (their tickets, whether they take new ones).
    with django_assert_num_queries(7 + len(registry.kinds()) + 1 + 2 + 2):
        assert client.get("/o/acme/").status_code == 200


def test_it_lists_the_records_changed_last_first(
    client: Client, acme: Organization, alice: User
) -> None:
    names = ["Ada", "Grace", "Alan", "Edsger", "Barbara"]
    made = [ContactFactory(org=acme, first_name=name, last_name="Example") for name in names]
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    recent = html[html.index("Changed lately") :]
    shown = [name for name in reversed(names) if f"{name} Example</a>" in recent]
    assert shown == ["Barbara", "Edsger", "Alan", "Grace"]  # four, the latest first
    assert f'href="/o/acme/contacts/{made[-1].pk}/"' in recent
    order = [recent.index(f"{name} Example</a>") for name in shown]
    assert order == sorted(order)
