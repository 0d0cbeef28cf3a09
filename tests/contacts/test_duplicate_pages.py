"""/o/acme/contacts/duplicates/ and /o/acme/companies/duplicates/: the likely duplicates."""

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from contacts.models import Company, Contact
from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.records import duplicates
from crm.records.models import DuplicatePair
from crm.tenancy import activate
from tests.conftest import allow
from tests.factories import CompanyFactory, ContactFactory, merge

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/duplicates/"
HTMX = {"HX-Request": "true"}


def _twins(org: Organization, name: str = "Ada", **fields: Any) -> list[Contact]:
    """Two contacts with the same address, paired by the search for duplicates."""
    twins = [
        ContactFactory(org=org, first_name=name, last_name=last,
                       email=f"{name.lower()}@engines.example", **fields)
        for last in ("Lovelace", "King")
    ]  # fmt: skip
    with activate(org):
        duplicates.duplicates_find(org=org)
    return twins


def _pair(org: Organization) -> DuplicatePair:
    with activate(org):
        return DuplicatePair.objects.get()


def _rows(response: Any) -> list[str]:
    """The merge links of the list's pairs."""
    pattern = r'href="/o/acme/contacts/merge/\?ids=\d+&amp;ids=\d+"'
    return re.findall(pattern, response.content.decode())


def test_it_lists_the_pairs_with_the_reason_and_a_merge_link(client: Client, alice: User, acme):
    ada, king = _twins(acme)
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert "Same email address" in page
    assert "100%" in page
    assert f'href="/o/acme/contacts/merge/?ids={ada.pk}&amp;ids={king.pk}"' in page
    assert "Look for duplicates now" in page


def test_it_lists_company_pairs(client: Client, alice: User, acme: Organization) -> None:
    for name in ("Northwind Traders", "Northwind Traders Ltd"):
        CompanyFactory(org=acme, name=name)
    with activate(acme):
        duplicates.duplicates_find(org=acme)
        first, second = Company.objects.order_by("pk")
    client.force_login(alice)
    page = client.get("/o/acme/companies/duplicates/").content.decode()
    assert "Similar company name" in page
    assert f'href="/o/acme/companies/merge/?ids={first.pk}&amp;ids={second.pk}"' in page


def test_it_shows_only_pairs_the_member_may_see(client: Client, acme, alice, rita) -> None:
    _twins(acme, owner=alice)
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    client.force_login(rita)
    assert _rows(client.get(URL)) == []
    client.force_login(alice)
    assert len(_rows(client.get(URL))) == 1


def test_it_lists_only_merges_into_records_the_member_may_see(client, acme, alice, rita):
    ada, king = _twins(acme, owner=alice)
    with activate(acme):
        merge(org=acme, survivor=ada, others=[king], values={}, by=alice)
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    allow(acme, "contact.merge", "rep")
    client.force_login(rita)
    page = client.get(URL).content.decode()
    assert "Ada Lovelace" not in page
    assert "No contacts merged yet." in page


def test_it_refuses_viewers(client: Client, bob: User) -> None:
    client.force_login(bob)
    assert client.get(URL).status_code == 403
    assert client.get("/o/acme/companies/duplicates/").status_code == 403
    assert client.post(f"{URL}find/").status_code == 403


def test_it_pages_with_htmx(client: Client, alice: User, acme: Organization) -> None:
    _twins(acme)
    client.force_login(alice)
    body = client.get(URL, headers=HTMX).content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body


def test_it_pages_with_htmx_without_reading_the_merges(
    client: Client, alice: User, acme: Organization,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    merged = _twins(acme, name="Merged")
    with activate(acme):
        merge(org=acme, survivor=merged[0], others=merged[1:], values={}, by=alice)
    _twins(acme)
    client.force_login(alice)
    # Session, user, organisation, membership, both walls and their savepoints; the count,
    # the page of pairs and their records.
    with django_assert_max_num_queries(10):
        response = client.get(URL, headers=HTMX)
    assert len(_rows(response)) == 1


@pytest.mark.parametrize("pairs", [2, 20])
def test_its_query_count_does_not_grow(
    client: Client, alice: User, acme: Organization, pairs: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    company = CompanyFactory(org=acme, name="Engines")
    merged = _twins(acme, name="Merged")
    with activate(acme):
        merge(org=acme, survivor=merged[0], others=merged[1:], values={}, by=alice)
    for n in range(pairs):
        _twins(acme, name=f"Person{n}", company=company, owner=alice)
    client.force_login(alice)
    # Session, user, organisation, membership, both walls and their savepoints; the count,
    # the page of pairs, their records, the recent merges and their survivors, the
    # organisation switcher. None of them per pair.
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert len(_rows(response)) == pairs
    assert "Undo…" in response.content.decode()


# --- Not duplicates ----------------------------------------------------------------------


def test_not_duplicates_takes_the_pair_off_the_list(client: Client, alice, acme) -> None:
    _twins(acme)
    pair = _pair(acme)
    client.force_login(alice)
    response = client.post(f"/o/acme/duplicates/{pair.pk}/dismiss/")
    assert response["Location"] == URL
    assert _rows(client.get(URL)) == []
    assert _pair(acme).dismissed_by == alice
    with activate(acme):
        assert AuditEvent.objects.filter(action="contact.duplicate_dismissed").count() == 1


def test_not_duplicates_with_htmx_removes_the_row(client: Client, alice, acme) -> None:
    _twins(acme)
    pair = _pair(acme)
    client.force_login(alice)
    response = client.post(f"/o/acme/duplicates/{pair.pk}/dismiss/", headers=HTMX)
    assert (response.status_code, response.content) == (200, b"")
    assert _pair(acme).dismissed_at is not None


def test_not_duplicates_reads_the_pair_once(
    client: Client, alice: User, acme: Organization,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    _twins(acme)
    pair = _pair(acme)
    client.force_login(alice)
    # The user, the membership with its organisation, both walls, the savepoints and their
    # releases; the pair (once), its dismissal and the audit event.
    with django_assert_num_queries(12):
        client.post(f"/o/acme/duplicates/{pair.pk}/dismiss/", headers=HTMX)
    assert _pair(acme).dismissed_by == alice


def test_not_duplicates_refuses_viewers_and_changes_nothing(client: Client, bob, acme):
    _twins(acme)
    pair = _pair(acme)
    client.force_login(bob)
    assert client.post(f"/o/acme/duplicates/{pair.pk}/dismiss/").status_code == 403
    assert _pair(acme).dismissed_at is None


def test_not_duplicates_answers_404_for_another_organisations_pair(client, charlie, acme):
    _twins(acme)
    pair = _pair(acme)
    client.force_login(charlie)
    assert client.post(f"/o/globex/duplicates/{pair.pk}/dismiss/").status_code == 404
    assert _pair(acme).dismissed_at is None


# --- Look for duplicates now -------------------------------------------------------------


def test_look_now_finds_the_duplicates_after_the_request(
    client: Client, alice: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    for last in ("Lovelace", "King"):
        ContactFactory(org=acme, last_name=last, email="ada@x.example")
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}find/")
    assert response["Location"] == URL
    assert len(_rows(client.get(URL))) == 1


def test_look_now_twice_sends_the_search_once(
    client: Client, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as sent:
        first = client.post("/o/acme/companies/duplicates/find/")
        second = client.post("/o/acme/companies/duplicates/find/")
    assert first["Location"] == "/o/acme/companies/duplicates/"
    assert len(sent) == 1
    messages = [str(m) for m in get_messages(second.wsgi_request)]
    assert "Already looking for duplicates" in messages[-1]
