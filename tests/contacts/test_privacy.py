"""A contact's privacy tools: export of the personal data, and erasure."""

import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from contacts import privacy, services
from contacts.models import ConsentEvent, Contact, ContactTag
from crm.models import AuditEvent, Organization, User
from crm.records.models import CustomField
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _get(org: Organization, pk: int) -> Contact:
    with activate(org):
        return Contact.objects.get(pk=pk)


def _events(org: Organization, contact: Contact) -> list[AuditEvent]:
    with activate(org):
        found = AuditEvent.objects.filter(object_type="contacts.contact", object_id=contact.pk)
        return list(found.order_by("at", "pk"))


@pytest.fixture
def ada(acme: Organization, alice: User) -> Contact:
    """A contact with everything a person leaves behind: tags, consent, a history."""
    with activate(acme):
        CustomField.objects.create(
            org=acme, record_kind="contact", key="shoe_size", label="Shoe size", kind="number"
        )
        contact = ContactFactory(
            org=acme, by=alice, first_name="Ada", last_name="Lovelace",
            email="ada@engines.example", other_emails=["ada@home.example"],
            phone="+442079460958", city="London", job_title="Analyst", source="Expo",
            language="en", custom={"shoe_size": 38}, tags=("VIP",),
        )  # fmt: skip
        services.contact_update(org=acme, contact=contact, by=alice, job_title="CTO")
        services.contact_set_consent(
            org=acme, contact=contact, purpose="email_marketing", granted=True,
            how="web form", by=alice,
        )  # fmt: skip
        return contact


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty registries, so a test's parts never reach another test."""
    monkeypatch.setattr(privacy, "_personal_data", {})
    monkeypatch.setattr(privacy, "_erasers", {})


def _export(client: Client, contact: Contact) -> dict[str, Any]:
    response = client.get(f"/o/acme/contacts/{contact.pk}/personal-data/")
    assert response.status_code == 200
    return json.loads(response.content)


def _erase(client: Client, contact: Contact, confirmation: str = "ada@engines.example"):
    return client.post(f"/o/acme/contacts/{contact.pk}/erase/", {"confirmation": confirmation})


# --- Export ------------------------------------------------------------------------------


def test_it_downloads_the_personal_data_as_a_json_file(
    client: Client, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    response = client.get(f"/o/acme/contacts/{ada.pk}/personal-data/")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{ada.pk}-personal-data.json"'
    )


def test_it_exports_the_profile_tags_and_consent(client: Client, alice: User, ada: Contact):
    client.force_login(alice)
    data = _export(client, ada)
    profile = data["contact"]
    assert (profile["first_name"], profile["email"], profile["phone"]) == (
        "Ada", "ada@engines.example", "+442079460958"
    )  # fmt: skip
    assert (profile["other_emails"], profile["city"], profile["custom"]) == (
        ["ada@home.example"], "London", {"shoe_size": 38}
    )  # fmt: skip
    assert profile["consent"]["email_marketing"]["granted"] is True
    assert data["tags"] == ["VIP"]
    [event] = data["consent_events"]
    assert (event["purpose"], event["granted"], event["how"]) == (
        "email_marketing",
        True,
        "web form",
    )


def test_it_exports_the_company_and_the_audit_events(
    client: Client, acme: Organization, alice: User
) -> None:
    company = CompanyFactory(org=acme, by=alice, name="Analytical Engines")
    ada = ContactFactory(
        org=acme, by=alice, first_name="Ada", email="ada@engines.example", company=company
    )
    with activate(acme):
        services.contact_update(org=acme, contact=ada, by=alice, job_title="CTO")
    client.force_login(alice)
    data = _export(client, ada)
    assert data["company"] == {"name": "Analytical Engines"}
    assert [e["action"] for e in data["audit_events"]] == ["contact.created", "contact.updated"]
    assert data["audit_events"][1]["changes"] == {"job_title": ["", "CTO"]}


def test_it_exports_nothing_of_other_contacts(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    grace = ContactFactory(org=acme, by=alice, first_name="Grace", email="grace@navy.example")
    with activate(acme):
        tags = services.tags_by_name(org=acme, names=["Admiral"], by=alice)
        services.contact_update(org=acme, contact=grace, by=alice, job_title="Rear", tags=tags)
        services.contact_set_consent(
            org=acme, contact=grace, purpose="sms", granted=False, how="call", by=alice
        )
    client.force_login(alice)
    body = client.get(f"/o/acme/contacts/{ada.pk}/personal-data/").content.decode()
    assert "ada@engines.example" in body
    assert not any(word in body for word in ("Grace", "grace@", "Admiral", "Rear", "sms"))


def test_it_records_the_export(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    _export(client, ada)
    event = _events(acme, ada)[-1]
    assert (event.action, event.actor, event.changes) == (
        "contact.personal_data_exported", alice, {}
    )  # fmt: skip


def test_it_adds_the_parts_other_apps_register(
    client: Client, alice: User, ada: Contact, registry: None
) -> None:
    privacy.register_personal_data("interactions", lambda contact: [{"subject": contact.email}])
    client.force_login(alice)
    assert _export(client, ada)["interactions"] == [{"subject": "ada@engines.example"}]


def test_it_refuses_a_part_named_like_a_section_or_taken(registry: None) -> None:
    privacy.register_personal_data("deals", lambda contact: [])
    with pytest.raises(ValueError, match="already called 'deals'"):
        privacy.register_personal_data("deals", lambda contact: [1])
    with pytest.raises(ValueError, match="already called 'tags'"):
        privacy.register_personal_data("tags", lambda contact: [])


# --- Erase -------------------------------------------------------------------------------


def test_it_asks_for_the_email_or_name_before_erasing(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{ada.pk}/erase/").content.decode()
    assert "<h1>Erase Ada Lovelace?</h1>" in page
    assert "This cannot be undone." in page
    assert 'name="confirmation"' in page
    assert _get(acme, ada.pk).email == "ada@engines.example"


def test_it_replaces_the_personal_fields(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    response = _erase(client, ada)
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Erased the contact's personal data."
    ]
    contact = _get(acme, ada.pk)
    assert (str(contact), contact.email, contact.other_emails, contact.phone) == (
        "Erased contact", "", [], ""
    )  # fmt: skip
    assert (contact.city, contact.job_title, contact.source, contact.language) == ("", "", "", "")
    assert (contact.custom, contact.consent, contact.deleted_at) == ({}, {}, None)


def test_it_accepts_the_name_as_confirmation(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    _erase(client, ada, confirmation="  ada  LOVELACE ")
    assert _get(acme, ada.pk).first_name == "Erased"


def test_it_deletes_consent_events_and_tag_links(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    _erase(client, ada)
    with activate(acme):
        assert not ConsentEvent.objects.filter(contact_id=ada.pk).exists()
        assert not ContactTag.objects.filter(contact_id=ada.pk).exists()


def test_it_redacts_the_audit_changes_but_keeps_the_events(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    before = _events(acme, ada)
    client.force_login(alice)
    _erase(client, ada)
    *kept, erased = _events(acme, ada)
    assert [(e.pk, e.action, e.at, e.actor_id) for e in kept] == [
        (e.pk, e.action, e.at, e.actor_id) for e in before
    ]
    assert kept[1].changes == {"job_title": ["[erased]", "[erased]"]}
    assert {e.object_repr for e in kept} == {"Erased contact"}
    assert (erased.action, erased.actor, erased.changes) == ("contact.erased", alice, {})
    assert erased.object_repr == "Erased contact"


def test_it_leaves_nothing_personal_in_the_history(
    client: Client, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    _erase(client, ada)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert 'data-action="contact.erased"' in page
    assert "Personal data erased" in page
    assert not any(word in page for word in ("Ada", "Lovelace", "ada@", "Analyst", "VIP"))


def test_it_no_longer_finds_the_contact_by_its_old_email(
    client: Client, alice: User, ada: Contact
) -> None:
    client.force_login(alice)
    assert (
        f"/o/acme/contacts/{ada.pk}/"
        in client.get("/o/acme/contacts/?q=ada@engines.example").content.decode()
    )
    _erase(client, ada)
    page = client.get("/o/acme/contacts/?q=ada@engines.example").content.decode()
    assert f"/o/acme/contacts/{ada.pk}/" not in page


def test_it_runs_the_erasures_other_apps_register(
    acme: Organization, alice: User, ada: Contact, registry: None
) -> None:
    seen: list[str] = []
    privacy.register_erasure("interactions", lambda contact: seen.append(contact.email))
    with activate(acme):
        privacy.contact_erase(org=acme, contact=ada, by=alice)
    assert seen == [""]  # after the contact itself is anonymised, in the same transaction


def test_it_erases_nothing_when_a_registered_erasure_fails(
    acme: Organization, alice: User, ada: Contact, registry: None
) -> None:
    def fail(contact: Contact) -> None:
        raise RuntimeError("attachment store down")

    privacy.register_erasure("attachments", fail)
    with activate(acme), pytest.raises(RuntimeError):
        privacy.contact_erase(org=acme, contact=ada, by=alice)
    assert _get(acme, ada.pk).email == "ada@engines.example"
    assert _events(acme, ada)[-1].action == "contact.consent_changed"


def test_a_wrong_confirmation_changes_nothing(
    client: Client, acme: Organization, alice: User, ada: Contact
) -> None:
    before = _events(acme, ada)
    client.force_login(alice)
    response = _erase(client, ada, confirmation="ada@wrong.example")
    assert response.status_code == 200
    assert (
        '<p class="field__error" id="id_confirmation_error_1">'
        "That is not this contact&#x27;s email address or name.</p>"
    ) in response.content.decode()
    assert _get(acme, ada.pk).email == "ada@engines.example"
    assert _events(acme, ada) == before
    with activate(acme):
        assert ConsentEvent.objects.filter(contact_id=ada.pk).count() == 1


# --- Roles and organisations -------------------------------------------------------------


def test_it_shows_the_privacy_card_to_admins_only(
    client: Client, alice: User, rita: User, ada: Contact
) -> None:
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert f'href="/o/acme/contacts/{ada.pk}/personal-data/"' in page
    assert f'href="/o/acme/contacts/{ada.pk}/erase/"' in page
    client.force_login(rita)
    assert "privacy-title" not in client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()


@pytest.mark.parametrize("who", ["rita", "bob"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("action", ["personal-data/", "erase/"])
def test_it_refuses_reps_and_viewers(
    client: Client, request: pytest.FixtureRequest, acme: Organization, ada: Contact,
    who: str, method: str, action: str,
) -> None:  # fmt: skip
    client.force_login(request.getfixturevalue(who))
    url = f"/o/acme/contacts/{ada.pk}/{action}"
    response = getattr(client, method)(url, {"confirmation": "ada@engines.example"})
    assert response.status_code == (405 if (method, action) == ("post", "personal-data/") else 403)
    assert _get(acme, ada.pk).email == "ada@engines.example"
    assert _events(acme, ada)[-1].action == "contact.consent_changed"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("action", ["personal-data/", "erase/"])
def test_it_hides_acmes_contact_from_globexs_admin(
    client: Client, acme: Organization, charlie: User, ada: Contact, method: str, action: str
) -> None:
    client.force_login(charlie)
    url = f"/o/globex/contacts/{ada.pk}/{action}"
    response = getattr(client, method)(url, {"confirmation": "ada@engines.example"})
    # The export takes GET only, and refuses a POST before any lookup (for any id).
    assert response.status_code == (405 if (method, action) == ("post", "personal-data/") else 404)
    assert client.get(f"/o/acme/contacts/{ada.pk}/{action}").status_code == 404
    assert _get(acme, ada.pk).email == "ada@engines.example"
    assert _events(acme, ada)[-1].action == "contact.consent_changed"


def test_it_refuses_to_edit_a_contact_after_its_erasure(client, acme, alice) -> None:
    # An edit form opened before the erasure must not write the personal data back.
    contact = ContactFactory(org=acme, by=alice, first_name="Dana", email="dana@example.com")
    with activate(acme):
        privacy.contact_erase(org=acme, contact=contact, by=alice)
        with pytest.raises(ValidationError, match="erased"):
            services.contact_update(
                org=acme, contact=contact, by=alice, first_name="Dana", email="dana@example.com"
            )
        contact.refresh_from_db()
    assert (contact.first_name, contact.email) == ("Erased", "")
