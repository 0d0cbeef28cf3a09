"""/o/acme/contacts/export/ and companies/export/: the filtered list as CSV or XLSX, directly
or, when large, through an export job with its progress page and download."""

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from contacts.models import Contact
from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.progress import progress_set
from crm.records import custom_fields, exports, tasks
from crm.records.custom_fields import custom_field_save
from crm.records.models import ExportJob
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/export/"
COMPANIES_URL = "/o/acme/companies/export/"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx(content: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response


# --- What the file holds -----------------------------------------------------------------


CONTACT_HEADERS = [
    "First name", "Last name", "Email", "Phone", "Company", "Stage", "Owner email", "Tags",
    "Created",
]  # fmt: skip
COMPANY_HEADERS = ["Name", "Domain", "Industry", "Size", "Owner email", "Tags", "Created"]


def test_it_exports_the_filtered_contacts_as_csv(
    client: Client, alice: User, acme: Organization
) -> None:
    ContactFactory(org=acme, first_name="Carl", last_name="Customer", email="carl@example.com",
             lifecycle="customer", phone="020 7946 0958", country="GB", tags=("VIP", "Partner"),
             owner=alice, company=CompanyFactory(org=acme, name="Northwind"))  # fmt: skip
    ContactFactory(org=acme, first_name="Lee", last_name="Lead", lifecycle="lead")
    client.force_login(alice)
    response = _get(client, URL + "?format=csv&lifecycle=customer")
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    header, *rows = _csv(response.content)
    assert header == CONTACT_HEADERS  # the list's default columns, the name in two
    assert [row[:8] for row in rows] == [[
        "Carl", "Customer", "carl@example.com", "'+442079460958", "Northwind", "Customer",
        "alice@acme.test", "Partner; VIP",
    ]]  # fmt: skip


def test_it_exports_the_filtered_contacts_as_xlsx(
    client: Client, alice: User, acme: Organization
) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", source="Conference")
    ContactFactory(org=acme, first_name="Grace", last_name="Hopper", source="Web")
    client.force_login(alice)
    response = _get(client, URL + "?format=xlsx&source=conf")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, *rows = _xlsx(response.content)
    assert header == CONTACT_HEADERS
    assert [row[:2] for row in rows] == [["Ada", "Lovelace"]]


def test_it_exports_the_filtered_companies(client: Client, alice: User, acme: Organization) -> None:
    CompanyFactory(
        org=acme, name="Northwind", domain="northwind.example", industry="Retail", size="11-50"
    )
    CompanyFactory(org=acme, name="Kite", industry="Analytics")
    client.force_login(alice)
    header, *rows = _csv(_get(client, COMPANIES_URL + "?format=csv&industry=ret").content)
    assert header == COMPANY_HEADERS
    assert [row[:6] for row in rows] == [
        ["Northwind", "northwind.example", "Retail", "11–50", "", ""]
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_exports_the_chosen_columns_in_their_order(
    client: Client, alice: User, acme: Organization, fmt: str
) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", email="ada@engines.example",
             city="London", job_title="Analyst")  # fmt: skip
    client.force_login(alice)
    content = _get(client, f"{URL}?format={fmt}&columns=city,email&columns=job_title").content
    assert (_csv if fmt == "csv" else _xlsx)(content) == [
        ["First name", "Last name", "City", "Email", "Job title"],
        ["Ada", "Lovelace", "London", "ada@engines.example", "Analyst"],
    ]


def test_it_exports_the_chosen_company_columns(
    client: Client, alice: User, acme: Organization
) -> None:
    CompanyFactory(org=acme, name="Northwind", country="GB", owner=alice)
    client.force_login(alice)
    rows = _csv(_get(client, COMPANIES_URL + "?columns=owner,country").content)
    assert rows == [["Name", "Owner email", "Country"], ["Northwind", "alice@acme.test", "GB"]]


def test_it_exports_plain_text_where_the_list_shows_markup(
    client: Client, alice: User, acme: Organization
) -> None:
    ContactFactory(
        org=acme, first_name="Ada", email="ada@engines.example", tags=("VIP",), lifecycle="mql"
    )
    CompanyFactory(org=acme, name="Northwind", domain="northwind.example")
    client.force_login(alice)
    page = client.get("/o/acme/contacts/?columns=email,stage,tags").content.decode()
    assert 'href="mailto:ada@engines.example"' in page  # the list links; the file must not
    rows = _csv(_get(client, URL + "?columns=email,stage,tags").content)
    assert rows[1] == ["Ada", "", "ada@engines.example", "Marketing-qualified lead", "VIP"]
    rows = _csv(_get(client, COMPANIES_URL + "?columns=domain").content)
    assert rows[1] == ["Northwind", "northwind.example"]


def test_it_exports_the_default_columns_for_unknown_ones(
    client: Client, alice: User, acme: Organization
) -> None:
    ContactFactory(org=acme, first_name="Ada")
    client.force_login(alice)
    header = _csv(_get(client, URL + "?columns=password,owner__password").content)[0]
    assert header == ["First name", "Last name"]  # as the list: the name, always first


def test_it_exports_only_a_reps_own_contacts_when_that_is_all_they_see(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    ContactFactory(org=acme, first_name="Rita's", last_name="Lead", owner=rita)
    ContactFactory(org=acme, first_name="Alice's", last_name="Lead", owner=alice)
    client.force_login(rita)
    for fmt, read in (("csv", _csv), ("xlsx", _xlsx)):
        rows = read(_get(client, f"{URL}?format={fmt}").content)
        assert [row[:2] for row in rows[1:]] == [["Rita's", "Lead"]]


def test_it_never_exports_another_organisations_rows(
    client: Client, alice: User, acme: Organization, globex: Organization
) -> None:
    ContactFactory(org=acme, first_name="John", last_name="Acme")
    ContactFactory(org=globex, first_name="John", last_name="Globex")
    CompanyFactory(org=globex, name="Globex Secret Client")
    client.force_login(alice)
    rows = _csv(_get(client, URL + "?q=john").content)[1:]
    assert [row[:2] for row in rows] == [["John", "Acme"]]
    assert b"Globex" not in _get(client, URL + "?format=xlsx").content
    assert b"Globex" not in _get(client, COMPANIES_URL).content


def test_it_neutralises_formulas_in_csv(client: Client, alice: User, acme: Organization) -> None:
    ContactFactory(org=acme, first_name='=HYPERLINK("http://evil.example","Click")', last_name="")
    for title in ("+1+1", "-2+3", "@SUM(A1)"):
        ContactFactory(org=acme, first_name="Job", last_name=title[:2], job_title=title)
    client.force_login(alice)
    content = _get(client, f"{URL}?format=csv&sort=name&columns=job_title").content
    rows = _csv(content)[1:]
    assert rows[0][0] == """'=HYPERLINK("http://evil.example","Click")"""
    assert sorted(row[2] for row in rows[1:]) == ["'+1+1", "'-2+3", "'@SUM(A1)"]


def test_its_xlsx_cells_are_typed_and_text_is_never_a_formula(
    client: Client, alice: User, acme: Organization
) -> None:
    with activate(acme):
        custom_field_save(org=acme, by=alice, record_kind="contact", key="seats",
                          label="Seats", kind="number", choices=[])  # fmt: skip
    ContactFactory(org=acme, first_name="=1+1", last_name="", phone="+4722123054",
                   custom={"seats": 12})  # fmt: skip
    client.force_login(alice)
    query = "?format=xlsx&columns=name,phone,custom_seats,created"
    sheet = openpyxl.load_workbook(io.BytesIO(_get(client, URL + query).content)).active
    assert sheet is not None
    assert "f" not in {cell.data_type for row in sheet.iter_rows() for cell in row}
    cells = dict(zip([cell.value for cell in sheet[1]], sheet[2], strict=True))
    name, phone, seats, created = (cells[h] for h in ("First name", "Phone", "Seats", "Created"))
    assert (name.value, name.data_type) == ("=1+1", "s")  # text: no guard needed
    assert (phone.value, phone.data_type) == ("+4722123054", "s")  # a number, but text
    assert (seats.value, seats.data_type) == (12, "n")
    assert isinstance(created.value, datetime)
    assert created.number_format == "yyyy-mm-dd hh:mm:ss"


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@x", "\tx", "\rx"])
def test_it_neutralises_every_formula_start(text: str) -> None:
    assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("plain =1") == "plain =1"


def test_the_list_links_to_exports_of_its_current_filters(client: Client, alice: User) -> None:
    client.force_login(alice)
    page = client.get("/o/acme/contacts/?lifecycle=lead").content.decode()
    assert 'href="/o/acme/contacts/export/?format=csv&amp;lifecycle=lead"' in page
    assert 'href="/o/acme/contacts/export/?format=xlsx&amp;lifecycle=lead"' in page
    page = client.get("/o/acme/companies/?size=1-10").content.decode()
    assert 'href="/o/acme/companies/export/?format=csv&amp;size=1-10"' in page


def test_the_list_refreshes_its_export_links_when_htmx_refilters(
    client: Client, alice: User
) -> None:
    client.force_login(alice)
    page = client.get("/o/acme/contacts/?q=ada", HTTP_HX_REQUEST="true").content.decode()
    assert '<li id="export-links" hx-swap-oob="true">' in page
    assert 'href="/o/acme/contacts/export/?format=csv&amp;q=ada"' in page


def test_it_writes_dates_in_the_organisations_time_zone(
    client: Client, alice: User, acme: Organization
) -> None:
    acme.time_zone = "Europe/Paris"
    acme.save(update_fields=["time_zone"])
    contact = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    with activate(acme):
        Contact.objects.filter(pk=contact.pk).update(created_at="2024-07-01T10:00:00Z")
    client.force_login(alice)
    (row,) = _csv(_get(client, URL + "?columns=created").content)[1:]
    assert row == ["Ada", "Lovelace", "2024-07-01T12:00:00+02:00"]


def _people(org: Organization, count: int) -> None:
    """`count` contacts named Person NNNN, written in one statement."""
    with activate(org):
        Contact.objects.bulk_create(
            Contact(org=org, first_name="Person", last_name=f"{n:04d}") for n in range(count)
        )


def test_it_exports_a_search_past_the_lists_count_cap(
    client: Client, alice: User, acme: Organization
) -> None:
    # The list page counts a search to 1,000 and says "more than"; an export takes them all.
    _people(acme, 1_100)
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    client.force_login(alice)
    rows = _csv(_get(client, URL + "?q=person").content)[1:]
    assert len(rows) == 1_100
    assert {row[0] for row in rows} == {"Person"}


def test_it_refuses_a_search_that_matches_more_than_it_exports(
    client: Client, alice: User, acme: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "SEARCH_MAX_ROWS", 3)
    _people(acme, 4)
    client.force_login(alice)
    response = client.get(URL + "?format=xlsx&q=person")
    assert response["Location"] == "/o/acme/contacts/?q=person"
    page = client.get(response["Location"]).content.decode()
    assert "The search matches more than 3 contacts: narrow it to export." in page
    assert len(_csv(_get(client, URL + "?q=person+0003").content)) == 2  # a narrower one


def test_it_refuses_an_unknown_format(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get(URL + "?format=pdf").status_code == 400


# --- Who may export ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "rita", "sam"])
def test_it_lets_every_role_that_may_run_exports_export(
    client: Client, request: pytest.FixtureRequest, acme: Organization, who: str
) -> None:
    # crm.permissions: "export.run" is granted to every role, viewers included.
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 200
    assert client.get(COMPANIES_URL + "?format=xlsx").status_code == 200


def test_it_hides_the_export_from_another_organisations_admin(
    client: Client, charlie: User, alice: User, acme: Organization
) -> None:
    client.force_login(charlie)
    assert client.get(URL).status_code == 404
    assert client.get(COMPANIES_URL).status_code == 404


@pytest.mark.parametrize("contacts", [5, 50])
def test_it_exports_in_a_fixed_number_of_queries(
    client: Client, alice: User, acme: Organization, contacts: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    company = CompanyFactory(org=acme, name="Northwind")
    for n in range(contacts):
        ContactFactory(org=acme, first_name="Person", last_name=f"{n:02d}", company=company,
                       tags=("VIP", "Partner"), owner=alice)  # fmt: skip
    with activate(acme):
        custom_fields.custom_field_save(
            org=acme,
            by=None,
            record_kind="contact",
            key="tier",
            label="Tier",
            kind="text",
            choices=[],
        )
    client.force_login(alice)
    # Session, user, organisation, membership, both walls and their savepoints; the capped
    # count; the rows (with company and owner, through one cursor) and their tags; the
    # custom fields, read once for the filters and the columns; the audit event. None per
    # row or column.
    every = "email,phone,company,stage,owner,tags,created,job_title,source,country,city"
    with django_assert_max_num_queries(12):
        response = _get(client, f"{URL}?format=csv&columns={every},last_interaction,custom_tier")
    assert len(_csv(response.content)) == contacts + 1


# --- Large exports: a job ----------------------------------------------------------------


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch, acme: Organization) -> None:
    """Past a limit of two rows an export becomes a job; progress recorded every row."""
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 2)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    for name in ("Ada", "Grace", "John", "Linus"):
        ContactFactory(org=acme, first_name=name, last_name="Large", lifecycle="customer")
    ContactFactory(org=acme, first_name="Lee", last_name="Lead", lifecycle="lead")


def _start_job(client: Client, capture: Any, query: str = "format=csv&lifecycle=customer") -> int:
    with capture(execute=True):  # the task is sent when the request's transaction commits
        response = client.get(f"{URL}?{query}")
    assert response.status_code == 302
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_it_writes_a_large_export_in_the_background(
    client: Client, alice: User, acme: Organization, large: None,
    django_capture_on_commit_callbacks: Any, settings: Any,
) -> None:  # fmt: skip
    client.force_login(alice)
    export_id = _start_job(client, django_capture_on_commit_callbacks)
    with activate(acme):
        job = ExportJob.objects.get(pk=export_id)
    assert (job.status, job.rows_done, job.rows_total) == ("done", 4, 4)
    assert job.file == f"{acme.pk}/exports/{job.token}.csv"
    assert (Path(settings.MEDIA_ROOT) / job.file).is_file()
    with activate(acme):
        event = AuditEvent.objects.get(action="contact.exported")
    assert (event.actor, event.object_id) == (alice, str(export_id))
    assert event.changes == {"format": [None, "csv"], "query": [None, "lifecycle=customer"],
                             "rows": [None, 4]}  # fmt: skip
    page = _get(client, f"/o/acme/exports/{export_id}/").content.decode()
    assert "100%" in page
    assert f'href="/o/acme/exports/{export_id}/download/"' in page
    assert 'hx-trigger="every 2s"' not in page


def test_it_downloads_a_finished_export(
    client: Client, alice: User, large: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(alice)
    export_id = _start_job(
        client, django_capture_on_commit_callbacks, "format=xlsx&lifecycle=customer"
    )
    response = _get(client, f"/o/acme/exports/{export_id}/download/")
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    rows = _xlsx(b"".join(response.streaming_content))
    assert sorted(row[0] for row in rows[1:]) == ["Ada", "Grace", "John", "Linus"]


def test_a_large_export_writes_the_chosen_columns(
    client: Client, alice: User, large: None, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(alice)
    query = "format=csv&lifecycle=customer&columns=stage"
    export_id = _start_job(client, django_capture_on_commit_callbacks, query)
    response = _get(client, f"/o/acme/exports/{export_id}/download/")
    header, *rows = _csv(b"".join(response.streaming_content))
    assert header == ["First name", "Last name", "Stage"]
    assert sorted(rows) == [
        [name, "Large", "Customer"] for name in ("Ada", "Grace", "John", "Linus")
    ]


def test_a_large_export_fails_clearly_for_a_search_past_its_limit(
    client: Client, alice: User, acme: Organization, large: None,
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    client.force_login(alice)
    with activate(acme):
        job = exports.export_job_create(
            org=acme, by=alice, record_kind="contact", fmt="csv", query="q=large"
        )
    monkeypatch.setattr(exports, "SEARCH_MAX_ROWS", 3)  # the matches grew since it was asked for
    tasks.export_run.delay(org_id=acme.pk, export_id=job.pk)
    page = _get(client, f"/o/acme/exports/{job.pk}/").content.decode()
    assert "The search matches more than 3 contacts: narrow it to export." in page
    with activate(acme):
        assert ExportJob.objects.get(pk=job.pk).status == "failed"


def test_it_polls_a_job_that_has_not_finished(
    client: Client, alice: User, acme: Organization
) -> None:
    with activate(acme):
        job = exports.export_job_create(
            org=acme, by=alice, record_kind="contact", fmt="csv", query=""
        )
    client.force_login(alice)
    page = client.get(f"/o/acme/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert page.lstrip().startswith('<section id="export-progress"')
    assert f'hx-get="/o/acme/exports/{job.pk}/"' in page
    assert 'hx-trigger="every 2s"' in page
    assert "download" not in page
    assert client.get(f"/o/acme/exports/{job.pk}/download/").status_code == 404
    with activate(acme):  # as the worker records it, while its transaction hides the job
        progress_set("export", job.pk, 1000, 4000)
    page = client.get(f"/o/acme/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert '<progress value="1000" max="4000">' in page


def test_running_the_task_twice_does_no_harm(
    client: Client, alice: User, acme: Organization, large: None,
    django_capture_on_commit_callbacks: Any, settings: Any,
) -> None:  # fmt: skip
    client.force_login(alice)
    export_id = _start_job(client, django_capture_on_commit_callbacks)
    with activate(acme):
        first = ExportJob.objects.get(pk=export_id)
    content = (Path(settings.MEDIA_ROOT) / first.file).read_bytes()
    tasks.export_run.delay(org_id=acme.pk, export_id=export_id)
    with activate(acme):
        again = ExportJob.objects.get(pk=export_id)
        assert ExportJob.objects.count() == 1
    assert (again.status, again.file, again.finished_at) == ("done", first.file, first.finished_at)
    with activate(acme):
        assert AuditEvent.objects.filter(action="contact.exported").count() == 1
    assert (Path(settings.MEDIA_ROOT) / again.file).read_bytes() == content
    assert sorted(
        p.name for p in (Path(settings.MEDIA_ROOT) / str(acme.pk) / "exports").iterdir()
    ) == [Path(first.file).name]


def test_it_hides_a_job_from_another_organisation(
    client: Client, alice: User, charlie: User, large: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    client.force_login(alice)
    export_id = _start_job(client, django_capture_on_commit_callbacks)
    client.force_login(charlie)  # a real Globex admin: only the scoping stops him
    for prefix in ("/o/globex/", "/o/acme/"):
        assert client.get(f"{prefix}exports/{export_id}/").status_code == 404
        assert client.get(f"{prefix}exports/{export_id}/download/").status_code == 404


def test_it_hides_a_job_from_colleagues(
    client: Client, alice: User, bob: User, large: None,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # The file holds what the requester's visibility showed them: it is theirs alone.
    client.force_login(alice)
    export_id = _start_job(client, django_capture_on_commit_callbacks)
    client.force_login(bob)
    assert client.get(f"/o/acme/exports/{export_id}/").status_code == 404
    assert client.get(f"/o/acme/exports/{export_id}/download/").status_code == 404


def test_only_what_a_spreadsheet_keeps_whole_becomes_a_number_or_a_date() -> None:
    values = ["7", "-4.5", "01234", "+4722", "12345678901234567890", "2026-12-06",
              "2026-02-31", "2026-12-06T09:30:00+01:00", "1e5", "=1"]  # fmt: skip
    out = io.BytesIO()
    exports.write_xlsx([["h"] * len(values), values], out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    got = [cell.value for cell in sheet[2]]
    assert got[:2] == [7, -4.5]
    assert got[2:5] == ["01234", "+4722", "12345678901234567890"]
    assert got[5] == datetime(2026, 12, 6)
    assert got[6] == "2026-02-31"
    assert got[7] == datetime(2026, 12, 6, 9, 30)
    assert got[8:] == ["1e5", "=1"]
    assert [cell.value for cell in sheet[1]] == ["h"] * len(values)
