"""Malformed input on the contact and company pages: a clear answer, never a 500."""

import pytest
from django.test import Client

from crm.tenancy import activate
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BAD_LISTS = [
    "/o/acme/contacts/?page=abc",
    "/o/acme/contacts/?page=-3",
    "/o/acme/contacts/?sort=no_such_column",
    "/o/acme/contacts/?created_after=31/02/2026",
    "/o/acme/contacts/?owner=not-a-number",
    "/o/acme/contacts/?tag=999999999",
    "/o/acme/contacts/?q=%25_%5C%27%22%3B--",
    "/o/acme/contacts/?q=" + "x" * 5000,
    "/o/acme/contacts/?columns=../../etc&columns=%00",
    "/o/acme/companies/?size=huge&q=%00",
    "/o/acme/contacts/export/?format=pdf",
]


@pytest.fixture
def ada(acme, alice):
    return ContactFactory(org=acme, by=alice, first_name="Ada", email="ada@x.test")


@pytest.mark.parametrize("url", BAD_LISTS)
def test_it_answers_malformed_list_queries_without_an_error(client: Client, alice, ada, url):
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code in (200, 400)
    assert "Server Error" not in response.content.decode()


def test_it_finds_nothing_for_a_search_of_wildcards(client: Client, alice, ada) -> None:
    client.force_login(alice)
    html = client.get("/o/acme/contacts/?q=%25").content.decode()
    assert "ada@x.test" not in html  # '%' is a character to look for, not "anything"


@pytest.mark.parametrize("ids", [["abc"], ["1e9"], ["-1"], [""], ["²"], ["١٢"]])
def test_it_refuses_junk_ids_in_a_bulk_action(client: Client, alice, ada, ids) -> None:
    client.force_login(alice)
    response = client.post(
        "/o/acme/contacts/bulk/",
        {"ids": ids, "action": "change_lifecycle", "lifecycle": "customer"},
    )
    assert response.status_code in (200, 302, 400)
    with activate(ada.org):
        ada.refresh_from_db()
    assert ada.lifecycle == "lead"


@pytest.mark.parametrize("url", ["/o/acme/contacts/bulk/", "/o/acme/contacts/bulk/apply/"])
def test_it_refuses_an_owner_id_in_other_digits(client: Client, alice, ada, url) -> None:
    client.force_login(alice)
    data = {"ids": [ada.pk], "scope": "selected", "action": "assign_owner", "owner": "²"}
    response = client.post(url, data, follow=True)
    assert "Choose an owner who is a member" in response.content.decode()
    with activate(ada.org):
        ada.refresh_from_db()
    assert ada.owner_id is None


@pytest.mark.parametrize("url", ["/o/acme/contacts/merge/", "/o/acme/companies/merge/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_leaves_junk_ids_out_of_a_merge(client: Client, alice, ada, url, method) -> None:
    client.force_login(alice)
    response = getattr(client, method)(url, {"ids": ["²", "١٢", "abc"]})
    assert response.status_code == 200  # no records chosen: the page to choose them
    assert "Server Error" not in response.content.decode()


def test_it_searches_with_the_first_200_characters_of_a_long_term(client: Client, alice, ada):
    client.force_login(alice)
    html = client.get("/o/acme/contacts/?q=ada" + " " * 300 + "zzz").content.decode()
    assert "ada@x.test" in html  # what follows the first 200 characters is not searched
