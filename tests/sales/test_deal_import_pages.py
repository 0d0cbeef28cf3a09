"""/o/acme/deals/import/: who may import deals, the pages of an import of deals, and a list's
export imported again into another organisation."""

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from crm.models import Organization, User
from crm.records.models import ImportJob
from crm.tenancy import activate
from sales.models import Deal, ExchangeRate, LostReason, Stage
from sales.pipelines import pipelines_ensure
from tests.contacts.imports import csv_bytes, media, run
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

URL = "/o/acme/deals/import/"
DEALS = csv_bytes([["Deal", "Stage", "Amount", "Currency", "Notes"],
                   ["Engines", "Proposal", "1,200.00", "EUR", "x"],
                   ["Refund", "Proposal", "-5", "", "y"]])  # fmt: skip


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


def _jobs(org: Organization) -> list[ImportJob]:
    with activate(org):
        return list(ImportJob.objects.all())


def _deals(org: Organization) -> list[Deal]:
    with activate(org):
        return list(Deal.objects.select_related("stage", "pipeline", "company", "contact",
                                                "lost_reason").order_by("title"))  # fmt: skip


def test_a_rep_imports_deals_through_the_pages(
    client: Client, rita: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rita)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"file": SimpleUploadedFile("deals.csv", DEALS)})
    (job,) = _jobs(acme)
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/imports/{job.pk}/"
    assert (job.record_kind, job.match_by) == ("deal", "none")
    assert job.mapping == ["title", "stage", "amount", "currency", ""]
    body = client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "Nothing: each row adds a deal" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/acme/imports/{job.pk}/map/", {
            "column_0": "title", "column_1": "stage", "column_2": "amount",
            "column_3": "currency", "column_4": "", "mode": "upsert", "match_by": "none",
        })  # fmt: skip
    assert response.status_code == 302
    body = client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "An amount cannot be negative." in body
    assert _deals(acme) == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/acme/imports/{job.pk}/commit/")
    assert response.status_code == 302
    (deal,) = _deals(acme)
    assert (deal.title, deal.stage.name, deal.owner_id) == ("Engines", "Proposal", rita.pk)
    assert (deal.amount, deal.currency) == (Decimal("1200.00"), "EUR")


def test_a_mapping_that_updates_deals_is_refused_on_the_page(
    client: Client, alice: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {"file": SimpleUploadedFile("deals.csv", DEALS)})
    (job,) = _jobs(acme)
    response = client.post(f"/o/acme/imports/{job.pk}/map/", {
        "column_0": "title", "column_1": "", "column_2": "", "column_3": "", "column_4": "",
        "mode": "update", "match_by": "none",
    })  # fmt: skip
    assert response.status_code == 200
    assert "An import adds deals and updates none" in response.content.decode()
    assert _jobs(acme)[0].status == ImportJob.Status.UPLOADED


@pytest.mark.parametrize("who", ["sam", "bob"])
def test_an_agent_or_a_viewer_cannot_import_deals(
    client: Client, acme: Organization, who: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(URL, {"file": SimpleUploadedFile("deals.csv", DEALS)})
    assert response.status_code == 403
    assert _jobs(acme) == []


def test_another_organisations_admin_gets_404(
    client: Client, acme: Organization, alice: User, charlie: User
) -> None:
    client.force_login(charlie)
    assert client.get(URL).status_code == 404
    assert client.get("/o/globex/deals/import/").status_code == 200


def _acme_deals(acme: Organization, alice: User) -> None:
    """Open, won and lost deals, in two currencies, with a contact, companies and tags."""
    with activate(acme):
        pipelines_ensure(org=acme)
        ExchangeRate.objects.create(org=acme, currency="EUR", rate=Decimal("1.10"),
                                    valid_from=date(2020, 1, 1))  # fmt: skip
        engines = CompanyFactory(org=acme, by=alice, name="Engines Ltd")
        ada = ContactFactory(org=acme, by=alice, first_name="Ada", last_name="Lovelace",
                             email="ada@example.com", company=engines)  # fmt: skip
        stages = {stage.name: stage for stage in Stage.objects.all()}
        DealFactory(org=acme, by=alice, title="Engines", amount=Decimal("12500.50"),
                    currency="EUR", contact=ada, close_date=date(2027, 3, 31), owner=alice,
                    tags=["Hot", "Q1"], source="Referral")  # fmt: skip
        DealFactory(org=acme, by=alice, title="Northwind", amount=Decimal("900"),
                    stage=stages["Won"], company=CompanyFactory(org=acme, by=alice,
                                                                name="Northwind"))  # fmt: skip
        DealFactory(org=acme, by=alice, title="Gone", stage=stages["Lost"],
                    lost_reason=LostReason.objects.get(name="Price"))  # fmt: skip


def _values(org: Organization) -> list[tuple[Any, ...]]:
    found = []
    for deal in _deals(org):
        with activate(org):
            tags = sorted(link.tag.name for link in deal.tag_links.all())
        found.append((
            deal.title, deal.pipeline.name, deal.stage.name, deal.amount, deal.currency,
            deal.amount_base, deal.close_date,
            deal.closed_at.replace(microsecond=0) if deal.closed_at else None,  # as exported
            deal.source, tags,
            deal.company.name if deal.company else "", deal.contact.email if deal.contact else "",
            deal.lost_reason.name if deal.lost_reason else "",
        ))  # fmt: skip
    return found


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_lists_export_imports_into_another_organisation_with_the_same_values(
    client: Client, acme: Organization, alice: User, globex: Organization, charlie: User,
    fmt: str,
) -> None:  # fmt: skip
    _acme_deals(acme, alice)
    with activate(globex):
        ExchangeRate.objects.create(org=globex, currency="EUR", rate=Decimal("1.10"),
                                    valid_from=date(2020, 1, 1))  # fmt: skip
        engines = CompanyFactory(org=globex, by=charlie, name="Engines Ltd")
        ContactFactory(org=globex, by=charlie, first_name="Ada", email="ada@example.com",
                       company=engines)  # fmt: skip
    client.force_login(alice)
    exported = client.get(f"/o/acme/deals/export/?format={fmt}").content
    if fmt == "csv":
        headers = next(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
        assert {"Contact email", "Closed", "Lost reason", "Source"} <= set(headers)
    job = run(globex, charlie, exported, record_kind="deal")
    assert (job.totals["created"], job.totals["rejected"]) == (3, 0), job.problems
    assert job.totals["companies_created"] == 1  # Northwind; Engines Ltd was there
    assert _values(globex) == _values(acme)
    owners = {deal.title: deal.owner_id for deal in _deals(globex)}
    assert owners == {"Engines": charlie.pk, "Northwind": charlie.pk, "Gone": charlie.pk}
    # Alice owned Engines (the last row: the newest first) and is no member of Globex.
    assert [(row, column, outcome) for row, column, message, outcome in job.problems] == [
        (4, "Owner email", "created")
    ]
