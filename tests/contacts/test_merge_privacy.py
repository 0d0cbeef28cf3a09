"""contacts.merge_privacy: a contact's export and erasure reach the records merged into it."""

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from contacts import privacy, services
from contacts.models import ConsentEvent, Contact, ContactTag
from crm.models import AuditEvent, Organization, User
from crm.records import merging
from crm.records.models import Merge
from crm.tenancy import activate
from tests.factories import ContactFactory, merge

pytestmark = pytest.mark.django_db


def _merge(org: Organization, survivor: Contact, *others: Contact, **values: int) -> Merge:
    return merge(org, survivor, others, values=values)


def _erase(org: Organization, contact: Contact, by: User) -> None:
    with activate(org):
        privacy.contact_erase(org=org, contact=Contact.objects.get(pk=contact.pk), by=by)


def _get(org: Organization, record: Any) -> Any:
    with activate(org):
        return type(record).objects.get(pk=record.pk)


@pytest.fixture
def ada(acme: Organization) -> Contact:
    return ContactFactory(org=acme, tags=("VIP",), first_name="Ada", last_name="Lovelace",
                    email="ada@engines.example")  # fmt: skip


@pytest.fixture
def king(acme: Organization, alice: User) -> Contact:
    contact = ContactFactory(org=acme, tags=("VIP",), first_name="Ada", last_name="King",
                       email="countess@engines.example", phone="+442079460958")  # fmt: skip
    with activate(acme):
        services.contact_update(org=acme, contact=contact, by=alice, job_title="Analyst")
        services.contact_set_consent(org=acme, contact=contact, purpose="sms", granted=True,
                                     how="phone call", by=alice)  # fmt: skip
    return contact


def test_it_erases_every_record_merged_into_the_contact(acme, alice, ada, king) -> None:
    byron = ContactFactory(
        org=acme, first_name="Augusta", last_name="Byron", email="augusta@x.example"
    )
    _merge(acme, king, byron)
    _merge(acme, ada, king)  # Byron reaches Ada through King
    _erase(acme, ada, alice)
    for record in (_get(acme, king), _get(acme, byron)):
        assert (str(record), record.email, record.other_emails, record.phone) == (
            "Erased contact", "", [], ""
        )  # fmt: skip
        assert (record.job_title, record.consent, record.merged_into_id is not None) == (
            "", {}, True
        )  # fmt: skip
        assert record.erased_at is not None


def test_it_redacts_the_merged_records_history(acme, alice, ada, king) -> None:
    _merge(acme, ada, king)
    _erase(acme, ada, alice)
    with activate(acme):
        events = list(AuditEvent.objects.filter(object_type="contacts.contact",
                                                object_id=str(king.pk)))  # fmt: skip
    assert {event.object_repr for event in events} == {"Erased contact"}
    updated = next(event for event in events if event.action == "contact.updated")
    assert updated.changes == {"job_title": ["[erased]", "[erased]"]}


def test_it_redacts_the_values_the_merges_kept(acme, alice, ada, king) -> None:
    merge = _merge(acme, ada, king, last_name=king.pk)
    assert merge.changes["last_name"] == ["Lovelace", "King"]
    _erase(acme, ada, alice)
    kept = _get(acme, merge)
    assert kept.changes["last_name"] == ["[erased]", "[erased]"]
    assert "countess@engines.example" not in json.dumps(kept.changes)
    assert all(done.get("deleted") == [] for done in kept.moved.values())


def test_it_leaves_records_no_longer_merged_alone(acme, alice, ada, king) -> None:
    with activate(acme):
        merging.merge_undo(org=acme, merge=_merge(acme, ada, king), by=alice)
    _erase(acme, ada, alice)
    back = _get(acme, king)
    assert (back.email, back.erased_at) == ("countess@engines.example", None)
    with activate(acme):
        assert ContactTag.objects.filter(contact=king).exists()
        assert ConsentEvent.objects.filter(contact=king).exists()


def test_undo_is_refused_once_the_contact_is_erased(acme, alice, ada, king) -> None:
    merge = _merge(acme, ada, king)
    _erase(acme, ada, alice)
    refused = "these contacts was erased: the merge cannot be undone"
    with pytest.raises(ValidationError, match=refused), activate(acme):
        merging.merge_undo(org=acme, merge=merge, by=alice)
    gone = _get(acme, king)
    assert (gone.merged_into_id, gone.email) == (ada.pk, "")


def test_the_export_includes_the_records_merged_into_the_contact(client: Client, alice, acme,
                                                                  ada, king) -> None:  # fmt: skip
    _merge(acme, ada, king)
    client.force_login(alice)
    data = json.loads(client.get(f"/o/acme/contacts/{ada.pk}/personal-data/").content)
    [merged] = data["merged_records"]
    assert (merged["id"], merged["merged_into"]) == (king.pk, ada.pk)
    assert (merged["email"], merged["phone"]) == ("countess@engines.example", "+442079460958")
    assert "contact.merged_into" in [event["action"] for event in merged["audit_events"]]


def test_the_undo_page_says_why_it_cannot(client: Client, alice, acme, ada, king) -> None:
    merge = _merge(acme, ada, king)
    _erase(acme, ada, alice)
    client.force_login(alice)
    page = client.get(f"/o/acme/merges/{merge.pk}/undo/").content.decode()
    assert "The personal data of these contacts was erased: the merge cannot be undone." in page
    assert client.post(f"/o/acme/merges/{merge.pk}/undo/").status_code == 200
    assert _get(acme, king).merged_into_id == ada.pk
