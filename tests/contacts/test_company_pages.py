"""The company pages: list, page, create, edit, Trash and back, name suggestions (editing one
field in place: test_company_field_edit.py)."""

import html
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from contacts.models import Company
from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.records import custom_fields
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, trash

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _names(response) -> list[str]:
    """The company names in the list's rows, in order."""
    found = re.findall(
        r'<td class="col-title"><a href="/o/acme/companies/\d+/">(.*?)</a></td>',
        response.content.decode(),
    )
    return [html.unescape(name) for name in found]


def _error_for(response, field: str) -> str:
    pattern = rf'<p class="field__error" id="id_{field}_error_1">(.*?)</p>'
    match = re.search(pattern, response.content.decode())
    return html.unescape(match[1]) if match else ""


def _form(**changes: str) -> dict[str, str]:
    return {"name": "Initech", "domain": "", "industry": "", "size": "", "tags": "", **changes}


# --- List --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    [
        "north",
        "TRADERS",
        "nortwind",
    ],
)
def test_it_finds_a_company_by_part_of_its_name_or_a_misspelling(client, acme, alice, term):
    CompanyFactory(org=acme, name="Northwind Traders")
    CompanyFactory(org=acme, name="Initech")
    client.force_login(alice)
    assert _names(client.get("/o/acme/companies/", {"q": term})) == ["Northwind Traders"]


def test_it_filters_by_size(client: Client, acme, alice):
    CompanyFactory(org=acme, name="Initech", size=Company.Size.S2)
    CompanyFactory(org=acme, name="Umbrella", size=Company.Size.S6)
    client.force_login(alice)
    assert _names(client.get("/o/acme/companies/", {"size": "5001+"})) == ["Umbrella"]


def test_the_navigation_links_to_companies(client: Client, acme, alice):
    client.force_login(alice)
    body = client.get("/o/acme/companies/").content.decode()
    assert '<a class="sidenav__link" href="/o/acme/companies/" aria-current="page">' in body


# --- Detail ------------------------------------------------------------------------------


def test_it_shows_the_companys_contacts(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Northwind Traders")
    ContactFactory(org=acme, company=company, first_name="Nancy", last_name="Davolio")
    ContactFactory(
        org=acme,
        company=CompanyFactory(org=acme, name="Initech"),
        first_name="Peter",
        last_name="Gibbons",
    )
    client.force_login(alice)
    body = client.get(f"/o/acme/companies/{company.pk}/").content.decode()
    assert "Nancy Davolio" in body
    assert "Peter Gibbons" not in body
    assert 'href="/o/acme/contacts/?company=Northwind%20Traders"' in body


def test_it_leaves_trashed_contacts_off_the_company_page(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Initech")
    gone = ContactFactory(org=acme, company=company, first_name="Milton")
    with activate(acme):
        trash(acme, gone, by=None)
    client.force_login(alice)
    body = client.get(f"/o/acme/companies/{company.pk}/").content.decode()
    assert "Milton" not in body
    assert "No contacts yet" in body


def test_it_answers_404_for_another_organisations_company(client: Client, acme, globex, charlie):
    company = CompanyFactory(org=acme, name="Initech")
    client.force_login(charlie)
    assert client.get(f"/o/globex/companies/{company.pk}/").status_code == 404


def test_a_trashed_companys_page_says_it_is_in_the_trash(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Initech")
    with activate(acme):
        trash(acme, company, by=None)
    client.force_login(alice)
    page = client.get(f"/o/acme/companies/{company.pk}/")
    assert page.status_code == 410
    assert "Initech is in the Trash" in page.content.decode()
    assert f"/o/acme/companies/{company.pk}/restore/" in page.content.decode()


# --- Create ------------------------------------------------------------------------------


def test_it_creates_a_company(client: Client, acme, alice):
    client.force_login(alice)
    response = client.post("/o/acme/companies/new/", _form(domain="www.Initech.com", tags="VIP"))
    with activate(acme):
        company = Company.objects.get()
        assert [link.tag.name for link in company.tag_links.all()] == ["VIP"]
    assert response["Location"] == f"/o/acme/companies/{company.pk}/"
    assert company.domain == "initech.com"


def test_it_shows_errors_next_to_fields_and_saves_nothing(client: Client, acme, alice):
    client.force_login(alice)
    response = client.post("/o/acme/companies/new/", _form(name="", industry="Software"))
    assert response.status_code == 200
    assert _error_for(response, "name") == "This field is required."
    assert 'value="Software"' in response.content.decode()
    with activate(acme):
        assert not Company.objects.exists()


# --- Edit --------------------------------------------------------------------------------


def test_it_records_the_change_in_the_audit_log(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Initech")
    client.force_login(alice)
    client.post(f"/o/acme/companies/{company.pk}/edit/", _form(name="Initrode"), headers=HTMX)
    with activate(acme):
        event = AuditEvent.objects.get(action="company.updated")
    assert event.object_id == str(company.pk)
    assert event.actor == alice
    assert event.changes == {"name": ["Initech", "Initrode"]}


def test_it_copies_a_new_name_onto_the_contacts(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Initech")
    contact = ContactFactory(org=acme, company=company, first_name="Peter")
    client.force_login(alice)
    client.post(f"/o/acme/companies/{company.pk}/edit/", _form(name="Initrode"))
    with activate(acme):
        contact.refresh_from_db()
    assert contact.company_name == "Initrode"


# --- Trash -------------------------------------------------------------------------------


def test_it_asks_before_deleting(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Initech")
    client.force_login(alice)
    body = client.get(f"/o/acme/companies/{company.pk}/delete/").content.decode()
    assert "Delete Initech?" in body
    with activate(acme):
        assert Company.objects.alive().filter(pk=company.pk).exists()


def test_it_moves_a_deleted_company_to_the_trash(client: Client, acme, alice):
    company = CompanyFactory(org=acme, name="Initech")
    client.force_login(alice)
    response = client.post(f"/o/acme/companies/{company.pk}/delete/")
    assert response["Location"] == "/o/acme/companies/"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [
        'Moved Initech to the <a href="/o/acme/trash/">Trash</a>. You can restore it for 30 days.'
    ]
    assert _names(client.get("/o/acme/companies/")) == []
    assert "Initech" in client.get("/o/acme/trash/").content.decode()


# --- Roles and visibility ----------------------------------------------------------------


def test_a_viewer_can_read_companies(client: Client, acme, bob):
    company = CompanyFactory(org=acme, name="Initech")
    client.force_login(bob)
    assert _names(client.get("/o/acme/companies/")) == ["Initech"]
    body = client.get(f"/o/acme/companies/{company.pk}/").content.decode()
    assert "Initech" in body
    assert f"/o/acme/companies/{company.pk}/edit/" not in body


@pytest.mark.parametrize("path", ["new/", "{pk}/edit/", "{pk}/delete/"])
def test_it_refuses_viewers_any_change(client: Client, acme, bob, path):
    company = CompanyFactory(org=acme, name="Initech")
    client.force_login(bob)
    url = "/o/acme/companies/" + path.format(pk=company.pk)
    assert client.get(url).status_code == 403
    assert client.post(url, _form(name="Hacked")).status_code == 403
    with activate(acme):
        assert Company.objects.alive().values_list("name", flat=True).get() == "Initech"


@pytest.fixture
def reps_see_their_own(acme: Organization, alice: User) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})


def test_a_rep_limited_to_own_records_gets_404_for_others(
    client, acme, alice, rita, reps_see_their_own
):
    company = CompanyFactory(org=acme, name="Alice's Client", owner=alice)
    client.force_login(rita)
    assert client.get(f"/o/acme/companies/{company.pk}/").status_code == 404
    assert client.get(f"/o/acme/companies/{company.pk}/edit/").status_code == 404


# --- Suggestions for the contact form ----------------------------------------------------


def test_it_suggests_matching_companies_of_this_organisation(client, acme, globex, alice):
    CompanyFactory(org=acme, name="Northwind Traders")
    CompanyFactory(org=acme, name="Initech")
    CompanyFactory(org=globex, name="Northwind Globex")
    client.force_login(alice)
    body = client.get(
        "/o/acme/companies/suggest/", {"company": "north"}, headers=HTMX
    ).content.decode()
    assert body == '<option value="Northwind Traders"></option>'


def test_it_suggests_nothing_for_empty_text(client: Client, acme, alice):
    CompanyFactory(org=acme, name="Initech")
    client.force_login(alice)
    assert client.get("/o/acme/companies/suggest/", {"company": "  "}).content == b""


def test_it_suggests_at_most_ten_in_name_order(client: Client, acme, alice):
    for n in range(12, 0, -1):
        CompanyFactory(org=acme, name=f"Client {n:02}")
    client.force_login(alice)
    body = client.get("/o/acme/companies/suggest/", {"q": "client"}).content.decode()
    assert re.findall(r'value="(.*?)"', body) == [f"Client {n:02}" for n in range(1, 11)]


def test_the_contact_form_fetches_suggestions_as_the_user_types(client: Client, acme, alice):
    client.force_login(alice)
    body = client.get("/o/acme/contacts/new/").content.decode()
    assert 'list="company-suggestions"' in body
    assert '<datalist id="company-suggestions" hx-get="/o/acme/companies/suggest/"' in body


# --- Query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 30])
def test_the_list_query_count_does_not_grow(
    client, acme, alice, rows, django_assert_max_num_queries
):
    with activate(acme):
        custom_fields.custom_field_save(
            org=acme,
            by=None,
            record_kind="company",
            key="tier",
            label="Tier",
            kind="text",
            choices=[],
        )
    for n in range(rows):
        CompanyFactory(
            org=acme, name=f"Client {n}", tags=("VIP", f"T{n}"), owner=alice, custom={"tier": "A"}
        )
    client.force_login(alice)
    # 17; one for the Views menu's saved views, one for the custom fields (filters and
    # columns share them), one for the owner choices of the bulk actions.
    every = "domain,industry,size,owner,country,tags,created,custom_tier"
    with django_assert_max_num_queries(13):
        assert len(_names(client.get(f"/o/acme/companies/?columns={every}"))) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_the_detail_query_count_does_not_grow(
    client, acme, alice, rows, django_assert_max_num_queries
):
    company = CompanyFactory(org=acme, name="Initech", tags=("VIP",), owner=alice)
    for n in range(rows):
        ContactFactory(org=acme, company=company, first_name=f"Person{n}", owner=alice)
    client.force_login(alice)
    # Its timeline's page of interactions, its done tasks, its deals' stage changes, its
    # tickets' events and the quick log's last channel (on this first visit), its open tasks
    # for the Tasks card, its deals for the Deals card and its tickets for the Tickets card:
    # eight of them.
    with django_assert_max_num_queries(22):
        body = client.get(f"/o/acme/companies/{company.pk}/").content.decode()
    assert len(re.findall(r'href="/o/acme/contacts/\d+/"', body)) == rows
