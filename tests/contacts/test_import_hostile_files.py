"""Files made to hurt: zip bombs, sheets of a billion empty rows, XML entity tricks, a CSV of
one endless line. Each is refused with a reason, quickly, without the web request reading
its rows, and leaves no file behind."""

import io
import os
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from crm.models import Organization, User
from crm.records.imports import services as imports
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.contacts.imports import check, csv_bytes, media, stored, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/import/"
SHEET = "xl/worksheets/sheet1.xml"
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


def _with_part(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook `data` with its part `name` replaced by `content`."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            body = content if item.filename == name else source.read(item.filename)
            archive.writestr(item.filename, body)
    return out.getvalue()


def _sheet(rows: str, prologue: str = "") -> bytes:
    body = f"<worksheet {MAIN}><sheetData>{rows}</sheetData></worksheet>"
    return f'<?xml version="1.0"?>{prologue}{body}'.encode()


def _cell(row: int, text: str) -> str:
    return f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text}</t></is></c></row>'


def _files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.rglob("*") if p.is_file())


def _post(client: Client, data: bytes, name: str = "people.xlsx") -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, {"file": SimpleUploadedFile(name, data)})


def _job(org: Organization) -> ImportJob:
    with activate(org):
        (job,) = ImportJob.objects.all()
        return job


def test_the_page_only_keeps_the_file_and_a_worker_reads_it(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    response = client.post(URL, {"file": SimpleUploadedFile("p.csv", b"Email\na@example.com\n")})
    job = _job(acme)
    assert response.status_code == 302
    assert (job.status, job.headers, job.format) == (ImportJob.Status.READING, [], "csv")
    body = client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    assert "Reading the file…" in body
    assert 'hx-trigger="every 1s"' in body


def test_a_zip_bomb_is_refused_from_its_directory_before_it_is_unpacked(
    client: Client, rita: User, acme: Organization, tmp_path: Path
) -> None:
    # 8 MB of empty rows that pack into a few kilobytes.
    rows = _cell(1, "Email") + "<row/>" * 1_400_000
    bomb = _with_part(xlsx_bytes([["Email"]]), SHEET, _sheet(rows))
    assert len(bomb) < 100_000
    client.force_login(rita)
    response = _post(client, bomb)
    assert response.status_code == 200
    assert "unpacks to far more than its size" in response.content.decode()
    with activate(acme):
        assert not ImportJob.objects.exists()
    assert _files(tmp_path) == []


def test_a_workbook_that_unpacks_to_more_than_the_cap_is_refused(
    client: Client, rita: User, acme: Organization, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    data = xlsx_bytes([["Email", "Notes"]] + [[f"p{n}@example.com", os.urandom(40).hex()]
                                              for n in range(10_000)])  # fmt: skip
    client.force_login(rita)
    response = _post(client, data)
    assert "unpacks to more than 1 MB" in response.content.decode()
    assert _files(tmp_path) == []


def test_a_sheet_whose_cell_sits_a_billion_rows_down_is_refused_quickly(
    rita: User, acme: Organization, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_ROWS = 1_000
    sparse = _with_part(
        xlsx_bytes([["Email"]]), SHEET, _sheet(_cell(1, "Email") + _cell(10**9, "a@example.com"))
    )
    started = time.monotonic()
    job = upload(acme, rita, sparse, name="sparse.xlsx")
    assert time.monotonic() - started < 10
    assert job.status == ImportJob.Status.FAILED
    assert "goes on past row 2,000, blank rows counted" in job.error
    assert (job.file, _files(tmp_path)) == ("", [])


@pytest.mark.parametrize("part", [SHEET, "xl/workbook.xml"])
def test_a_workbook_declaring_xml_entities_is_refused_and_deleted(
    client: Client, rita: User, acme: Organization, tmp_path: Path, part: str
) -> None:
    laughs = "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' if n else '<!ENTITY l0 "lol">' for n in range(10)
    )
    data = xlsx_bytes([["Email"], ["a@example.com"]])
    if part == SHEET:
        hostile = _sheet(_cell(1, "&l9;"), f"<!DOCTYPE worksheet [{laughs}]>")
    else:
        workbook = zipfile.ZipFile(io.BytesIO(data)).read(part).decode()
        hostile = f"<!DOCTYPE workbook [{laughs}]>{workbook}".encode()
    client.force_login(rita)
    response = _post(client, _with_part(data, part, hostile))
    assert response.status_code == 302
    job = _job(acme)
    assert job.status == ImportJob.Status.FAILED
    assert "save it again as XLSX or CSV" in job.error
    assert "save it again as XLSX or CSV" in client.get(response["Location"]).content.decode()
    assert _files(tmp_path) == []


def test_a_csv_of_one_endless_line_is_refused_quickly(
    rita: User, acme: Organization, tmp_path: Path
) -> None:
    started = time.monotonic()
    job = upload(acme, rita, b"Email," + b"x" * 20_000_000)
    assert time.monotonic() - started < 5
    assert job.status == ImportJob.Status.FAILED
    assert "The first row is longer than 100,000 characters" in job.error
    assert _files(tmp_path) == []


def test_a_csv_of_endless_blank_lines_is_refused(
    rita: User, acme: Organization, settings: Any
) -> None:
    settings.IMPORT_MAX_ROWS = 1_000
    job = upload(acme, rita, b"Email\n" + b"\n" * 5_000 + b"a@example.com\n")
    assert job.status == ImportJob.Status.FAILED
    assert "goes on past row 2,000" in job.error


def test_a_file_that_needs_more_memory_than_the_cap_fails_and_the_worker_goes_on(
    rita: User, acme: Organization, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_READ_MEMORY_MB = 16
    big = csv_bytes(
        [["Email", "Notes"]] + [[f"p{n}@example.com", "n" * 200] for n in range(150_000)]
    )
    job = upload(acme, rita, big)
    assert job.status == ImportJob.Status.FAILED
    assert "takes more memory than an import may use" in job.error
    assert _files(tmp_path) == []
    settings.IMPORT_READ_MEMORY_MB = 1024
    job = check(acme, rita, upload(acme, rita, big[:100_000].rsplit(b"\r\n", 1)[0]))
    assert job.status == ImportJob.Status.CHECKED


def test_the_nightly_purge_deletes_files_no_import_points_at(
    rita: User, acme: Organization, tmp_path: Path
) -> None:
    job = upload(acme, rita, csv_bytes([["Email"], ["a@example.com"]]))
    folder = tmp_path / str(acme.pk) / "imports"
    old, fresh = folder / "left-behind.upload", folder / "arriving.csv"
    for path in (old, fresh):
        path.write_bytes(b"Email\n")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    os.utime(stored(job), (hours_ago, hours_ago))
    with TestCase.captureOnCommitCallbacks(execute=True), activate(acme):
        imports.imports_purge(org=acme)
    assert _files(tmp_path) == sorted([fresh.name, stored(job).name])


def test_an_import_found_unreadable_can_be_discarded_and_not_checked(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    job = upload(acme, rita, b"Email," + b"x" * 200_000)
    assert job.status == ImportJob.Status.FAILED
    mapped = client.post(f"/o/acme/imports/{job.pk}/map/", {"column_0": "email"}, follow=True)
    assert "The file of this import is gone" in mapped.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/o/acme/imports/{job.pk}/discard/")
    assert response.status_code == 302
    with activate(acme):
        assert not ImportJob.objects.exists()
