"""Helpers for the import tests: files written as people's tools write them, and a job run
through upload, mapping, dry run and commit the way the pages run it."""

import io
from pathlib import Path
from typing import Any

from django.test import TestCase
from openpyxl import Workbook

from crm.models import Organization, User
from crm.records.imports import services as imports
from crm.records.imports import undo
from crm.records.models import ImportJob
from crm.tenancy import activate


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """A CSV file; cells holding the delimiter, quotes or newlines are quoted."""
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            if any(c in cell for c in (delimiter, '"', "\n", "\r")):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(delimiter.join(cells))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(org: Organization, by: User | None, data: bytes, *, record_kind: str = "contact",
           name: str = "people.csv") -> ImportJob:  # fmt: skip
    """Upload a file and have it read, as the page and then the worker do (tasks run here,
    once the upload commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True), activate(org):
        job = imports.import_upload(
            org=org, by=by, record_kind=record_kind, file=io.BytesIO(data), name=name,
            size=len(data),
        )  # fmt: skip
    with activate(org):
        return ImportJob.objects.get(pk=job.pk)


def check(org: Organization, by: User | None, job: ImportJob, *, mapping: list[str] | None = None,
          mode: str = "upsert", match_by: str | None = None) -> ImportJob:  # fmt: skip
    """Save the mapping (the suggested one by default) and run the dry run, as the worker."""
    with activate(org):
        imports.import_check_start(
            org=org, job=job, by=by, mapping=mapping if mapping is not None else job.mapping,
            mode=mode, match_by=match_by or job.match_by,
        )  # fmt: skip
        imports.import_check(org=org, import_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)


def commit(org: Organization, by: User | None, job: ImportJob) -> ImportJob:
    with activate(org):
        imports.import_commit_start(org=org, job=job, by=by)
        imports.import_commit(org=org, import_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)


def undo_import(org: Organization, by: User | None, job: ImportJob) -> ImportJob:
    with activate(org):
        imports.import_undo_start(org=org, job=job, by=by)
        undo.import_undo(org=org, import_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)


def run(org: Organization, by: User | None, data: bytes, **options: Any) -> ImportJob:
    """Upload, check and commit a file with the suggested mapping."""
    record_kind = options.pop("record_kind", "contact")
    job = check(org, by, upload(org, by, data, record_kind=record_kind), **options)
    assert job.status == ImportJob.Status.CHECKED, (job.status, job.error)
    return commit(org, by, job)


def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def stored(job: ImportJob) -> Path:
    """Where the default storage (a folder, in the tests) keeps the job's file."""
    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / job.file
