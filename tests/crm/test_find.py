"""The quick search and the palette (/o/<org>/find/): a few records of every kind the member
sees, the pages and actions their role opens; the palette's options for htmx, a whole page
without JavaScript."""

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from contacts.models import Contact
from crm import services as crm_services
from crm.models import Organization, User
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/o/acme/find/"
HTMX = {"HX-Request": "true"}


def _options(client: Client, q: str) -> str:
    response = client.get(URL, {"q": q}, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def _rep_sees_own(acme: Organization, alice: User) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})


def test_it_finds_a_contact_by_name(client: Client, acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", email="ada@engines.test")
    client.force_login(alice)
    html = _options(client, "lovel")
    assert 'role="listbox"' in html
    assert f'href="/o/acme/contacts/{ada.pk}/"' in html
    assert "Ada Lovelace" in html
    assert "ada@engines.test" in html  # beside the name: the list's next column


def test_it_finds_a_contact_by_part_of_their_email(client: Client, acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", email="countess@engines.test")
    client.force_login(alice)
    assert f'href="/o/acme/contacts/{ada.pk}/"' in _options(client, "countess@eng")


def test_it_finds_a_company_by_name(client: Client, acme, alice) -> None:
    initech = CompanyFactory(org=acme, name="Initech", domain="initech.test")
    client.force_login(alice)
    html = _options(client, "initech")
    assert f'href="/o/acme/companies/{initech.pk}/"' in html
    assert "Companies" in html


def test_it_shows_a_few_of_each_kind_and_the_way_to_the_rest(client: Client, acme, alice):
    for n in range(7):
        ContactFactory(org=acme, first_name=f"Grace{n}", last_name="Hopper")
    client.force_login(alice)
    html = _options(client, "hopper")
    assert html.count("Hopper</span>") == 5
    assert 'href="/o/acme/contacts/?q=hopper"' in html
    assert "All matching contacts" in html


def test_a_rep_limited_to_their_own_finds_only_theirs(client: Client, acme, alice, rita):
    _rep_sees_own(acme, alice)
    ContactFactory(org=acme, first_name="Theirs", last_name="Babbage", owner=alice)
    mine = ContactFactory(org=acme, first_name="Mine", last_name="Babbage", owner=rita)
    client.force_login(rita)
    html = _options(client, "babbage")
    assert f'href="/o/acme/contacts/{mine.pk}/"' in html
    assert "Theirs" not in html


def test_a_rep_finds_their_own_among_a_thousand_of_others(client: Client, acme, alice, rita):
    _rep_sees_own(acme, alice)
    with activate(acme):
        Contact.objects.bulk_create(
            Contact(org=acme, first_name=f"P{n}", last_name="Smith", owner=alice)
            for n in range(1_010)
        )
    mine = ContactFactory(org=acme, first_name="Mine", last_name="Smith", owner=rita)
    client.force_login(rita)
    html = _options(client, "smith")
    assert f'href="/o/acme/contacts/{mine.pk}/"' in html
    assert html.count('role="option"') == 1  # no page or action is called "smith"


def test_another_organisations_records_never_show(client: Client, acme, globex, charlie):
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    CompanyFactory(org=acme, name="Lovelace Engines")
    client.force_login(charlie)
    assert client.get(URL, {"q": "lovelace"}).status_code == 404  # not a member of Acme
    html = client.get("/o/globex/find/", {"q": "lovelace"}, headers=HTMX).content.decode()
    assert "Lovelace" not in html
    assert "Nothing matches" in html


def test_it_offers_the_pages_and_actions_the_role_opens(client: Client, alice, bob):
    client.force_login(alice)
    html = _options(client, "")
    for offered in ("New contact", "Import contacts", "New company", "Members", "Audit log"):
        assert offered in html
    client.force_login(bob)  # a viewer: the lists, nothing to add, import or manage
    html = _options(client, "")
    assert 'href="/o/acme/contacts/"' in html
    for refused in ("New contact", "Import contacts", "New company", "Members", "Settings"):
        assert refused not in html


def test_pages_are_found_by_the_beginnings_of_their_words(client: Client, alice) -> None:
    client.force_login(alice)
    html = _options(client, "sett mem")
    assert 'href="/o/acme/settings/members/"' in html
    assert "New contact" not in html
    assert 'href="/o/acme/contacts/new/"' in _options(client, "new con")
    assert 'href="/o/acme/settings/members/"' in _options(client, "invite")


def test_one_letter_finds_pages(client: Client, alice) -> None:
    client.force_login(alice)
    assert 'href="/o/acme/trash/"' in _options(client, "t")


@pytest.mark.parametrize("q", ["tu", "t.u", "t u r", "..."])
def test_records_need_three_letters_or_digits_in_a_row(client: Client, acme, alice, q) -> None:
    ContactFactory(org=acme, first_name="Tess", last_name="Turing")
    client.force_login(alice)
    html = _options(client, q)
    assert "Turing" not in html  # two rare letters would read every contact
    assert "Type three letters or digits to search records too." in html


def test_it_looks_for_near_misses_when_nothing_matches_as_typed(client: Client, acme, alice):
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    client.force_login(alice)
    assert f'href="/o/acme/contacts/{ada.pk}/"' in _options(client, "lovelase")


@pytest.mark.parametrize(("q", "looks"), [("lovelace", 1), ("lovelase", 2)])
def test_it_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, django_assert_num_queries: DjangoAssertNumQueries, q, looks
) -> None:
    for n in range(8):
        ContactFactory(org=acme, first_name=f"Ada{n}", last_name="Lovelace", owner=alice)
        CompanyFactory(org=acme, name=f"Lovelace {n}", owner=alice)
    client.force_login(alice)
    client.get(URL, {"q": q}, headers=HTMX)
    # The user, the membership and the organisation's setting of the connection (7 with
    # their savepoint); one search of every kind as typed, and a second for near misses
    # when nothing matched; then the rows of each kind found (contacts and companies).
    # Never one per record.
    with django_assert_num_queries(7 + looks + 2):
        html = _options(client, q)
    assert "All matching contacts" in html
    assert "All matching companies" in html


def test_without_javascript_it_answers_a_whole_page(client: Client, acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    client.force_login(alice)
    response = client.get(URL, {"q": "lovelace"})
    html = response.content.decode()
    assert "<h1>Search</h1>" in html
    assert 'value="lovelace"' in html
    assert f'<a href="/o/acme/contacts/{ada.pk}/">Ada Lovelace</a>' in html
    assert 'role="listbox"' not in html.split('<main id="main"')[1]
    assert "HX-Request" in response["Vary"]


def test_the_whole_page_says_when_nothing_matches(client: Client, alice) -> None:
    client.force_login(alice)
    html = client.get(URL, {"q": "zzqxv"}).content.decode()
    assert "Nothing matches “zzqxv”" in html


def test_the_top_bar_searches_with_its_shortcut_shown(client: Client, alice) -> None:
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    assert 'aria-label="Quick search" method="get" action="/o/acme/find/">' in html
    assert "data-palette-shortcut>Ctrl K</kbd>" in html
    assert '<dialog class="palette" id="palette"' in html


@pytest.mark.parametrize(
    "q", ["x" * 5_000, "%_\\'\";--", "((!&|:*", "<script>alert(1)</script>", "  ", "日本語", "ü"]
)
def test_it_answers_odd_searches_calmly(client: Client, acme, alice, q: str) -> None:
    ContactFactory(org=acme, first_name="Ada")
    client.force_login(alice)
    for headers in ({}, HTMX):
        response = client.get(URL, {"q": q}, headers=headers)
        assert response.status_code == 200
        assert "<script>alert" not in response.content.decode()


@pytest.mark.parametrize("q", ["ada\x00", "x" * 20_000])
def test_it_refuses_what_no_search_box_sends(client: Client, alice, q: str) -> None:
    client.force_login(alice)
    assert client.get(URL, {"q": q}).status_code == 400
