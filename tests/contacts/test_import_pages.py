"""/o/acme/contacts/import/ and /o/acme/imports/<id>/…: upload, map, dry run, import, undo."""

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from pytest_django import DjangoAssertNumQueries

from contacts.models import Company, Contact
from crm.models import Organization, Role, User
from crm.progress import progress_set
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.conftest import member
from tests.contacts.imports import check, csv_bytes, media, run, stored, upload

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/import/"
PEOPLE = csv_bytes([["First Name", "E-mail Address", "Notes"], ["Ada", "ada@example.com", "x"],
                    ["Grace", "not an email", "y"]])  # fmt: skip


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


def _post_file(client: Client, data: bytes, name: str = "people.csv", url: str = URL) -> Any:
    """Upload a file; the worker reads it as soon as the upload commits (tasks run here)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, {"file": SimpleUploadedFile(name, data)})


def _page(client: Client, job: ImportJob) -> str:
    response = client.get(f"/o/acme/imports/{job.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _jobs(org: Organization) -> list[ImportJob]:
    with activate(org):
        return list(ImportJob.objects.all())


def _set_status(org: Organization, job: ImportJob, status: str) -> None:
    with activate(org):
        ImportJob.objects.filter(pk=job.pk).update(status=status)


@pytest.mark.parametrize("url", [URL, "/o/acme/companies/import/"])
def test_the_upload_form_shows_no_error_before_anything_is_posted(
    client: Client, rita: User, url: str
) -> None:
    client.force_login(rita)
    body = client.get(url).content.decode()
    assert "CSV, Excel or vCard file" in body
    assert "This field is required." not in body
    assert "field__error" not in body


def test_it_uploads_a_file_and_suggests_a_field_per_column(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    response = _post_file(client, PEOPLE)
    job = _jobs(acme)[0]
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/imports/{job.pk}/"
    assert job.mapping == ["first_name", "email", ""]
    assert job.samples == [["Ada", "ada@example.com", "x"], ["Grace", "not an email", "y"]]
    assert job.created_by == rita
    stored(job).write_bytes(b"the page no longer reads the file")
    body = _page(client, job)
    assert '<option value="email" selected>Email</option>' in body
    assert "ada@example.com" in body  # the first rows, beside each column


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "The submitted file is empty."), (bytes(range(256)) * 20, "binary data"),
     (b"PK\x03\x04 not really a workbook", "cannot be opened")],
)  # fmt: skip
def test_it_says_why_a_file_cannot_be_read(
    client: Client, rita: User, acme: Organization, data: bytes, message: str
) -> None:
    client.force_login(rita)
    response = _post_file(client, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not _jobs(acme)


def test_it_refuses_a_file_over_the_limit_while_it_arrives(
    client: Client, rita: User, acme: Organization, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    client.force_login(rita)
    response = _post_file(client, b"Email\n" + b"a@example.com\n" * 100_000)
    assert "larger than 1 MB" in response.content.decode()
    assert not _jobs(acme)


@pytest.mark.parametrize("extra", ["other", "file"])
def test_it_refuses_a_request_that_carries_more_than_one_file(
    client: Client, rita: User, acme: Organization, extra: str
) -> None:
    client.force_login(rita)
    more = [SimpleUploadedFile(f"more{n}.csv", b"Email\na@example.com\n") for n in range(5)]
    response = client.post(URL, {"file": SimpleUploadedFile("people.csv", PEOPLE), extra: more})
    assert response.status_code == 400
    assert "That request could not be read" in response.content.decode()
    assert not _jobs(acme)


def test_the_dry_run_shows_the_report(
    client: Client, rita: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rita)
    job = upload(acme, rita, PEOPLE)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/acme/imports/{job.pk}/map/", {
            "column_0": "first_name", "column_1": "email", "column_2": "",
            "mode": "upsert", "match_by": "email",
        })  # fmt: skip
    assert response.status_code == 302
    body = _page(client, job)
    assert "Dry run: what importing would do" in body
    assert "is not an email address" in body
    assert "Import 1 row" in body
    with activate(acme):
        assert not Contact.objects.exists()


def test_it_shows_a_bad_mapping_and_keeps_the_job_as_it_was(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    job = upload(acme, rita, PEOPLE)
    response = client.post(f"/o/acme/imports/{job.pk}/map/", {
        "column_0": "first_name", "column_1": "first_name", "column_2": "",
        "mode": "upsert", "match_by": "email",
    })  # fmt: skip
    assert "Only one column can fill First name." in response.content.decode()
    assert _jobs(acme)[0].status == ImportJob.Status.UPLOADED


def test_it_imports_and_undoes_from_the_pages(
    client: Client, rita: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rita)
    job = check(acme, rita, upload(acme, rita, PEOPLE))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/o/acme/imports/{job.pk}/commit/").status_code == 302
    assert "What the import did" in _page(client, job)
    with activate(acme):
        assert Contact.objects.get().email == "ada@example.com"
    confirm = client.get(f"/o/acme/imports/{job.pk}/undo/").content.decode()
    assert "1 contact it created move to the Trash" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/undo/")
    with activate(acme):
        assert not Contact.objects.alive().exists()
        assert ImportJob.objects.get().status == ImportJob.Status.UNDONE


def test_it_polls_while_running_and_reloads_when_done(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    job = upload(acme, rita, PEOPLE)
    _set_status(acme, job, ImportJob.Status.CHECKING)
    with activate(acme):  # as the worker records it
        progress_set("import", job.pk, 5000, 0, "Reading rows")
    running = client.get(f"/o/acme/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "Reading rows: 5000 so far" in running
    with activate(acme):
        progress_set("import", job.pk, 500, 2000, "Creating records")
    running = client.get(f"/o/acme/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert '<progress value="500" max="2000">' in running
    _set_status(acme, job, ImportJob.Status.CHECKED)
    done = client.get(f"/o/acme/imports/{job.pk}/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_the_problems_download_neutralises_formulas(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    job = check(acme, rita, upload(acme, rita, csv_bytes([["Email"], ["=cmd|x"]])))
    response = client.get(f"/o/acme/imports/{job.pk}/problems.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Row", "Column", "Outcome", "Problem"]
    assert rows[1][:3] == ["2", "Email", "rejected"]
    assert rows[1][3].startswith("“=cmd")


def test_the_list_of_imports_offers_to_discard_those_not_run(
    client: Client, rita: User, acme: Organization
) -> None:
    waiting, done = upload(acme, rita, PEOPLE), run(acme, rita, PEOPLE)
    client.force_login(rita)
    body = client.get(URL).content.decode()
    assert f"/o/acme/imports/{waiting.pk}/discard/" in body
    assert f"/o/acme/imports/{done.pk}/discard/" not in body


def test_it_discards_an_import_not_run(client: Client, rita: User, acme: Organization) -> None:
    client.force_login(rita)
    job = upload(acme, rita, PEOPLE)
    assert (
        "Discard the import of people.csv?"
        in client.get(f"/o/acme/imports/{job.pk}/discard/").content.decode()
    )
    assert client.post(f"/o/acme/imports/{job.pk}/discard/").status_code == 302
    assert not _jobs(acme)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_it_refuses_roles_that_may_not_import(
    client: Client, acme: Organization, role: str
) -> None:
    client.force_login(member(acme, f"{role}@acme.test", role))
    assert client.get(URL).status_code == 403
    assert client.get("/o/acme/companies/import/").status_code == 403


def test_a_rep_cannot_open_another_reps_import(
    client: Client, rita: User, alice: User, acme: Organization
) -> None:
    job = upload(acme, rita, PEOPLE)
    client.force_login(member(acme, "rob@acme.test", Role.REP))
    assert client.get(f"/o/acme/imports/{job.pk}/").status_code == 404
    assert "people.csv" not in client.get(URL).content.decode()
    client.force_login(alice)  # an admin sees everyone's
    assert client.get(f"/o/acme/imports/{job.pk}/").status_code == 200


def test_the_pages_query_counts_do_not_grow(
    client: Client,
    rita: User,
    acme: Organization,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client.force_login(rita)
    job = run(acme, rita, PEOPLE)
    for _ in range(5):
        upload(acme, rita, PEOPLE)
    with django_assert_max_num_queries(9):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(9):
        _page(client, job)


NASTY = {
    "unterminated quote": b'Email,Name\n"a@example.com,Ada\nb@example.com,Bo\n',
    "one huge cell": b"Email\n" + b"a" * 300_000 + b"\n",
    "header only": b"Email,Name\n",
    "rows wider than the header": b"Email\na@example.com,1,2,3\n",
    "thousands of columns": (",".join(f"c{i}" for i in range(5000)) + "\n").encode(),
    "a byte-order mark only": b"\xef\xbb\xbf",
    "a zip that is no workbook": b"PK\x03\x04\x14\x00\x00\x00\x00\x00",
    "control characters": b"Email\x01,\x02Name\n\x03a@example.com,\x7fAda\n",
    "random bytes": bytes((i * 7919) % 256 for i in range(4000)),
}


@pytest.mark.parametrize("data", NASTY.values(), ids=NASTY.keys())
def test_no_file_makes_the_upload_or_the_dry_run_fail_badly(
    client: Client, rita: User, acme: Organization, data: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    client.force_login(rita)
    response = _post_file(client, data)
    if response.status_code == 200:  # refused with a reason beside the field
        assert 'class="field__error"' in response.content.decode()
        assert not _jobs(acme)
        return
    assert response.status_code == 302
    (job,) = _jobs(acme)
    if job.status == ImportJob.Status.FAILED:  # the worker could not read it, and said why
        assert job.error
        assert not job.file
        assert job.error in _page(client, job)
        return
    fields = {f"column_{i}": "" for i in range(len(job.headers))} | {"column_0": "email"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/o/acme/imports/{job.pk}/map/", fields | {"mode": "upsert", "match_by": "email"}
        )
    (job,) = _jobs(acme)
    assert job.status in (ImportJob.Status.CHECKED, ImportJob.Status.FAILED)
    assert _page(client, job)


def test_a_second_click_on_import_imports_nothing_twice(
    client: Client, rita: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rita)
    job = check(acme, rita, upload(acme, rita, PEOPLE))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/commit/")
        again = client.post(f"/o/acme/imports/{job.pk}/commit/", follow=True)
    assert "being imported, or was already" in again.content.decode()
    with activate(acme):
        assert Contact.objects.count() == 1


def test_it_imports_companies_from_their_own_page(
    client: Client, rita: User, acme: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(rita)
    data = csv_bytes(
        [["Company Name", "Website", "Employees"], ["Initech", "initech.example", "51-200"]]
    )
    response = _post_file(client, data, "c.csv", url="/o/acme/companies/import/")
    (job,) = _jobs(acme)
    assert response["Location"] == f"/o/acme/imports/{job.pk}/"
    assert (job.record_kind, job.mapping, job.match_by) == (
        "company",
        ["name", "domain", "size"],
        "domain",
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/map/", {
            "column_0": "name", "column_1": "domain", "column_2": "size", "mode": "upsert",
            "match_by": "domain",
        })  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/imports/{job.pk}/commit/")
    with activate(acme):
        assert list(Company.objects.values_list("name", "size")) == [("Initech", "51-200")]


def test_the_report_counts_the_companies_a_contacts_import_creates(
    client: Client, rita: User, acme: Organization
) -> None:
    data = csv_bytes([["Name", "Email", "Company"], ["Ada King", "ada@example.com", "Engines"],
                      ["Grace Hopper", "grace@example.com", "Engines"]])  # fmt: skip
    job = run(acme, rita, data)
    client.force_login(rita)
    assert "<dt>New companies</dt><dd>1</dd>" in _page(client, job)
    undo = client.get(f"/o/acme/imports/{job.pk}/undo/").content.decode()
    assert "2 contacts it created move to the Trash, with the new companies it created (1)" in undo
