"""contacts.imports.undo: an import undone as a whole, without losing later edits."""

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from contacts import services
from contacts.models import Company, ConsentEvent, Contact, ContactTag
from crm.models import AuditEvent, Organization, User
from crm.records.imports import services as imports
from crm.records.imports import undo
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.contacts.imports import csv_bytes, media, run, undo_import
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


def _snapshot(org: Organization) -> list[dict[str, Any]]:
    with activate(org):
        fields = ["id", "first_name", "job_title", "company_id", "company_name", "consent",
                  "custom", "deleted_at", "owner_id"]  # fmt: skip
        return list(Contact.objects.order_by("pk").values(*fields))


def test_it_moves_created_records_to_the_trash(acme: Organization, alice: User) -> None:
    rows = [["Name", "Email", "Company"], ["Ada Lovelace", "ada@example.com", "Engines Ltd"]]
    job = undo_import(acme, alice, run(acme, alice, csv_bytes(rows)))
    assert job.status == ImportJob.Status.UNDONE
    assert job.undone_by == alice
    with activate(acme):
        assert not Contact.objects.alive().exists()
        assert Contact.objects.trashed().count() == 1
        assert not Company.objects.alive().exists()


def test_it_restores_updated_records_as_they_were(acme: Organization, alice: User) -> None:
    with activate(acme):
        services.contact_save(
            org=acme, by=alice, company_name="Old Co", tag_names=["VIP"], first_name="Ada",
            email="ada@example.com", job_title="Analyst",
        )  # fmt: skip
    before = _snapshot(acme)
    rows = [["Email", "Job title", "Company", "Tags", "Email marketing consent"],
            ["ada@example.com", "Countess", "New Co", "Speaker", "yes"]]  # fmt: skip
    job = run(acme, alice, csv_bytes(rows))
    assert job.totals["updated"] == 1
    undo_import(acme, alice, job)
    after = _snapshot(acme)
    assert after == before
    with activate(acme):
        assert [link.tag.name for link in ContactTag.objects.select_related("tag")] == ["VIP"]
        assert not ConsentEvent.objects.exists()
        assert AuditEvent.objects.filter(action="import.undone").count() == 1


def test_it_keeps_a_change_made_after_the_import(acme: Organization, alice: User) -> None:
    ada = ContactFactory(org=acme, by=alice, first_name="Ada", email="ada@example.com")
    rows = [["Email", "Job title", "City"], ["ada@example.com", "Countess", "London"]]
    job = run(acme, alice, csv_bytes(rows))
    with activate(acme):
        services.contact_update(org=acme, contact=Contact.objects.get(pk=ada.pk), by=alice,
                                job_title="Engineer")  # fmt: skip
    undo_import(acme, alice, job)
    with activate(acme):
        ada = Contact.objects.get(pk=ada.pk)
        assert (ada.job_title, ada.city) == ("Engineer", "")


def test_it_refuses_to_undo_an_import_twice(acme: Organization, alice: User) -> None:
    job = undo_import(acme, alice, run(acme, alice, csv_bytes([["Email"], ["a@example.com"]])))
    with activate(acme), pytest.raises(ValidationError):
        imports.import_undo_start(org=acme, job=job, by=alice)


def test_the_trashed_records_say_so_in_their_history(acme: Organization, alice: User) -> None:
    undo_import(acme, alice, run(acme, alice, csv_bytes([["Email"], ["a@example.com"]])))
    with activate(acme):
        contact = Contact.objects.trashed().get()
        event = AuditEvent.objects.get(action="contact.trashed", object_id=str(contact.pk))
        assert event.actor == alice
        assert event.changes == {"import undone": [None, "people.csv"]}


def test_a_failed_undo_changes_nothing_and_can_be_tried_again(
    acme: Organization, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = run(acme, alice, csv_bytes([["Email"], ["a@example.com"]]))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(undo, "_restore", broken)
    job = undo_import(acme, alice, job)
    assert job.status == ImportJob.Status.DONE
    assert "undo failed" in job.error
    with activate(acme):
        assert Contact.objects.alive().count() == 1
    monkeypatch.undo()
    assert undo_import(acme, alice, job).status == ImportJob.Status.UNDONE
