"""One fact of a company edited in place: /o/<org>/companies/<id>/field/<name>/, the same
views as a contact's (crm.records.views.facts), from the company's declaration."""

import html
import re
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from contacts import services
from contacts.models import Company, Contact
from crm.models import AuditEvent, Organization, User
from crm.records.versions import version_of
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, CustomFieldFactory, trash
from tests.records.facts import fact_text

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def initech(acme: Organization, alice: User) -> Company:
    return CompanyFactory(org=acme, by=alice, name="Initech", domain="initech.com")


def _url(company: Company, name: str, org: str = "acme") -> str:
    return f"/o/{org}/companies/{company.pk}/field/{name}/"


def _get(org: Organization, company: Company) -> Company:
    with activate(org):
        return Company.objects.get(pk=company.pk)


def _version(org: Organization, company: Company) -> str:
    return version_of(_get(org, company))


def _error(response: Any, name: str) -> str:
    found = re.search(rf'id="id_{name}-{name}_error_1">(.*?)</p>', response.content.decode())
    return html.unescape(found[1]) if found else ""


def test_it_answers_htmx_with_a_form_for_that_field_alone(client, acme, alice, initech) -> None:
    client.force_login(alice)
    body = client.get(_url(initech, "industry"), headers=HTMX).content.decode()
    assert body.lstrip().startswith('<div class="fact fact--editing" id="fact-industry">')
    names = set(re.findall(r'name="(\w+)"', body)) - {"csrfmiddlewaretoken"}
    assert names == {"industry", "version"}


def test_a_new_name_is_saved_recorded_and_copied_to_its_contacts(
    client, acme, alice, initech
) -> None:
    peter = ContactFactory(org=acme, first_name="Peter", company=initech)
    client.force_login(alice)
    data = {"name": "Initrode", "version": _version(acme, initech)}
    body = client.post(_url(initech, "name"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Name") == "Initrode"
    assert '<span id="record-title" hx-swap-oob="true">Initrode</span>' in body
    with activate(acme):
        event = AuditEvent.objects.get(action="company.updated")
        assert Contact.objects.get(pk=peter.pk).company_name == "Initrode"
    assert event.changes == {"name": ["Initech", "Initrode"]}
    assert _get(acme, initech).domain == "initech.com"


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("name", "", "This field is required."),
        (
            "domain",
            "javascript:alert(1)",
            "“javascript:alert(1)” is not a website domain, such as example.com.",
        ),
    ],
)
def test_it_shows_a_refused_value_beside_the_field(
    client, acme, alice, initech, name: str, value: str, error: str
) -> None:
    client.force_login(alice)
    response = client.post(_url(initech, name), {name: value, "version": _version(acme, initech)})
    assert _error(response, name) == error
    company = _get(acme, initech)
    assert (company.name, company.domain) == ("Initech", "initech.com")


def test_it_refuses_a_save_over_a_change_made_meanwhile(client, acme, alice, initech) -> None:
    client.force_login(alice)
    opened = _version(acme, initech)
    with activate(acme):
        services.company_update(org=acme, company=initech, by=None, industry="Software")
    data = {"industry": "Hardware", "version": opened}
    body = client.post(_url(initech, "industry"), data, headers=HTMX).content.decode()
    assert "An import or a background job changed it at" in body
    assert _get(acme, initech).industry == "Software"


def test_a_company_deleted_meanwhile_is_in_the_trash(client, acme, alice, initech) -> None:
    client.force_login(alice)
    opened = _version(acme, initech)
    trash(acme, initech, by=alice)
    data = {"industry": "Software", "version": opened}
    assert client.post(_url(initech, "industry"), data).status_code == 410
    inline = client.get(_url(initech, "industry"), headers=HTMX)
    assert inline["HX-Redirect"] == f"/o/acme/companies/{initech.pk}/"


def test_it_knows_no_field_a_company_does_not_have(client, alice, initech) -> None:
    client.force_login(alice)
    assert client.get(_url(initech, "job_title")).status_code == 404
    assert client.get(_url(initech, "added")).status_code == 404


def test_it_refuses_a_viewer_and_hides_from_another_organisation(
    client, acme, bob, charlie, initech
) -> None:
    data = {"name": "Hacked", "version": _version(acme, initech)}
    client.force_login(bob)
    assert client.get(_url(initech, "name")).status_code == 403
    assert client.post(_url(initech, "name"), data).status_code == 403
    client.force_login(charlie)
    assert client.get(_url(initech, "name", "globex")).status_code == 404
    assert client.post(_url(initech, "name", "globex"), data).status_code == 404
    assert _get(acme, initech).name == "Initech"


def test_it_edits_a_companys_own_custom_field(client, acme, alice, initech) -> None:
    CustomFieldFactory(org=acme, record_kind="company", key="employees", kind="number")
    CustomFieldFactory(org=acme, record_kind="contact", key="shoe_size", kind="number")
    client.force_login(alice)
    assert client.get(_url(initech, "custom_shoe_size")).status_code == 404
    data = {"custom_employees": "120", "version": _version(acme, initech)}
    body = client.post(_url(initech, "custom_employees"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Employees") == "120"
    assert _get(acme, initech).custom == {"employees": 120}


def test_its_save_takes_a_fixed_number_of_queries(
    client, acme, alice, initech, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client.force_login(alice)
    client.get(_url(initech, "industry"), headers=HTMX)  # the custom fields, now in the cache
    data = {"industry": "Software", "version": _version(acme, initech)}
    # The user and the walls, in a savepoint (7); the company and its tags (2); the service
    # in its savepoints (4): the version's lock, the save and its audit event (3); the
    # company and its tags read again, and its History (3).
    with django_assert_num_queries(19):
        client.post(_url(initech, "industry"), data, headers=HTMX)
