"""One fact of a contact edited in place: /o/<org>/contacts/<id>/field/<name>/ (the form, its
save) and …/value/ (the fact again, as Cancel brings it back)."""

import html
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from pytest_django import DjangoAssertNumQueries

from contacts import services
from contacts.models import Contact
from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.people import person_html
from crm.records.versions import version_of
from crm.tenancy import activate
from tests.factories import ContactFactory, CustomFieldFactory, trash
from tests.records.facts import fact_text

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def ada(acme: Organization, alice: User) -> Contact:
    return ContactFactory(
        org=acme, by=alice, first_name="Ada", last_name="Lovelace", email="ada@engines.example",
        phone="+442079460958", country="GB", job_title="Analyst", owner=alice,
    )  # fmt: skip


def _url(contact: Contact, name: str, org: str = "acme") -> str:
    return f"/o/{org}/contacts/{contact.pk}/field/{name}/"


def _get(org: Organization, contact: Contact) -> Contact:
    with activate(org):
        return Contact.objects.get(pk=contact.pk)


def _version(org: Organization, contact: Contact) -> str:
    return version_of(_get(org, contact))


def _error(response: Any, name: str) -> str:
    """The error shown under the fact's field, as the person reads it."""
    found = re.search(rf'id="id_{name}-{name}_error_1">(.*?)</p>', response.content.decode())
    return html.unescape(found[1]) if found else ""


def _updates(org: Organization) -> list[AuditEvent]:
    with activate(org):
        return list(AuditEvent.objects.filter(action="contact.updated"))


# --- The form ----------------------------------------------------------------------------


def test_it_answers_htmx_with_a_form_for_that_field_alone(client, acme, alice, ada) -> None:
    client.force_login(alice)
    body = client.get(_url(ada, "job_title"), headers=HTMX).content.decode()
    assert body.lstrip().startswith('<div class="fact fact--editing" id="fact-job_title">')
    assert "<html" not in body
    names = set(re.findall(r'name="(\w+)"', body)) - {"csrfmiddlewaretoken"}
    assert names == {"job_title", "version"}
    assert 'value="Analyst"' in body
    assert f'name="version" value="{_version(acme, ada)}"' in body
    assert f'hx-post="{_url(ada, "job_title")}"' in body


def test_it_is_a_page_of_its_own_without_javascript(client, alice, ada) -> None:
    client.force_login(alice)
    body = client.get(_url(ada, "job_title")).content.decode()
    assert "<html" in body
    assert "hx-post" not in body  # a plain post, back to the contact once saved
    assert f'<a class="btn btn--ghost" href="/o/acme/contacts/{ada.pk}/" data-fact-cancel' in body


def test_it_shows_the_fact_again_for_cancel(client, alice, ada) -> None:
    client.force_login(alice)
    value = f"{_url(ada, 'job_title')}value/"
    body = client.get(value, headers=HTMX).content.decode()
    assert body.lstrip().startswith('<div class="fact" id="fact-job_title">')
    assert fact_text(body, "Job title") == "Analyst"
    assert client.get(value)["Location"] == f"/o/acme/contacts/{ada.pk}/"


# --- Saving ------------------------------------------------------------------------------


def test_it_saves_that_field_alone_and_records_it(client, acme, alice, ada) -> None:
    client.force_login(alice)
    data = {"job_title": "Countess", "version": _version(acme, ada)}
    body = client.post(_url(ada, "job_title"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Job title") == "Countess"
    assert '<p id="facts-status" hx-swap-oob="innerHTML">Job title saved.</p>' in body
    assert '<section id="history"' in body
    assert "Analyst → Countess" in body
    contact = _get(acme, ada)
    assert (contact.job_title, contact.email, contact.phone) == (
        "Countess", "ada@engines.example", "+442079460958",
    )  # fmt: skip
    (event,) = _updates(acme)
    assert (event.actor, event.changes) == (alice, {"job_title": ["Analyst", "Countess"]})


def test_without_javascript_it_goes_back_to_the_contact(client, acme, alice, ada) -> None:
    client.force_login(alice)
    data = {"job_title": "Countess", "version": _version(acme, ada)}
    response = client.post(_url(ada, "job_title"), data)
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Job title saved."]


def test_it_leaves_tags_company_and_custom_values_alone(client, acme, alice) -> None:
    CustomFieldFactory(org=acme, key="shoe_size", kind="number")
    ada = ContactFactory(org=acme, first_name="Ada", tags=("VIP",), custom={"shoe_size": 38})
    client.force_login(alice)
    client.post(_url(ada, "source"), {"source": "Fair", "version": _version(acme, ada)})
    with activate(acme):
        contact = Contact.objects.get(pk=ada.pk)
        tags = [link.tag.name for link in contact.tag_links.all()]
    assert (contact.source, contact.custom, tags) == ("Fair", {"shoe_size": 38}, ["VIP"])


def test_it_reads_a_local_number_with_the_contacts_country(client, acme, alice, ada) -> None:
    client.force_login(alice)
    data = {"phone": "020 7946 0000", "version": _version(acme, ada)}
    client.post(_url(ada, "phone"), data, headers=HTMX)
    assert _get(acme, ada).phone == "+442079460000"


def test_it_saves_an_address_as_one_fact(client, acme, alice, ada) -> None:
    client.force_login(alice)
    data = {"street": "12 St James's Square", "postal_code": "SW1Y 4JH", "city": "London",
            "region": "", "country": "gb", "version": _version(acme, ada)}  # fmt: skip
    body = client.post(_url(ada, "address"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Address") == "12 St James's Square SW1Y 4JH London GB"


def test_it_saves_tags_by_name(client, acme, alice, ada) -> None:
    client.force_login(alice)
    data = {"tags": "VIP, Partner", "version": _version(acme, ada)}
    body = client.post(_url(ada, "tags"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Tags") == "Partner VIP"


def test_it_changes_the_owner_and_shows_them_by_name(client, acme, alice, rita, ada) -> None:
    client.force_login(alice)
    data = {"owner": rita.pk, "version": _version(acme, ada)}
    body = client.post(_url(ada, "owner"), data, headers=HTMX).content.decode()
    assert person_html("Rita Reyes") in body
    assert "rita@acme.test" not in body
    assert _get(acme, ada).owner_id == rita.pk


# --- Refused -----------------------------------------------------------------------------


def test_it_shows_an_invalid_value_beside_the_field(client, acme, alice, ada) -> None:
    client.force_login(alice)
    data = {"email": "not-an-email", "version": _version(acme, ada)}
    response = client.post(_url(ada, "email"), data, headers=HTMX)
    assert _error(response, "email") == "Enter a valid email address."
    assert 'value="not-an-email"' in response.content.decode()  # the input kept
    assert _get(acme, ada).email == "ada@engines.example"
    assert _updates(acme) == []


def test_it_shows_the_services_refusal_beside_the_field(client, acme, alice) -> None:
    nameless = ContactFactory(org=acme, email="who@example.com")
    client.force_login(alice)
    data = {"email": "", "version": _version(acme, nameless)}
    body = client.post(_url(nameless, "email"), data, headers=HTMX).content.decode()
    assert '<div class="form-errors" role="alert">' in body
    assert "Give at least a name or an email address." in body
    assert _get(acme, nameless).email == "who@example.com"


def test_it_refuses_a_save_over_a_change_made_meanwhile(client, acme, alice, rita, ada) -> None:
    client.force_login(alice)
    opened = _version(acme, ada)
    with activate(acme):  # another tab, or a colleague, saves first
        services.contact_update(org=acme, contact=ada, by=rita, job_title="Countess")
    data = {"job_title": "Mathematician", "version": opened}
    body = client.post(_url(ada, "job_title"), data, headers=HTMX).content.decode()
    assert "since you opened this form, so nothing was saved" in body
    assert "As it is now: Countess" in body
    assert 'value="Mathematician"' in body
    assert f'name="version" value="{_version(acme, ada)}"' in body  # to save again, once checked
    assert _get(acme, ada).job_title == "Countess"


def test_a_contact_deleted_meanwhile_is_in_the_trash(client, acme, alice, ada) -> None:
    client.force_login(alice)
    opened = _version(acme, ada)
    trash(acme, ada, by=alice)
    data = {"job_title": "Countess", "version": opened}
    page = client.post(_url(ada, "job_title"), data)
    assert page.status_code == 410
    assert "Ada Lovelace is in the Trash" in page.content.decode()
    inline = client.post(_url(ada, "job_title"), data, headers=HTMX)
    assert inline["HX-Redirect"] == f"/o/acme/contacts/{ada.pk}/"
    assert _get(acme, ada).job_title == "Analyst"


@pytest.mark.parametrize("name", ["nope", "consent", "added", "custom_gone", "search_text"])
def test_it_knows_no_other_field(client, acme, alice, ada, name: str) -> None:
    client.force_login(alice)
    assert client.get(_url(ada, name)).status_code == 404
    assert client.post(_url(ada, name), {name: "x"}).status_code == 404


# --- Who --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_refuses_a_viewer(client, acme, bob, ada, method: str) -> None:
    client.force_login(bob)
    data = {"job_title": "Countess", "version": _version(acme, ada)}
    response = getattr(client, method)(_url(ada, "job_title"), data, headers=HTMX)
    assert response.status_code == 403
    assert _get(acme, ada).job_title == "Analyst"


def test_a_rep_limited_to_their_own_does_not_find_a_colleagues(client, acme, alice, rita, ada):
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    client.force_login(rita)
    data = {"job_title": "Countess", "version": _version(acme, ada)}
    assert client.get(_url(ada, "job_title")).status_code == 404
    assert client.post(_url(ada, "job_title"), data).status_code == 404
    assert _get(acme, ada).job_title == "Analyst"


def test_it_hides_another_organisations_contact(client, acme, globex, charlie, ada) -> None:
    client.force_login(charlie)
    # Charlie is a real Globex admin: only the scoping stops this.
    data = {"job_title": "Countess", "version": _version(acme, ada)}
    assert client.get(_url(ada, "job_title", "globex")).status_code == 404
    assert client.post(_url(ada, "job_title", "globex"), data, headers=HTMX).status_code == 404
    assert _get(acme, ada).job_title == "Analyst"


# --- Custom fields ---------------------------------------------------------------------


def test_it_edits_a_custom_text_field(client, acme, alice) -> None:
    CustomFieldFactory(org=acme, key="nickname", label="Nickname")
    ada = ContactFactory(org=acme, first_name="Ada", custom={"nickname": "Enchantress"})
    client.force_login(alice)
    form = client.get(_url(ada, "custom_nickname"), headers=HTMX).content.decode()
    assert 'name="custom_nickname" value="Enchantress"' in form
    data = {"custom_nickname": "Countess", "version": _version(acme, ada)}
    body = client.post(_url(ada, "custom_nickname"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Nickname") == "Countess"
    assert _get(acme, ada).custom == {"nickname": "Countess"}


def test_it_checks_a_custom_number(client, acme, alice) -> None:
    CustomFieldFactory(org=acme, key="shoe_size", label="Shoe size", kind="number")
    ada = ContactFactory(org=acme, first_name="Ada", custom={"shoe_size": 38})
    client.force_login(alice)
    bad = {"custom_shoe_size": "large", "version": _version(acme, ada)}
    assert _error(client.post(_url(ada, "custom_shoe_size"), bad), "custom_shoe_size") == (
        "Enter a whole number."
    )
    good = {"custom_shoe_size": "39", "version": _version(acme, ada)}
    client.post(_url(ada, "custom_shoe_size"), good, headers=HTMX)
    assert _get(acme, ada).custom == {"shoe_size": 39}


def test_it_edits_several_choices_and_keeps_the_other_custom_values(client, acme, alice):
    CustomFieldFactory(org=acme, key="topics", label="Topics", kind="multi_choice",
                       choices=["Maths", "Engines", "Poetry"])  # fmt: skip
    CustomFieldFactory(org=acme, key="nickname")
    custom = {"topics": ["Maths"], "nickname": "Enchantress"}
    ada = ContactFactory(org=acme, first_name="Ada", custom=custom)
    client.force_login(alice)
    form = client.get(_url(ada, "custom_topics"), headers=HTMX).content.decode()
    assert '<fieldset class="field field--choices">' in form
    data = {"custom_topics": ["Poetry", "Engines"], "version": _version(acme, ada)}
    body = client.post(_url(ada, "custom_topics"), data, headers=HTMX).content.decode()
    assert fact_text(body, "Topics") == "Engines, Poetry"
    assert _get(acme, ada).custom == {"topics": ["Engines", "Poetry"], "nickname": "Enchantress"}
    (event,) = _updates(acme)
    assert event.changes == {"custom": [custom, {**custom, "topics": ["Engines", "Poetry"]}]}


# --- Queries ----------------------------------------------------------------------------


def test_its_form_takes_a_fixed_number_of_queries(
    client, acme, alice, ada, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client.force_login(alice)
    client.get(_url(ada, "job_title"), headers=HTMX)  # the custom fields, now in the cache
    # The user and the walls, in a savepoint (7); the contact and its tags (2).
    with django_assert_num_queries(9):
        client.get(_url(ada, "job_title"), headers=HTMX)


def test_its_save_takes_a_fixed_number_of_queries(
    client, acme, alice, ada, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client.force_login(alice)
    client.get(_url(ada, "job_title"), headers=HTMX)  # the custom fields, now in the cache
    data = {"job_title": "Countess", "version": _version(acme, ada)}
    # The user and the walls, in a savepoint (7); the contact and its tags (2); the service
    # in its savepoints (4): the version's lock, the erasure's, the owner checked, the save and
    # its audit event (5); the contact and its tags read again, and its History (3).
    with django_assert_num_queries(21):
        client.post(_url(ada, "job_title"), data, headers=HTMX)
