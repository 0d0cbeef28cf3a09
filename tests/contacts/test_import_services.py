"""contacts.imports.services: what a committed import writes, for contacts and companies."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import Company, ConsentEvent, Contact, ContactTag
from crm.models import AuditEvent, Organization, User
from crm.records.imports import services as imports
from crm.records.models import ImportChange, ImportJob
from crm.tenancy import activate
from tests.contacts.imports import check, commit, csv_bytes, media, run, stored, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


PEOPLE = [
    ["First Name", "Last Name", "E-mail Address", "Company Name", "Mobile Phone", "Tags",
     "Lifecycle Stage", "Country"],
    ["Ada", "Lovelace", "ADA@example.com", "Analytical Engines", "+44 20 7946 0958",
     "VIP; Speaker", "Customer", "United Kingdom"],
    ["Grace", "Hopper", "grace@example.com", "Analytical engines", "", "VIP", "lead", "US"],
]  # fmt: skip


def test_it_creates_contacts_with_their_company_tags_and_phone(
    acme: Organization, alice: User
) -> None:
    job = run(acme, alice, csv_bytes(PEOPLE))
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.totals["created"] == 2
    assert job.totals["companies_created"] == 1
    with activate(acme):
        ada = Contact.objects.get(email="ada@example.com")
        assert (ada.first_name, ada.phone, ada.lifecycle, ada.country) == (
            "Ada",
            "+442079460958",
            "customer",
            "GB",
        )
        assert ada.company is not None
        assert ada.company.name == "Analytical Engines"
        assert Contact.objects.get(email="grace@example.com").company_id == ada.company_id
        assert sorted(link.tag.name for link in ada.tag_links.all()) == ["Speaker", "VIP"]
        assert ada.owner_id == alice.pk
        assert Contact.objects.filter(search_text__contains="lovelace").count() == 1


def test_it_updates_matched_contacts_and_keeps_what_it_changed(
    acme: Organization, alice: User
) -> None:
    run(acme, alice, csv_bytes(PEOPLE))
    again = [["Email", "Job title", "Tags"], ["ada@example.com", "Countess", "Mathematician"]]
    job = run(acme, alice, csv_bytes(again))
    assert (job.totals["updated"], job.totals["created"]) == (1, 0)
    with activate(acme):
        ada = Contact.objects.get(email="ada@example.com")
        assert ada.job_title == "Countess"
        assert ada.last_name == "Lovelace"
        change = ImportChange.objects.get(job=job)
        assert change.changes["job_title"] == ["", "Countess"]
        assert change.changes["tags"] == [["Speaker", "VIP"], ["Mathematician", "Speaker", "VIP"]]
        assert AuditEvent.objects.filter(action="contact.updated", object_id=str(ada.pk)).exists()


def test_the_dry_run_writes_nothing_and_reports_each_problem(
    acme: Organization, alice: User
) -> None:
    rows = [["Name", "Email", "Phone"], ["Ada Lovelace", "not-an-email", "12"],
            ["", "", ""], ["Grace Hopper", "grace@example.com", ""],
            ["Grace Again", "GRACE@example.com", ""]]  # fmt: skip
    job = check(acme, alice, upload(acme, alice, csv_bytes(rows)))
    assert job.status == ImportJob.Status.CHECKED
    assert job.totals | {} == job.totals
    assert job.totals["rejected"] == 1
    assert (job.totals["created"], job.totals["skipped"], job.totals["rows"]) == (1, 1, 3)
    messages = {(row, column): message for row, column, message, _ in job.problems}
    assert "not an email address" in messages[(2, "Email")]
    assert "row 4" in messages[(5, "Email")]
    with activate(acme):
        assert not Contact.objects.exists()


def test_it_creates_only_in_create_mode(acme: Organization, alice: User) -> None:
    run(acme, alice, csv_bytes(PEOPLE))
    rows = [["Email", "First name"], ["ada@example.com", "Augusta"], ["new@example.com", "New"]]
    job = run(acme, alice, csv_bytes(rows), mode="create")
    assert (job.totals["created"], job.totals["skipped"]) == (1, 1)
    with activate(acme):
        assert Contact.objects.get(email="ada@example.com").first_name == "Ada"


def test_it_records_consent_given_in_the_file(acme: Organization, alice: User) -> None:
    rows = [["Email", "Email marketing consent"], ["ada@example.com", "yes"]]
    run(acme, alice, csv_bytes(rows))
    with activate(acme):
        ada = Contact.objects.get(email="ada@example.com")
        assert ada.consent["email_marketing"]["granted"] is True
        event = ConsentEvent.objects.get(contact=ada)
        assert event.granted
        assert event.how.startswith("Import of people.csv")


def test_it_imports_companies_matched_by_domain(acme: Organization, alice: User) -> None:
    rows = [
        ["Company", "Website", "Employees"],
        ["Initech", "https://www.initech.example/", "51-200"],
    ]
    job = run(acme, alice, csv_bytes(rows), record_kind="company")
    assert job.totals["created"] == 1, job.problems
    with activate(acme):
        company = Company.objects.get()
        assert (company.name, company.domain, company.size) == (
            "Initech",
            "initech.example",
            "51-200",
        )
    job = run(acme, alice, csv_bytes([["Website", "Industry"], ["initech.example", "Software"]]),
              record_kind="company", mode="update")  # fmt: skip
    assert job.totals["updated"] == 1
    with activate(acme):
        assert Company.objects.get().industry == "Software"


def test_a_failure_writes_nothing(
    acme: Organization, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = check(acme, alice, upload(acme, alice, csv_bytes(PEOPLE)))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    from crm.records.imports import services

    monkeypatch.setattr(services.Writer, "links", broken)
    job = commit(acme, alice, job)
    assert job.status == ImportJob.Status.FAILED
    assert "wrote nothing" in job.error
    with activate(acme):
        assert not Contact.objects.exists()
        assert not Company.objects.exists()
        assert not ContactTag.objects.exists()
        assert not ImportChange.objects.exists()


def test_the_nightly_purge_forgets_imports_never_run(
    acme: Organization, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    stale, done = upload(acme, alice, csv_bytes(PEOPLE)), run(acme, alice, csv_bytes(PEOPLE))
    later = timezone.now() + timedelta(days=8)
    with activate(acme), django_capture_on_commit_callbacks(execute=True):
        assert imports.imports_purge(org=acme, now=later) == 1
        assert list(ImportJob.objects.values_list("pk", flat=True)) == [done.pk]
    assert not stored(stale).exists()


def test_an_upload_never_mapped_is_forgotten_after_a_day_a_checked_one_after_a_week(
    acme: Organization, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    abandoned = upload(acme, alice, csv_bytes(PEOPLE))
    checked = check(acme, alice, upload(acme, alice, csv_bytes(PEOPLE)))
    with activate(acme), django_capture_on_commit_callbacks(execute=True):
        assert imports.imports_purge(org=acme, now=timezone.now() + timedelta(hours=23)) == 0
        assert imports.imports_purge(org=acme, now=timezone.now() + timedelta(hours=25)) == 1
        assert list(ImportJob.objects.values_list("pk", flat=True)) == [checked.pk]
    assert not stored(abandoned).exists()
    assert stored(checked).exists()
