"""Exports of a filtered list to CSV and XLSX, directly or by a worker."""

import csv
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from crm import files
from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.progress import progress_clear, progress_get, progress_set
from crm.records import columns, registry
from crm.records.columns import Column
from crm.records.filters import list_rows
from crm.records.models import ExportJob
from crm.records.search import SEARCH_MAX_ROWS
from crm.tasks import enqueue
from crm.tenancy import require_org

logger = logging.getLogger(__name__)

# Up to this many rows download at once; more are written by a worker (an ExportJob).
DIRECT_LIMIT = 5_000
PROGRESS = "export"  # its kind in crm.progress
# How often a running export records its progress.
PROGRESS_EVERY = 1_000
CHUNK_SIZE = 2_000

Row = list[str]

# A spreadsheet reads a cell starting with one of these as a formula (or, for a tab or a
# carriage return, strips it and reads what follows): CSV and formula injection.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """The text of one cell, made inert: a leading quote before what could start a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


# --- Reading the rows ---------------------------------------------------------------------


def filtered(
    kind: registry.Kind, membership: Membership, query: str
) -> tuple[QuerySet[Any], list[Column]]:
    """The rows of a list page (`query` is its query string) that `membership` may see, and
    the columns it shows; ValidationError if its search matches more than SEARCH_MAX_ROWS.
    A search exports at most that many matches: past it, an export would silently be a
    sample."""
    params = QueryDict(query)
    filters, found = list_rows(kind, membership, params, search_limit=SEARCH_MAX_ROWS + 1)
    if filters.search_capped:
        raise ValidationError(
            f"The search matches more than {SEARCH_MAX_ROWS:,} {kind.nouns}: narrow it to export."
        )
    default = kind.export_columns or kind.default_columns
    return found, columns.chosen(kind, params, filters.custom_fields, default, membership)


def count_capped(queryset: QuerySet[Any], cap: int) -> int:
    """How many rows, counting no further than cap + 1."""
    return queryset.order_by()[: cap + 1].count()


def export_rows(kind: registry.Kind, shown: list[Column], queryset: QuerySet[Any]) -> Iterator[Row]:
    """The header, then one row per record in the list's columns, as plain text, read in
    chunks (a few queries per chunk, not per row)."""
    zone = ZoneInfo(require_org().time_zone)
    yield [header for column in shown for header in column.export_headers]
    chunk: list[Any] = []
    for record in queryset.iterator(chunk_size=CHUNK_SIZE):
        chunk.append(record)
        if len(chunk) == CHUNK_SIZE:
            yield from _cells(kind, shown, chunk, zone)
            chunk = []
    yield from _cells(kind, shown, chunk, zone)


def _cells(kind: registry.Kind, shown: list[Column], records: list[Any],
           zone: ZoneInfo) -> Iterator[Row]:  # fmt: skip
    for record in columns.prepare(kind, records):
        yield [cell for column in shown for cell in column.export(record, zone)]


# --- Writing them -------------------------------------------------------------------------


def write_csv(rows: Iterable[Row], file: IO[str] | Any) -> None:
    """Rows as CSV to a text file (or an HttpResponse), with a BOM so that Excel reads UTF-8."""
    file.write("\ufeff")
    writer = csv.writer(file)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])


def write_xlsx(rows: Iterable[Row], file: IO[bytes] | str | Path) -> None:
    """Rows as one XLSX sheet, streamed (openpyxl's write-only mode), each cell typed as what
    it holds: a number, a date, a date and time (in the organisation's time zone, as the
    CSV says it), or text. A text cell is never read as a formula, so it needs no guard."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    header = True
    for row in rows:
        sheet.append([_typed_cell(sheet, value, header) for value in row])
        header = False
    book.save(file)


# What a cell holds, from its text. A number keeps its text when a spreadsheet would change
# it: a leading zero or plus (a postal code, a phone number) or more than 15 digits.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[+-][0-9]{2}:[0-9]{2})?"
)


def _typed_cell(sheet: Any, text: str, header: bool) -> WriteOnlyCell:
    value: Any = text
    number_format = ""
    if not header:
        try:
            if _NUMBER.fullmatch(text):
                value = int(text) if "." not in text else Decimal(text)
            elif _DATE.fullmatch(text):
                value, number_format = date.fromisoformat(text), "yyyy-mm-dd"
            elif _MOMENT.fullmatch(text):
                # Excel keeps no time zone: the wall-clock time of the organisation's zone.
                value = datetime.fromisoformat(text).replace(tzinfo=None)
                number_format = "yyyy-mm-dd hh:mm:ss"
        except ValueError:  # 2026-02-31: not a date after all
            value, number_format = text, ""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever the value looks like
    if number_format:
        cell.number_format = number_format
    return cell


def write(fmt: str, rows: Iterable[Row], path: Path) -> None:
    if fmt == ExportJob.Format.XLSX:
        write_xlsx(rows, path)
    else:
        with path.open("w", newline="", encoding="utf-8") as file:
            write_csv(rows, file)


def export_now(
    *, org: Organization, by: User, kind: registry.Kind, fmt: str, query: str,
    found: QuerySet[Any], shown: list[Column], file: IO[Any],
) -> int:  # fmt: skip
    """Write a small export (up to DIRECT_LIMIT rows) to `file` at once, and record it in the
    audit log; how many rows."""
    rows = _Counter(export_rows(kind, shown, found))
    if fmt == ExportJob.Format.XLSX:
        write_xlsx(rows, file)
    else:
        write_csv(rows, file)
    _record(org=org, by=by, kind=kind, fmt=fmt, query=query, rows=rows.done)
    return rows.done


def _record(
    *, org: Organization, by: User | None, kind: registry.Kind, fmt: str, query: str, rows: int,
    job: ExportJob | None = None,
) -> None:  # fmt: skip
    """Every export is in the audit log: who, which list (its filters and columns as its
    query string), in what format, and how many rows left."""
    audit_record(
        org=org, actor=by, action=f"{kind.key}.exported", target=job,
        changes={"format": [None, fmt], "query": [None, query], "rows": [None, rows]},
    )  # fmt: skip


# --- Large exports: a job, a worker, a file -----------------------------------------------


@transaction.atomic
def export_job_create(
    *, org: Organization, by: User, record_kind: str, fmt: str, query: str
) -> ExportJob:
    """Record an export to be written by a worker, and send the task once this commits."""
    registry.validate_kind(record_kind)
    job = ExportJob.objects.create(
        org=org, record_kind=record_kind, format=fmt, query=query, requested_by=by
    )
    enqueue("records.export_run", org_id=org.pk, export_id=job.pk)
    return job


def export_progress(job: ExportJob) -> tuple[int, int]:
    """Rows written so far, and of how many: from crm.progress while the worker writes
    (its transaction hides the job's own row until it ends), then from the job."""
    if job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
        found = progress_get(PROGRESS, job.pk)
        if found:
            return found.done, found.total
    return job.rows_done, job.rows_total


def _record_progress(job: ExportJob, done: int) -> None:
    job.rows_done = done
    job.save(update_fields=["rows_done"])
    progress_set(PROGRESS, job.pk, done, job.rows_total)


def export_run(*, org: Organization, export_id: int) -> ExportJob | None:
    """Write the job's file from the list as it is now; safe to run again (same file)."""
    job = ExportJob.objects.select_for_update().filter(pk=export_id).first()
    if job is None or (job.status == ExportJob.Status.DONE and files.exists(job.file)):
        return job
    membership = (
        Membership.objects.filter(user_id=job.requested_by_id).first()
        if job.requested_by_id is not None
        else None
    )
    if membership is None:
        return _fail(job, "The member who asked for this export has left the organisation.")
    try:
        found, shown = filtered(registry.kind(job.record_kind), membership, job.query)
    except ValidationError as error:
        return _fail(job, " ".join(error.messages))
    job.file = f"{org.pk}/exports/{job.token}.{job.format}"
    job.status, job.rows_done, job.error = ExportJob.Status.RUNNING, 0, ""
    job.rows_total = found.order_by().count()
    job.save(update_fields=["file", "status", "rows_done", "rows_total", "error"])
    _record_progress(job, 0)
    kind = registry.kind(job.record_kind)
    rows = _Counter(export_rows(kind, shown, found), job)
    # Written here, then stored whole: the file appears finished, or not at all.
    with tempfile.TemporaryDirectory(prefix="crm-export-") as folder:
        partial = Path(folder) / f"export.{job.format}"
        try:
            with transaction.atomic():
                write(job.format, rows, partial)
        except (OperationalError, InterfaceError):
            raise  # the task retries these
        except Exception:
            logger.exception("Export %s failed", job.pk)
            return _fail(job, "The export failed; try again, or narrow the filters.")
        files.delete([job.file])  # a run cut short before may have stored it
        with partial.open("rb") as content:
            files.save(job.file, content)
    job.status, job.rows_done, job.rows_total = ExportJob.Status.DONE, rows.done, rows.done
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "rows_done", "rows_total", "finished_at"])
    progress_clear(PROGRESS, job.pk)
    _record(org=org, by=job.requested_by, kind=kind, fmt=job.format, query=job.query,
            rows=rows.done, job=job)  # fmt: skip
    return job


class _Counter:
    """The rows of an export, passed through and counted; for a job, recording its progress
    every PROGRESS_EVERY."""

    def __init__(self, rows: Iterator[Row], job: ExportJob | None = None) -> None:
        self.rows, self.job, self.done = rows, job, 0

    def __iter__(self) -> Iterator[Row]:
        yield next(self.rows)  # the header
        for row in self.rows:
            yield row
            self.done += 1
            if self.job is not None and self.done % PROGRESS_EVERY == 0:
                _record_progress(self.job, self.done)


def _fail(job: ExportJob, error: str) -> ExportJob:
    job.status, job.error, job.finished_at = ExportJob.Status.FAILED, error, timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


# --- Old exports --------------------------------------------------------------------------


@transaction.atomic
def exports_purge(*, org: Organization, now: datetime | None = None) -> int:
    """Delete the export jobs older than EXPORT_KEEP_DAYS and their files; how many jobs.

    Files go first: if the transaction then fails, the rows stay and the next run deletes
    them (a missing file is no error), so no file outlives its row. Safe to repeat.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_KEEP_DAYS)
    old = list(ExportJob.objects.filter(created_at__lt=cutoff))
    for job in old:
        name = f"{org.pk}/exports/{job.token}.{job.format}"
        files.delete([name, f"{name}.partial"])  # .partial: what earlier versions left
    if not old:
        return 0
    ExportJob.objects.filter(pk__in=[job.pk for job in old]).delete()
    audit_record(org=org, actor=None, action="export.purged", changes={"count": [None, len(old)]})
    return len(old)
