"""/o/<org>/settings/web-forms/…: an organisation's capture forms, and their services."""

import pytest
from django.core.exceptions import ValidationError

from crm.audit import AuditEvent
from crm.tenancy import activate
from interactions.models import WebForm
from interactions.webforms import (
    webform_create,
    webform_for_token,
    webform_rotate,
    webform_token,
    webform_update,
)
from tests.factories import CustomFieldFactory

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/settings/web-forms/"


@pytest.fixture
def webform(acme, alice) -> WebForm:
    with activate(acme):
        return webform_create(
            org=acme, by=alice, name="Contact us", owner=alice,
            fields=[{"name": "first_name", "required": False}, {"name": "email"}],
        )  # fmt: skip


def _form(acme, pk: int) -> WebForm:
    with activate(acme):
        return WebForm.objects.get(pk=pk)


def test_it_lists_the_forms_with_their_submissions(client, alice, webform):
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert f'href="{PAGE}{webform.pk}/"' in body
    assert "Contact us" in body
    assert "Active" in body


def test_it_says_what_to_do_when_there_is_no_form(client, alice):
    client.force_login(alice)
    assert "No web forms yet" in client.get(PAGE).content.decode()


def test_it_creates_a_form_with_the_chosen_fields(client, acme, alice, rita):
    client.force_login(alice)
    response = client.post(PAGE + "new/", {
        "name": "Demo request", "ask_first_name": "on", "ask_phone": "on",
        "require_phone": "on", "consent_label": "Send me news", "owner": rita.pk,
    })  # fmt: skip
    with activate(acme):
        form = WebForm.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}{form.pk}/"
    assert form.fields == [
        {"name": "first_name", "required": False},
        {"name": "email", "required": True},
        {"name": "phone", "required": True},
    ]
    assert (form.consent_label, form.owner_id, form.is_active) == ("Send me news", rita.pk, True)
    assert len(form.key) == 43


def test_it_always_asks_for_the_email_and_requires_it(acme, alice):
    with activate(acme):
        form = webform_create(org=acme, by=alice, name="Bare", fields=[])
    assert form.fields == [{"name": "email", "required": True}]


def test_it_offers_the_contacts_custom_fields(client, acme, alice):
    CustomFieldFactory(org=acme, key="budget", label="Budget", kind="number")
    client.force_login(alice)
    assert "Budget" in client.get(PAGE + "new/").content.decode()
    client.post(PAGE + "new/", {"name": "Quote", "ask_custom_budget": "on"})
    with activate(acme):
        assert {"name": "custom_budget", "required": False} in WebForm.objects.get().fields


def test_it_refuses_a_field_contacts_do_not_have(acme, alice):
    with activate(acme), pytest.raises(ValidationError):
        webform_create(org=acme, by=alice, name="Odd", fields=[{"name": "password"}])


def test_it_refuses_an_owner_from_another_organisation(acme, alice, charlie):
    with activate(acme), pytest.raises(ValidationError):
        webform_create(org=acme, by=alice, name="Odd", fields=[], owner=charlie)


def test_it_edits_and_deactivates_a_form(client, acme, alice, webform):
    client.force_login(alice)
    response = client.post(f"{PAGE}{webform.pk}/edit/", {"name": "Talk to us", "ask_email": "on"})
    assert response.status_code == 302
    form = _form(acme, webform.pk)
    assert (form.name, form.is_active) == ("Talk to us", False)
    assert form.fields == [{"name": "email", "required": True}]
    assert webform_for_token(webform_token(form)) is None
    with activate(acme):
        assert AuditEvent.objects.filter(action="web_form.updated").exists()


def test_it_shows_the_address_and_both_snippets(client, acme, alice, webform):
    client.force_login(alice)
    body = client.get(f"{PAGE}{webform.pk}/").content.decode()
    address = f"http://testserver/forms/{acme.pk}.{webform.key}/"
    assert f'href="{address}"' in body
    assert f"&lt;iframe src=&quot;{address}&quot;" in body
    assert f"&lt;form action=&quot;{address}&quot; method=&quot;post&quot;&gt;" in body
    assert "name=&quot;first_name&quot;" in body
    assert "name=&quot;website&quot;" in body  # the honeypot goes with the snippet


def test_it_asks_before_replacing_the_address(client, acme, alice, webform):
    client.force_login(alice)
    confirm = client.get(f"{PAGE}{webform.pk}/new-address/").content.decode()
    assert "stops working at once" in confirm
    assert _form(acme, webform.pk).key == webform.key
    response = client.post(f"{PAGE}{webform.pk}/new-address/")
    assert response["Location"] == f"{PAGE}{webform.pk}/"
    form = _form(acme, webform.pk)
    assert form.key != webform.key
    assert len(form.key) == 43
    assert webform_for_token(webform_token(webform)) is None
    assert webform_for_token(webform_token(form)) == (acme, form)


def test_it_asks_before_deleting_a_form(client, acme, alice, webform):
    client.force_login(alice)
    assert "Delete the form" in client.get(f"{PAGE}{webform.pk}/delete/").content.decode()
    assert _form(acme, webform.pk)
    response = client.post(f"{PAGE}{webform.pk}/delete/")
    assert response["Location"] == PAGE
    with activate(acme):
        assert not WebForm.objects.exists()


def test_the_service_keeps_a_rotated_key_unguessable(acme, alice, webform):
    with activate(acme):
        rotated = webform_rotate(org=acme, form=webform, by=alice)
        again = webform_update(org=acme, form=rotated, by=alice, name="Renamed")
    assert again.key == rotated.key


@pytest.mark.parametrize("who", ["rita", "bob", "sam"])
def test_it_refuses_members_who_do_not_manage_the_organisation(client, webform, who, request):
    client.force_login(request.getfixturevalue(who))
    for path in ("", "new/", f"{webform.pk}/", f"{webform.pk}/edit/", f"{webform.pk}/delete/"):
        assert client.get(PAGE + path).status_code == 403, path
    assert client.post(f"{PAGE}{webform.pk}/delete/").status_code == 403


def test_it_answers_404_to_another_organisations_form(client, acme, globex, charlie, webform):
    client.force_login(charlie)
    for path in (f"{webform.pk}/", f"{webform.pk}/edit/", f"{webform.pk}/new-address/"):
        assert client.get(f"/o/globex/settings/web-forms/{path}").status_code == 404, path
    assert client.post(f"/o/globex/settings/web-forms/{webform.pk}/delete/").status_code == 404
    assert _form(acme, webform.pk).name == "Contact us"


def test_it_pins_the_queries_of_the_list(client, acme, alice, django_assert_max_num_queries):
    with activate(acme):
        for number in range(5):
            webform_create(org=acme, by=alice, name=f"Form {number}", fields=[])
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        assert client.get(PAGE).status_code == 200


def test_it_is_in_the_settings_navigation(client, alice):
    client.force_login(alice)
    link = f'<a href="{PAGE}" aria-current="page">Web forms</a>'
    assert link in client.get(PAGE).content.decode()
