"""Importing deals (sales.imports): what a file's rows add, what they are refused for, and
what undoing the import takes back."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Company
from contacts.services import tags_by_name
from crm.models import AuditEvent, Membership, Organization, User
from crm.records.imports import services as imports
from crm.records.models import ImportChange, ImportJob
from crm.tenancy import activate
from sales import imports as deal_imports
from sales.models import Deal, DealStageChange, DealTag, ExchangeRate
from sales.pipelines import pipeline_create, pipelines_ensure
from sales.selectors import deal_list
from tests.contacts.imports import check, commit, csv_bytes, media, run, undo_import, upload
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

HEADERS = ["Title", "Pipeline", "Stage", "Amount", "Currency", "Expected close", "Closed",
           "Owner", "Contact email", "Company", "Tags", "Lost reason", "Source"]  # fmt: skip
ROWS = [
    ["Engines for Ada", "", "Proposal", "€12 500", "eur", "2027-03-31", "", "rita@acme.test",
     "ADA@example.com", "", "Hot; Q1", "", "Referral"],
    ["Northwind renewal", "Sales pipeline", "Won", "12,500.00", "", "", "2026-11-02",
     "alice@acme.test", "", "Northwind", "hot", "", ""],
    ["Refund", "", "", "-5", "", "", "", "", "", "", "", "", ""],
    ["Odd money", "", "", "100", "XYZ", "", "", "", "", "", "", "", ""],
    ["Daydream", "", "Dreaming", "", "", "", "", "", "", "", "", "", ""],
    ["Lost without a word", "", "Lost", "", "", "", "", "", "", "", "", "", ""],
    ["Stranger's deal", "", "", "900", "", "", "", "nobody@example.com", "", "", "", "", ""],
    ["Lost on price", "", "Lost", "", "", "", "", "", "", "", "", "price", ""],
]  # fmt: skip


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


@pytest.fixture
def ready(acme: Organization, alice: User, rita: User) -> Organization:
    """Acme with its first pipeline, a euro rate, and Ada, a contact at Engines Ltd."""
    with activate(acme):
        pipelines_ensure(org=acme)
        ExchangeRate.objects.create(
            org=acme, currency="EUR", rate=Decimal("1.10"), valid_from=date(2020, 1, 1)
        )
        engines = CompanyFactory(org=acme, by=alice, name="Engines Ltd")
        ContactFactory(org=acme, by=alice, first_name="Ada", email="ada@example.com",
                       company=engines)  # fmt: skip
    return acme


def _deals(org: Organization) -> dict[str, Deal]:
    with activate(org):
        found = Deal.objects.select_related("stage", "pipeline", "contact", "company",
                                            "lost_reason")  # fmt: skip
        return {deal.title: deal for deal in found}


def test_the_dry_run_names_each_problem_by_row_and_column_and_writes_nothing(
    ready: Organization, alice: User
) -> None:
    job = check(ready, alice, upload(ready, alice, csv_bytes([HEADERS, *ROWS]),
                                     record_kind="deal", name="deals.csv"))  # fmt: skip
    assert job.status == ImportJob.Status.CHECKED, job.error
    assert (job.totals["created"], job.totals["rejected"]) == (4, 4)
    assert job.totals["companies_created"] == 1
    found = {(row, column): (message, outcome) for row, column, message, outcome in job.problems}
    assert set(found) == {(4, "Amount"), (5, "Currency"), (6, "Stage"), (7, "Lost reason"),
                          (8, "Owner")}  # fmt: skip
    assert found[4, "Amount"] == ("An amount cannot be negative.", "rejected")
    assert "“XYZ” is not a currency" in found[5, "Currency"][0]
    stage = "“Dreaming” is not a stage of Sales pipeline: use one of Qualification"
    assert stage in found[6, "Stage"][0]
    assert found[7, "Lost reason"][0].startswith("A lost deal needs a lost reason: give one of")
    assert found[8, "Owner"][1] == "created"  # owned by the importer instead, and said so
    assert "nobody@example.com" in found[8, "Owner"][0]
    assert _deals(ready) == {}
    with activate(ready):
        assert not Company.objects.filter(name="Northwind").exists()


def test_the_commit_writes_the_deals_as_the_services_would(
    ready: Organization, alice: User, rita: User
) -> None:
    job = run(ready, alice, csv_bytes([HEADERS, *ROWS]), record_kind="deal")
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.totals["created"], job.totals["rejected"]) == (4, 4)
    deals = _deals(ready)
    assert sorted(deals) == ["Engines for Ada", "Lost on price", "Northwind renewal",
                             "Stranger's deal"]  # fmt: skip
    ada = deals["Engines for Ada"]
    assert (ada.amount, ada.currency) == (Decimal("12500.00"), "EUR")
    assert ada.amount_base == Decimal("13750.00")  # at the euro's rate, 1.10
    assert (ada.stage.name, ada.pipeline.name) == ("Proposal", "Sales pipeline")
    assert ada.close_date == date(2027, 3, 31)
    assert (ada.owner_id, ada.source, ada.closed_at) == (rita.pk, "Referral", None)
    assert ada.contact is not None
    assert ada.contact.email == "ada@example.com"
    assert ada.company is not None
    assert ada.company.name == "Engines Ltd"  # the contact's
    won = deals["Northwind renewal"]
    assert (won.stage.kind, won.currency) == ("won", "USD")
    assert won.amount == won.amount_base == Decimal("12500.00")
    assert won.closed_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert won.stage_entered_at == won.closed_at
    assert won.company is not None
    assert won.company.name == "Northwind"
    lost = deals["Lost on price"]
    assert lost.lost_reason is not None
    assert lost.lost_reason.name == "Price"
    assert lost.closed_at is not None
    assert lost.stage.kind == "lost"
    assert deals["Stranger's deal"].owner_id == alice.pk
    with activate(ready):
        changes = DealStageChange.objects.order_by("deal__title")
        assert [(c.deal.title, c.from_stage_id, c.to_name, c.by_id) for c in changes] == [
            ("Engines for Ada", None, "Proposal", alice.pk),
            ("Lost on price", None, "Lost", alice.pk),
            ("Northwind renewal", None, "Won", alice.pk),
            ("Stranger's deal", None, "Qualification", alice.pk),
        ]
        assert changes.get(deal=won).at == won.closed_at
        tags = DealTag.objects.order_by("deal__title", "tag__name")
        assert [(t.deal.title, t.tag.name) for t in tags] == [
            ("Engines for Ada", "Hot"), ("Engines for Ada", "Q1"), ("Northwind renewal", "Hot"),
        ]  # fmt: skip
        membership = Membership.objects.get(user=alice)
        assert deal_list(membership).count() == 4
        assert AuditEvent.objects.filter(action="deal.created").count() == 4


def test_undo_takes_the_deals_their_company_and_their_stage_changes_off_every_page(
    ready: Organization, alice: User
) -> None:
    job = run(ready, alice, csv_bytes([HEADERS, *ROWS]), record_kind="deal")
    job = undo_import(ready, alice, job)
    assert job.status == ImportJob.Status.UNDONE, job.error
    with activate(ready):
        assert not Deal.objects.alive().exists()
        assert Deal.objects.trashed().count() == 4  # restorable from the Trash, as any deal
        assert not deal_list(Membership.objects.get(user=alice)).exists()
        assert not DealStageChange.objects.filter(deal__deleted_at__isnull=True).exists()
        assert not Company.objects.alive().filter(name="Northwind").exists()
        assert Company.objects.alive().filter(name="Engines Ltd").exists()
        # Emptying the Trash deletes them for good, with their tags and stage changes.
        Deal.objects.trashed().delete()
        assert not DealTag.objects.exists()
        assert not DealStageChange.objects.exists()


def test_an_import_is_one_transaction(
    ready: Organization, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    job = check(ready, alice, upload(ready, alice, csv_bytes([HEADERS, *ROWS]),
                                     record_kind="deal"))  # fmt: skip
    monkeypatch.setattr(deal_imports, "deals_rebase", broken)  # the last thing it writes
    job = commit(ready, alice, job)
    assert job.status == ImportJob.Status.FAILED
    assert _deals(ready) == {}
    with activate(ready):
        assert not DealStageChange.objects.exists()
        assert not Company.objects.filter(name="Northwind").exists()
        assert not ImportChange.objects.exists()


def test_every_row_adds_a_deal_even_with_a_title_seen_before(
    ready: Organization, alice: User
) -> None:
    rows = [["Title", "Amount"], ["Renewal", "10"], ["Renewal", "20"]]
    run(ready, alice, csv_bytes(rows), record_kind="deal")
    job = run(ready, alice, csv_bytes(rows), record_kind="deal")
    assert job.totals["created"] == 2
    with activate(ready):
        assert Deal.objects.filter(title="Renewal").count() == 4


def test_updating_deals_is_refused_and_a_title_column_is_needed(
    ready: Organization, alice: User
) -> None:
    job = upload(ready, alice, csv_bytes([["Title"], ["One"]]), record_kind="deal")
    with activate(ready), pytest.raises(ValidationError, match="adds deals and updates none"):
        imports.import_check_start(org=ready, job=job, by=alice, mapping=["title"],
                                   mode="update", match_by="none")  # fmt: skip
    with activate(ready), pytest.raises(ValidationError, match="Map a column to the deals"):
        imports.import_check_start(org=ready, job=job, by=alice, mapping=[""],
                                   mode="upsert", match_by="none")  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "value"),
    [("12500", "12500.00"), ("12,500.00", "12500.00"), ("12.500,50", "12500.50"),
     ("€12 500", "12500.00"), ("12 500 €", "12500.00"), ("USD 1,250,000", "1250000.00"),
     ("12,5", "12.50"), ("0", "0.00"), ("12\u202f500", "12500.00")],
)  # fmt: skip
def test_amounts_are_read_as_people_write_them(cell: str, value: str) -> None:
    assert deal_imports.amount(cell) == Decimal(value)


@pytest.mark.parametrize(
    ("cell", "message"),
    [("-5", "cannot be negative"), ("(1,200.00)", "cannot be negative"),
     ("about twelve", "is not an amount"), ("1e5", "is not an amount"),
     ("12.345", "two decimals at most"), ("1000000000000", "too large")],
)  # fmt: skip
def test_amounts_that_cannot_be_read_say_why(cell: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        deal_imports.amount(cell)


def test_rows_see_only_their_own_organisations_pipelines_contacts_and_members(
    ready: Organization, alice: User, globex: Organization, charlie: User
) -> None:
    with activate(globex):
        pipelines_ensure(org=globex)
        pipeline_create(org=globex, by=charlie, name="Globex only")
        ContactFactory(org=globex, by=charlie, first_name="Carol", email="carol@globex.test")
    rows = [["Title", "Pipeline", "Stage", "Contact email", "Owner", "Lost reason"],
            ["Theirs", "Globex only", "", "", "", ""],
            ["Borrowed", "", "", "carol@globex.test", "charlie@globex.test", ""]]  # fmt: skip
    job = run(ready, alice, csv_bytes(rows), record_kind="deal")
    found = {(row, column): message for row, column, message, outcome in job.problems}
    assert "“Globex only” is not a pipeline of this organisation" in found[2, "Pipeline"]
    unknown = "No contact of this organisation has the email “carol@globex.test”"
    assert unknown in found[3, "Contact email"]
    assert "charlie@globex.test" in found[3, "Owner"]
    borrowed = _deals(ready)["Borrowed"]
    assert (borrowed.contact_id, borrowed.owner_id) == (None, alice.pk)
    assert list(_deals(globex)) == []


def test_an_organisation_without_a_pipeline_gets_its_first_one(
    acme: Organization, alice: User
) -> None:
    job = run(acme, alice, csv_bytes([["Title"], ["First deal"]]), record_kind="deal")
    assert job.totals["created"] == 1, job.problems
    deal = _deals(acme)["First deal"]
    assert (deal.pipeline.name, deal.stage.name) == ("Sales pipeline", "Qualification")


def test_the_command_checks_a_file_of_deals(
    ready: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deals.csv"
    path.write_bytes(csv_bytes([HEADERS, ROWS[0], ROWS[1]]))
    call_command("import_records", "--org", "acme", "--kind", "deal", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "created: 2" in out
    assert "would be" in out
    assert "new companies: 1" in out
    assert _deals(ready) == {}


def test_hostile_cells_are_refused_or_kept_as_text(ready: Organization, alice: User) -> None:
    formula = '=HYPERLINK("http://example.com")'
    rows = [["Title", "Stage", "Amount", "Closed", "Source"],
            ["x" * 201, "", "", "", ""],
            ["Huge", "", "1e400000", "", ""],
            ["Early bird", "Won", "", "2999-01-01", ""],
            [formula, "Proposal", "", "2026-01-01", "@SUM(A1)"]]  # fmt: skip
    job = run(ready, alice, csv_bytes(rows), record_kind="deal")
    found = {(row, column): (message, outcome) for row, column, message, outcome in job.problems}
    assert found[2, "Title"] == ("Longer than 200 characters.", "rejected")
    assert found[3, "Amount"][1] == "rejected"
    assert found[4, "Closed"] == ("A deal cannot have closed in the future.", "rejected")
    open_note = "The deal is open (in Proposal): its closing date is left out."
    assert found[5, "Closed"] == (open_note, "created")
    (deal,) = _deals(ready).values()
    assert (deal.title, deal.source, deal.closed_at) == (formula, "@SUM(A1)", None)


def test_a_larger_file_takes_no_more_queries(ready: Organization, alice: User) -> None:
    """Rows are looked up and written set-based: ten times the rows, the same queries."""
    with activate(ready):
        tags_by_name(org=ready, names=["Hot"], by=alice)

    def queries(count: int) -> int:
        with activate(ready):
            for n in range(count):
                ContactFactory(org=ready, by=alice, email=f"p{count}-{n}@example.com")
        rows = [HEADERS] + [
            [f"Deal {n}", "", "Proposal", "10", "EUR", "", "", "rita@acme.test",
             f"p{count}-{n}@example.com", f"Company {count}-{n}", "Hot", "", ""]
            for n in range(count)
        ]  # fmt: skip
        job = check(ready, alice, upload(ready, alice, csv_bytes(rows), record_kind="deal"))
        with CaptureQueriesContext(connection) as captured:
            job = commit(ready, alice, job)
        assert job.totals["created"] == count, job.problems
        return len(captured)

    assert queries(30) == queries(3)
