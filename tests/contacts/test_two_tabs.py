"""One record open in two tabs: a save over a change made meanwhile says so and keeps the
member's input; a record deleted meanwhile says where it went, with the way back."""

import re
from typing import Any

import pytest
from django.test import Client

from contacts import services
from contacts.models import Company, Contact
from crm.models import Organization, User
from crm.records import services as records
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(acme: Organization, alice: User) -> Contact:
    return ContactFactory(org=acme, by=alice, first_name="Ada", last_name="Lovelace")


def _form(client: Client, url: str) -> dict[str, Any]:
    """The fields of the form at `url`, as the browser would post them back."""
    body = client.get(url).content.decode()
    fields: dict[str, Any] = {}
    for tag in re.findall(r"<input\b[^>]*>", body):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        if "name" in attrs and attrs.get("type") not in ("checkbox", "submit"):
            fields[attrs["name"]] = attrs.get("value", "")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        fields[name] = chosen.group(1) if chosen else ""
    fields.pop("csrfmiddlewaretoken", None)
    assert fields.get("version"), "the form carries the version it was opened on"
    return fields


def test_a_save_over_a_change_made_meanwhile_is_refused_and_keeps_the_input(
    client: Client, alice: User, rita: User, acme: Organization, ada: Contact
) -> None:
    url = f"/o/acme/contacts/{ada.pk}/edit/"
    client.force_login(alice)
    opened = _form(client, url)
    with activate(acme):  # the other tab, or a colleague, saves first
        services.contact_update(org=acme, contact=ada, by=rita, job_title="Countess")
    refused = client.post(url, {**opened, "first_name": "Augusta"})
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "Rita Reyes changed it at" in body
    assert "since you opened this form, so nothing was saved" in body
    assert 'value="Augusta"' in body  # the member's input, kept
    with activate(acme):
        ada.refresh_from_db()
    assert (ada.first_name, ada.job_title) == ("Ada", "Countess")
    again = dict(re.findall(r'name="(version)" value="([^"]*)"', body))  # the current version
    saved = client.post(url, {**opened, **again, "first_name": "Augusta", "job_title": "Countess"})
    assert saved.status_code == 302
    with activate(acme):
        ada.refresh_from_db()
    assert (ada.first_name, ada.job_title) == ("Augusta", "Countess")


def test_an_inline_save_over_a_change_says_so_in_place(
    client: Client, alice: User, acme: Organization, ada: Contact
) -> None:
    url = f"/o/acme/contacts/{ada.pk}/field/first_name/"
    client.force_login(alice)
    opened = _form(client, url)
    with activate(acme):
        services.contact_update(org=acme, contact=ada, by=alice, job_title="Countess")
    refused = client.post(url, {**opened, "first_name": "Augusta"}, HTTP_HX_REQUEST="true")
    assert "since you opened this form, so nothing was saved" in refused.content.decode()


def test_a_company_saved_meanwhile_is_not_overwritten(
    client: Client, alice: User, acme: Organization
) -> None:
    with activate(acme):
        initech = CompanyFactory(org=acme, by=alice, name="Initech")
    url = f"/o/acme/companies/{initech.pk}/edit/"
    client.force_login(alice)
    opened = _form(client, url)
    with activate(acme):
        services.company_update(org=acme, company=initech, by=None, industry="Software")
    refused = client.post(url, {**opened, "name": "Initrode"})
    assert "An import or a background job changed it at" in refused.content.decode()
    with activate(acme):
        assert Company.objects.get().name == "Initech"


@pytest.mark.parametrize("action", ["edit", "delete", "field/first_name"])
def test_a_record_deleted_meanwhile_says_it_is_in_the_trash(
    client: Client, alice: User, acme: Organization, ada: Contact, action: str
) -> None:
    url = f"/o/acme/contacts/{ada.pk}/{action}/"
    client.force_login(alice)
    opened = _form(client, f"/o/acme/contacts/{ada.pk}/edit/")
    with activate(acme):
        records.records_trash(org=acme, by=alice, kind=_contact_kind(), ids=[ada.pk])
    answer = client.post(url, {**opened, "first_name": "Augusta"})
    body = answer.content.decode()
    assert answer.status_code == 410
    assert "Ada Lovelace is in the Trash" in body
    assert "anything you were saving to it was not saved" in body
    assert f'action="/o/acme/contacts/{ada.pk}/restore/"' in body
    assert 'href="/o/acme/trash/"' in body
    inline = client.post(url, {**opened}, HTTP_HX_REQUEST="true")
    assert inline["HX-Redirect"] == f"/o/acme/contacts/{ada.pk}/"
    assert client.get(f"/o/acme/contacts/{ada.pk}/").status_code == 410
    restored = client.post(f"/o/acme/contacts/{ada.pk}/restore/")
    assert restored["Location"] == f"/o/acme/contacts/{ada.pk}/"
    assert client.get(restored["Location"]).status_code == 200


def test_another_organisations_trashed_record_is_still_not_found(
    client: Client, acme: Organization, alice: User, globex: Organization, charlie: User,
    ada: Contact,
) -> None:  # fmt: skip
    with activate(acme):
        records.records_trash(org=acme, by=alice, kind=_contact_kind(), ids=[ada.pk])
    client.force_login(charlie)
    for path in (
        f"/o/globex/contacts/{ada.pk}/",
        f"/o/globex/contacts/{ada.pk}/edit/",
        f"/o/globex/contacts/{ada.pk}/field/first_name/",
    ):
        assert client.get(path).status_code == 404
        assert client.get(path, HTTP_HX_REQUEST="true").status_code == 404


def _contact_kind() -> Any:
    from crm.records import registry

    return registry.kind("contact")


def test_a_create_sent_twice_asks_before_making_a_second_contact(
    client: Client, alice: User, acme: Organization
) -> None:
    client.force_login(alice)
    data = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
            "phone": "", "company": "", "lifecycle": "lead", "tags": "", "owner": "",
            "country": ""}  # fmt: skip
    first = client.post("/o/acme/contacts/new/", data)
    assert first.status_code == 302
    again = client.post("/o/acme/contacts/new/", {**data, "email": "ADA@example.com"})
    body = again.content.decode()
    assert again.status_code == 200
    assert "<strong>Ada Lovelace</strong> already has this email address" in body
    assert f'href="{first["Location"]}"' in body
    assert 'name="create_anyway" value="1"' in body
    with activate(acme):
        assert Contact.objects.count() == 1
    anyway = client.post("/o/acme/contacts/new/", {**data, "create_anyway": "1"})
    assert anyway.status_code == 302
    with activate(acme):
        assert Contact.objects.count() == 2


def test_a_company_at_a_known_website_asks_first(
    client: Client, alice: User, acme: Organization
) -> None:
    client.force_login(alice)
    client.post("/o/acme/companies/new/", {"name": "Initech", "domain": "initech.com"})
    same_site = {"name": "Initech Ltd", "domain": "https://www.initech.com/"}
    again = client.post("/o/acme/companies/new/", same_site)
    assert "<strong>Initech</strong> already has this website" in again.content.decode()
    with activate(acme):
        assert Company.objects.count() == 1
