"""Columns of the contact and company lists, and saved views: save, use, share, change."""

import html
import re
from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from crm.models import AuditEvent, Organization, User
from crm.records import custom_fields
from crm.records.models import SavedView
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/"
SAVE = "/o/acme/contacts/views/save/"
HTMX = {"HX-Request": "true"}


def _headers(body: str) -> list[str]:
    thead = re.search(r"<thead>(.*?)</thead>", body, re.S)
    assert thead
    cells = re.findall(r"<th scope=\"col\"(?! class=\"col-check)[^>]*>(.*?)</th>", thead[1], re.S)
    return [re.sub(r"<[^>]+>|[↑↓]", "", cell).strip() for cell in cells]


def _view(org: Organization, owner: User, name: str = "Leads", **fields: Any) -> SavedView:
    with activate(org):
        return SavedView.objects.create(
            org=org, owner=owner, record_kind="contact", name=name, **fields
        )


def _save(client: Client, list_url: str = "/o/acme/contacts/", **changes: str) -> Any:
    data = {"name": "UK leads", "query": "lifecycle=lead&country=GB&page=3",
            "columns": "name,city,email"}  # fmt: skip
    return client.post(f"{list_url}views/save/", {**data, **changes})


def _menu(body: str) -> list[str]:
    menu = re.search(r'<ul class="saved-views__list">(.*?)</ul>', body, re.S)
    assert menu
    return [
        html.unescape(n).strip() for n in re.findall(r'<a href="[^"]*\?[^"]*">([^<]+)', menu[1])
    ]


# --- Columns -----------------------------------------------------------------------------


def test_it_shows_the_usual_columns_by_default(client: Client, acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    client.force_login(alice)
    body = client.get(URL).content.decode()
    assert _headers(body) == [
        "Name", "Email", "Company", "Owner", "Last contacted", "Next step",
    ]  # fmt: skip


def test_it_shows_the_chosen_columns_only(client: Client, acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", email="ada@engines.example",
             city="London", job_title="Analyst")  # fmt: skip
    client.force_login(alice)
    body = client.get(URL + "?columns=city,job_title").content.decode()
    assert _headers(body) == ["Name", "City", "Job title"]
    assert '<td title="London">London</td><td title="Analyst">Analyst</td>' in body
    assert "ada@engines.example" not in body


def test_it_takes_the_checkboxes_of_the_filter_form(client: Client, acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", source="Webinar")
    client.force_login(alice)
    body = client.get(URL + "?columns=name&columns=source&sort=").content.decode()
    assert _headers(body) == ["Name", "Source"]
    assert (
        '<input type="checkbox" name="columns" value="source" id="column-source" checked>' in body
    )


def test_it_ignores_unknown_columns_and_keeps_the_name_first(client: Client, acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    client.force_login(alice)
    body = client.get(URL + "?columns=password,email,name,email,owner__password").content.decode()
    assert _headers(body) == ["Name", "Email"]


def test_its_chosen_columns_sort(client: Client, acme, alice) -> None:
    client.force_login(alice)
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    body = client.get(URL + "?columns=last_interaction").content.decode()
    assert "sort=last_interaction" in body


def test_it_chooses_company_columns(client: Client, acme, alice) -> None:
    CompanyFactory(org=acme, name="Initech", industry="Software", country="US")
    client.force_login(alice)
    body = client.get("/o/acme/companies/?columns=country,industry").content.decode()
    assert _headers(body) == ["Name", "Country", "Industry"]
    assert '<td title="US">US</td><td class="col-fact" title="Software">Software</td>' in body


def test_the_htmx_results_carry_the_view_state_out_of_band(client: Client, acme, alice) -> None:
    client.force_login(alice)
    body = client.get(URL + "?q=ada&columns=email&page=2", headers=HTMX).content.decode()
    assert '<span id="saved-view-state" hx-swap-oob="true">' in body
    assert '<input type="hidden" name="query" value="q=ada">' in body
    assert '<input type="hidden" name="columns" value="name,email">' in body


# --- Saving and using a view -------------------------------------------------------------


def test_it_saves_the_query_and_columns(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = _save(client)
    with activate(acme):
        view = SavedView.objects.get()
        assert AuditEvent.objects.filter(action="saved_view.created").count() == 1
    assert (view.owner, view.record_kind, view.shared) == (alice, "contact", False)
    assert (view.query, view.columns) == ("lifecycle=lead&country=GB", ["name", "city", "email"])
    assert response["Location"] == URL + "?lifecycle=lead&country=GB&columns=name%2Ccity%2Cemail"


def test_the_views_menu_lists_it_and_it_restores_the_list(client: Client, acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ann", last_name="Lead", lifecycle="lead", country="GB",
             city="Leeds")  # fmt: skip
    ContactFactory(
        org=acme, first_name="Carl", last_name="Customer", lifecycle="customer", country="GB"
    )
    client.force_login(alice)
    _save(client)
    body = client.get(URL).content.decode()
    assert _menu(body) == ["UK leads"]
    link = re.search(r'<a href="(/o/acme/contacts/\?[^"]+)">UK leads', body)
    assert link
    restored = client.get(html.unescape(link[1])).content.decode()
    assert _headers(restored) == ["Name", "City", "Email"]
    assert "Ann Lead" in restored
    assert "Carl Customer" not in restored


def test_it_answers_htmx_with_a_client_redirect(client: Client, acme, alice) -> None:
    client.force_login(alice)
    data = {"name": "Mine", "query": "q=ann", "columns": "email"}
    response = client.post(SAVE, data, headers=HTMX)
    assert response["HX-Redirect"] == URL + "?q=ann&columns=name%2Cemail"


def test_it_shows_an_error_beside_the_name_for_a_duplicate(client: Client, acme, alice) -> None:
    _view(acme, alice, "UK Leads")
    client.force_login(alice)
    response = _save(client, name="uk leads")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<p class="field__error" id="view_name_error_1">' in body
    assert "There is already a view called" in body
    with activate(acme):
        assert SavedView.objects.count() == 1


def test_it_answers_htmx_errors_with_the_form_only(client: Client, acme, alice) -> None:
    _view(acme, alice, "UK leads")
    client.force_login(alice)
    body = client.post(SAVE, {"name": "UK leads"}, headers=HTMX).content.decode()
    assert body.lstrip().startswith('<form method="post"')
    assert "There is already a view called" in body


def test_a_name_may_repeat_across_people_and_lists(client: Client, acme, alice, bob) -> None:
    _view(acme, bob, "UK leads")
    client.force_login(alice)
    _save(client)
    _save(client, "/o/acme/companies/")
    with activate(acme):
        assert SavedView.objects.count() == 3


def test_a_viewer_may_save_their_own_views(client: Client, acme, bob) -> None:
    client.force_login(bob)
    assert _save(client).status_code == 302


# --- Sharing -----------------------------------------------------------------------------


def test_a_shared_view_appears_for_another_member(client: Client, acme, alice, bob) -> None:
    _view(acme, alice, "Shared one", shared=True)
    _view(acme, alice, "Private one")
    client.force_login(bob)
    body = client.get(URL).content.decode()
    assert _menu(body) == ["Shared one"]
    assert "Rename or delete" not in body


def test_a_shared_view_never_reaches_another_organisation(
    client: Client, acme, alice, globex, charlie
) -> None:
    view = _view(acme, alice, "Acme pipeline", shared=True)
    client.force_login(charlie)
    body = client.get("/o/globex/contacts/").content.decode()
    assert "Acme pipeline" not in body
    assert client.get(f"/o/globex/contacts/views/{view.pk}/").status_code == 404


def test_another_member_may_not_change_a_shared_view(client: Client, acme, alice, rita) -> None:
    view = _view(acme, alice, "Shared one", shared=True)
    client.force_login(rita)
    # Rita sees the view (it is shared), so she is refused rather than told it is missing.
    assert client.post(f"{URL}views/{view.pk}/", {"name": "Mine now"}).status_code == 403
    assert client.post(f"{URL}views/{view.pk}/delete/").status_code == 403
    with activate(acme):
        view.refresh_from_db()
    assert view.name == "Shared one"


def test_another_members_private_view_is_not_found(client: Client, acme, alice, rita) -> None:
    view = _view(acme, alice, "Private one")
    client.force_login(rita)
    assert client.get(f"{URL}views/{view.pk}/").status_code == 404
    assert client.post(f"{URL}views/{view.pk}/delete/").status_code == 404


def test_an_admin_may_rename_a_shared_view(client: Client, acme, alice, rita) -> None:
    view = _view(acme, rita, "Rita's", shared=True)
    client.force_login(alice)
    response = client.post(f"{URL}views/{view.pk}/", {"name": "Team's", "shared": "on"})
    assert response.status_code == 302
    with activate(acme):
        view.refresh_from_db()
    assert view.name == "Team's"


# --- Renaming and deleting ---------------------------------------------------------------


def test_the_owner_renames_and_unshares(client: Client, acme, rita) -> None:
    view = _view(acme, rita, "Old", shared=True, query="q=x")
    client.force_login(rita)
    response = client.post(f"{URL}views/{view.pk}/", {"name": "New"})
    assert response["Location"] == URL + "?q=x"
    with activate(acme):
        view.refresh_from_db()
    assert (view.name, view.shared) == ("New", False)


def test_renaming_to_a_taken_name_shows_an_error(client: Client, acme, rita) -> None:
    view = _view(acme, rita, "Old")
    _view(acme, rita, "Taken")
    client.force_login(rita)
    body = client.post(f"{URL}views/{view.pk}/", {"name": "TAKEN"}).content.decode()
    assert '<p class="field__error" id="id_name_error_1">' in body


def test_it_asks_before_deleting(client: Client, acme, rita) -> None:
    view = _view(acme, rita, "Doomed")
    client.force_login(rita)
    body = client.get(f"{URL}views/{view.pk}/delete/").content.decode()
    assert "Delete the view “Doomed”?" in body
    with activate(acme):
        assert SavedView.objects.filter(pk=view.pk).exists()


def test_it_deletes_and_records_it(client: Client, acme, rita) -> None:
    view = _view(acme, rita, "Doomed")
    client.force_login(rita)
    assert client.post(f"{URL}views/{view.pk}/delete/")["Location"] == URL
    with activate(acme):
        assert not SavedView.objects.exists()
        assert AuditEvent.objects.filter(action="saved_view.deleted").count() == 1


# --- Query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 50])
def test_every_column_lists_in_a_fixed_number_of_queries(
    client: Client, acme, alice, rows: int, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    company = CompanyFactory(org=acme, name="Northwind")
    for n in range(rows):
        ContactFactory(org=acme, first_name="Person", last_name=f"{n:02d}", company=company,
                       tags=("VIP", "Partner"), owner=alice, city="Leeds")  # fmt: skip
    _view(acme, alice, "Mine")
    with activate(acme):
        for key, kind in (("tier", "text"), ("met_on", "date")):
            custom_fields.custom_field_save(
                org=acme, by=None, record_kind="contact", key=key, label=key, kind=kind, choices=[]
            )
    client.force_login(alice)
    every = ",".join(["email", "phone", "company", "stage", "owner", "tags", "created",
                      "job_title", "source", "country", "city", "last_interaction",
                      "custom_tier", "custom_met_on"])  # fmt: skip
    client.get(URL)  # the cache then has the custom fields and the segments of the filters
    # As tests/contacts/test_contact_list.py: none per row or per column.
    with django_assert_max_num_queries(13):
        response = client.get(f"{URL}?columns={every}")
    assert response.content.decode().count('<td title="Leeds">Leeds</td>') == rows
