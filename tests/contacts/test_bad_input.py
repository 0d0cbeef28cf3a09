"""Malformed input on the contact and company pages: a clear answer, never a 500."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from contacts.models import Tag
from crm.models import AuditEvent
from crm.params import checked_text
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


# --- Values read outside a form (crm.params) ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/companies/suggest/?q=%00",
        "/o/acme/companies/suggest/?company=north%00wind",
        "/o/acme/contacts/merge/?q=%00",
        "/o/acme/companies/merge/?q=a%00",
        "/o/acme/contacts/duplicates/?page=%00",
        "/o/acme/contacts/export/?format=%00",
        "/o/acme/contacts/import/?page=1%00",
        "/o/acme/settings/audit/?page=%00",
    ],
)
def test_a_null_character_in_a_query_is_a_bad_request(client: Client, alice, ada, url) -> None:
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert "That request could not be read" in page
    assert 'href="/o/acme/contacts/"' in page  # in the product's page, with its navigation


@pytest.mark.parametrize("url", ["/o/acme/contacts/bulk/", "/o/acme/contacts/bulk/apply/"])
def test_a_bulk_tag_with_a_null_character_is_refused_beside_the_list(
    client: Client, acme, alice, ada, url
) -> None:
    client.force_login(alice)
    data = {"ids": [ada.pk], "scope": "selected", "action": "add_tag", "tag": "t\x00"}
    response = client.post(url, data, follow=True)
    assert "Tag contains a null character, which cannot be kept." in response.content.decode()
    assert response.redirect_chain[-1][0] == "/o/acme/contacts/"
    with activate(acme):
        assert not Tag.objects.exists()
        assert not AuditEvent.objects.filter(action="contact.updated").exists()


@pytest.mark.parametrize("field", ["query", "scope", "action", "ids"])
def test_a_null_character_in_a_bulk_forms_own_fields_is_a_bad_request(
    client: Client, acme, alice, ada, field
) -> None:
    client.force_login(alice)
    data = {"ids": [ada.pk], "scope": "all", "action": "add_tag", "tag": "t", "query": "q=a"}
    response = client.post("/o/acme/contacts/bulk/apply/", {**data, field: "x\x00"})
    assert response.status_code == 400
    with activate(acme):
        assert not Tag.objects.exists()


def test_the_text_check_says_what_is_wrong() -> None:
    assert checked_text("Ada") == "Ada"
    with pytest.raises(ValidationError, match="Name contains a null character"):
        checked_text("A\x00", label="Name")
    with pytest.raises(ValidationError, match="at most 5 characters"):
        checked_text("abcdef", max_length=5)
