"""Imports: upload, map, check (the dry run), commit and undo. Every write goes through here.

The check and the commit run as tasks, each in one transaction (crm.tasks.TenantTask):
a commit that fails writes nothing but the job's failure. Rows are written set-based
(crm.staging), and every record created or changed is kept as an ImportChange, so the
whole import can be undone.
"""

import logging
import shutil
import tempfile
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm import files
from crm.audit import audit_many, audit_record
from crm.models import Membership, Organization, Role, User
from crm.progress import progress_clear, progress_set
from crm.records import registry
from crm.records.imports import plan as planning
from crm.records.imports.fields import suggest
from crm.records.imports.reading import UnreadableFile, precheck, read_table, sample
from crm.records.models import ImportChange, ImportJob
from crm.resources import memory_cap
from crm.staging import insert_records, next_ids, update_records
from crm.tasks import enqueue

logger = logging.getLogger(__name__)

Status = ImportJob.Status
PROGRESS = "import"
EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "vcf": ".vcf"}
# A file in an imports folder that no import points at is deleted once this old.
ORPHAN_AGE = timedelta(hours=1)
# An upload never mapped (or never readable) is abandoned: forgotten after a day.
ABANDONED_AFTER = timedelta(days=1)


# --- Upload and mapping -------------------------------------------------------------------


@transaction.atomic
def import_upload(
    *,
    org: Organization,
    by: User | None,
    record_kind: str,
    file: IO[bytes],
    name: str,
    size: int,
    run_now: bool = False,
) -> ImportJob:
    """Keep an uploaded file under the organisation's prefix and have a worker read it
    (`import_read`), or read it here and now with `run_now` (the shell command).
    ValidationError, and nothing kept, if a first look is enough to refuse it."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            {"file": f"The file is larger than {limit // 1024 // 1024} MB: split it into parts."}
        )
    kind = registry.kind(record_kind)
    job = ImportJob(
        org=org, record_kind=kind.key, file_name=name[:255], file_size=size, created_by=by
    )
    # Looked at here, on this machine, before it is stored where the workers read it.
    with tempfile.TemporaryDirectory(prefix="crm-upload-") as folder:
        staged = Path(folder) / "upload"
        with staged.open("wb") as out:
            shutil.copyfileobj(file, out)
        try:
            job.format = precheck(staged)
        except UnreadableFile as error:
            raise ValidationError({"file": str(error)}) from None
        job.file = f"{org.pk}/imports/{job.token}{EXTENSIONS[job.format]}"
        with staged.open("rb") as content:
            files.save(job.file, content)
    try:
        job.save()
    except BaseException:
        files.delete([job.file])
        raise
    # Should this transaction roll back after all, the nightly purge deletes the orphan file.
    audit_record(org=org, actor=by, action="import.uploaded", target=job)
    if run_now:
        return import_read(org=org, import_id=job.pk) or job
    progress_set(PROGRESS, job.pk, 0, 0, "Waiting for a worker")
    enqueue("records.import_read", org_id=org.pk, import_id=job.pk)
    return job


def import_read(*, org: Organization, import_id: int) -> ImportJob | None:
    """Read an uploaded file's header and first rows, with the worker's memory capped, and
    suggest a field per column. A file that cannot be read fails the job with the reason,
    and is deleted. Safe to repeat."""
    job = ImportJob.objects.select_for_update().filter(pk=import_id).first()
    if job is None or job.status != Status.READING:
        return job
    name = job.file
    progress_set(PROGRESS, job.pk, 0, 0, "Reading the file")
    try:
        with memory_cap(settings.IMPORT_READ_MEMORY_MB), files.local_copy(name) as path:
            table = read_table(path)
            rows = sample(table)
    except (UnreadableFile, FileNotFoundError, MemoryError) as error:
        message = _unreadable(error)
    except Exception:  # reading touches no database: whatever it raised is about the file
        logger.exception("Reading import %s failed", job.pk)
        message = "This file cannot be read: save it again as CSV UTF-8, or as XLSX."
    else:
        kind = registry.kind(job.record_kind)
        job.format, job.encoding, job.delimiter = table.format, table.encoding, table.delimiter
        job.headers, job.samples = table.headers, rows
        job.mapping = suggest(kind, table.headers)
        job.match_by = planning.importer_of(kind).default_match(job.mapping)
        job.status = Status.UPLOADED
        job.save()
        progress_clear(PROGRESS, job.pk)
        return job
    job.status, job.error, job.file = Status.FAILED, message, ""
    job.save(update_fields=["status", "error", "file"])
    transaction.on_commit(lambda: files.delete([name]))
    progress_clear(PROGRESS, job.pk)
    return job


def _unreadable(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "The file is gone: upload it again."
    if isinstance(error, MemoryError):
        return (
            "Reading this file takes more memory than an import may use: save it as CSV, or "
            "split it into several files."
        )
    return str(error)


@transaction.atomic
def import_check_start(
    *, org: Organization, job: ImportJob, by: User | None, mapping: list[str], mode: str,
    match_by: str, run_now: bool = False,
) -> ImportJob:  # fmt: skip
    """Save the column mapping and check every row against it (the dry run), in a task,
    or here and now with `run_now` (the shell command)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Status.UPLOADED, Status.CHECKED, Status.FAILED):
        raise ValidationError("This import has started: its mapping can no longer change.")
    if not job.file or not job.headers:
        raise ValidationError("The file of this import could not be read: upload it again.")
    planning.check_mapping(registry.kind(job.record_kind), job.headers, mapping, mode, match_by)
    job.mapping, job.mode, job.match_by = mapping, mode, match_by
    job.status, job.error, job.totals, job.problems = Status.CHECKING, "", {}, []
    job.save()
    if run_now:
        return import_check(org=org, import_id=job.pk) or job
    progress_set(PROGRESS, job.pk, 0, 0, "Waiting for a worker")
    enqueue("records.import_check", org_id=org.pk, import_id=job.pk)
    return job


@transaction.atomic
def import_commit_start(
    *, org: Organization, job: ImportJob, by: User | None, run_now: bool = False
) -> ImportJob:
    """Import the checked rows, in a task, or here and now with `run_now`."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status in (Status.IMPORTING, Status.DONE):
        raise ValidationError("This file is being imported, or was already.")
    if job.status != Status.CHECKED:
        raise ValidationError("Check the rows first: only a checked import can be imported.")
    if not job.totals.get("created") and not job.totals.get("updated"):
        raise ValidationError("No row would create or change anything: there is nothing to import.")
    job.status = Status.IMPORTING
    job.save(update_fields=["status"])
    if run_now:
        return import_commit(org=org, import_id=job.pk) or job
    progress_set(PROGRESS, job.pk, 0, job.row_count, "Waiting for a worker")
    enqueue("records.import_commit", org_id=org.pk, import_id=job.pk)
    return job


@transaction.atomic
def import_undo_start(*, org: Organization, job: ImportJob, by: User | None) -> ImportJob:
    """Undo a finished import as a whole, in a task."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != Status.DONE:
        raise ValidationError("Only a finished import can be undone.")
    job.status, job.undone_by = Status.UNDOING, by
    job.save(update_fields=["status", "undone_by"])
    progress_set(PROGRESS, job.pk, 0, 0, "Waiting for a worker")
    enqueue("records.import_undo", org_id=org.pk, import_id=job.pk)
    return job


@transaction.atomic
def import_discard(*, org: Organization, job: ImportJob, by: User | None) -> None:
    """Forget an import that was never committed, and its file."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Status.UPLOADED, Status.CHECKED, Status.FAILED):
        raise ValidationError("Only an import that has not run can be discarded.")
    name = job.file  # "" once found unreadable
    audit_record(org=org, actor=by, action="import.discarded", target=job)
    job.delete()
    transaction.on_commit(lambda: files.delete([name]))


@transaction.atomic
def imports_purge(*, org: Organization, now: Any = None) -> int:
    """Forget imports left unfinished for IMPORT_KEEP_DAYS, and uploads never mapped for a
    day, with their files, and delete the files of the organisation that no import points
    at (an upload whose job never came to be); safe to repeat. Finished imports stay
    listed, with what undo needs."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.IMPORT_KEEP_DAYS)
    never_mapped = Q(status=Status.UPLOADED) | Q(status=Status.FAILED, headers=[])
    stale = ImportJob.objects.filter(
        Q(created_at__lt=cutoff, status__in=[Status.UPLOADED, Status.CHECKED, Status.FAILED])
        | (never_mapped & Q(created_at__lt=now - ABANDONED_AFTER))
    )
    count = len(stale)
    names = [job.file for job in stale]
    if count:
        stale.delete()
        audit_record(org=org, actor=None, action="import.purged", changes={"count": [None, count]})
    names += _orphans(org, before=now - ORPHAN_AGE)
    transaction.on_commit(lambda: files.delete(names))
    return count


def _orphans(org: Organization, *, before: Any) -> list[str]:
    """The files in the organisation's imports folder that no import points at, last
    written before `before` (an upload under way has its job a moment after its file)."""
    kept = set(ImportJob.objects.values_list("file", flat=True))
    return [name for name in files.older_than(f"{org.pk}/imports", before) if name not in kept]


# --- The dry run and the commit (task bodies) ---------------------------------------------


def import_check(*, org: Organization, import_id: int) -> ImportJob | None:
    """Plan every row without writing; keep the totals and the problems. Safe to repeat."""
    job = ImportJob.objects.select_for_update().filter(pk=import_id).first()
    if job is None or job.status != Status.CHECKING:
        return job
    return _run(org, job, commit=False)


def import_commit(*, org: Organization, import_id: int) -> ImportJob | None:
    """Plan again with the matched records locked, and write it all, or nothing."""
    job = ImportJob.objects.select_for_update().filter(pk=import_id).first()
    if job is None or job.status != Status.IMPORTING:
        return job  # done already, or never started: running twice does no harm
    return _run(org, job, commit=True)


def _visible(job: ImportJob) -> QuerySet[Any] | None:
    """The records the importing member may see and so match (all of them from the shell,
    which imports as the organisation itself); None when that member has left since."""
    if job.created_by_id is None:
        membership: Membership | None = Membership(role=Role.OWNER)
    else:
        membership = Membership.objects.filter(user_id=job.created_by_id).first()
    return registry.kind(job.record_kind).visible(membership) if membership else None


def _run(org: Organization, job: ImportJob, *, commit: bool) -> ImportJob:
    total = job.row_count

    def progress(done: int) -> None:
        # The first dry run does not know how many rows there are: it says how many it read.
        progress_set(PROGRESS, job.pk, done, total if total >= done else 0, "Reading rows")

    visible = _visible(job)
    if visible is None:
        return _fail(job, "The member who uploaded this file has left the organisation.")
    try:
        with transaction.atomic():  # a savepoint: a failure undoes every write but the job's
            with memory_cap(settings.IMPORT_READ_MEMORY_MB), files.local_copy(job.file) as path:
                table = read_table(path)
                plan = planning.plan_import(
                    job=job, table=table, visible=visible, owner_id=job.created_by_id,
                    lock=commit, progress=progress,
                )  # fmt: skip
            if commit:
                _apply(org, job, plan)
    except (OperationalError, InterfaceError):
        raise  # the task retries these
    except (UnreadableFile, FileNotFoundError, MemoryError) as error:
        return _fail(job, _unreadable(error))
    except Exception:
        logger.exception("Import %s failed", job.pk)
        return _fail(job, "The import failed and wrote nothing. Try again, or split the file.")
    job.totals, job.problems, job.row_count = plan.totals(), plan.problems(), len(plan.rows)
    if commit:
        job.status, job.imported_at = Status.DONE, timezone.now()
        name = job.file
        transaction.on_commit(lambda: files.delete([name]))
        audit_record(
            org=org, actor=job.created_by, action="import.committed", target=job,
            changes={name: [None, count] for name, count in job.totals.items()},
        )  # fmt: skip
    else:
        job.status, job.checked_at = Status.CHECKED, timezone.now()
    job.save()
    progress_clear(PROGRESS, job.pk)
    return job


def _fail(job: ImportJob, error: str) -> ImportJob:
    job.status, job.error = Status.FAILED, error
    job.save(update_fields=["status", "error"])
    progress_clear(PROGRESS, job.pk)
    return job


# --- Writing a plan -----------------------------------------------------------------------


def _apply(org: Organization, job: ImportJob, plan: planning.Plan) -> None:
    """Write the plan set-based: tags, what the records point at, new records, changed
    records, their tags and what hangs off them, the changes kept for undo, and a History
    event per record."""
    writer = Writer(org, job, plan)
    writer.tags()
    writer.importer.write_first(writer)
    writer.creations()
    writer.updates()
    writer.links()
    writer.importer.write_last(writer)


class Writer:
    """Writes one plan; a kind's importer writes its own parts through it."""

    def __init__(self, org: Organization, job: ImportJob, plan: planning.Plan) -> None:
        self.org, self.job, self.plan = org, job, plan
        self.kind = plan.kind
        self.importer = planning.importer_of(plan.kind)
        self.model = self.kind.model
        self.now = timezone.now()
        self.created = [r for r in plan.rows if r.action == planning.CREATE]
        self.updated = [r for r in plan.rows if r.action == planning.UPDATE]
        self.tag_ids: dict[str, int] = {}
        self.written = 0
        self.extra: dict[str, Any] = {}  # for the kind's importer: what it wrote first

    def step(self, name: str) -> None:
        total = len(self.created) + len(self.updated)
        progress_set(PROGRESS, self.job.pk, self.written, total, name)

    def tags(self) -> None:
        names = {name for row in (*self.created, *self.updated) for name in row.tags}
        if not names or self.kind.tags is None:
            return
        tags = self.kind.tags.by_name(org=self.org, names=sorted(names), by=self.job.created_by)
        self.tag_ids = {tag.name.lower(): tag.pk for tag in tags}

    def creations(self) -> None:
        if not self.created:
            return
        self.step("Creating records")
        ids = next_ids(self.model._meta.db_table, len(self.created))
        records = []
        for pk, row in zip(ids, self.created, strict=True):
            row.record_id = pk
            record = {"id": pk, "org_id": self.org.pk, "created_at": self.now, **row.values}
            self.importer.new_record(self, row, record)
            records.append(record)
        insert_records(self.model, records, with_ids=True)
        self.written += len(records)
        self.keep(self.kind.key, [(row.record_id, True, {}) for row in self.created])
        self.history(
            self.kind, "created", [(r["id"], self.importer.describe(r), {}) for r in records]
        )

    def updates(self) -> None:
        """One UPDATE per set of columns that rows change (a file usually has a few)."""
        if not self.updated:
            return
        self.step("Updating records")
        groups: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        for row in self.updated:
            values = dict(row.values)
            self.importer.changed_values(self, row, values)
            values["updated_at"] = self.now
            columns = tuple(sorted(values))
            groups[columns].append([row.record_id, *(values[c] for c in columns)])
        for columns, rows in groups.items():
            update_records(self.model, columns, rows)
        self.written += len(self.updated)
        self.keep(self.kind.key, [(row.record_id, False, row.changes) for row in self.updated])
        found = self.model._default_manager.filter(pk__in=[r.record_id for r in self.updated])
        names = {
            r["id"]: self.importer.describe(r)
            for r in found.values("id", *self.importer.repr_fields)
        }
        events = [(r.record_id, names.get(r.record_id, ""), r.changes) for r in self.updated]
        self.history(self.kind, "updated", events)

    def links(self) -> None:
        """Tags on created and updated records."""
        if self.kind.tags is None:
            return
        self.step("Adding tags")
        link, column = self.kind.tags.link, self.kind.tags.column
        insert_records(link, (
            {"org_id": self.org.pk, column: row.record_id, "tag_id": self.tag_ids[name.lower()]}
            for row in (*self.created, *self.updated) for name in row.tags
        ))  # fmt: skip

    def keep(
        self, record_kind: str, changes: list[tuple[int | None, bool, dict[str, Any]]]
    ) -> None:
        """Keep what the import did to these records of a kind, for undo."""
        insert_records(ImportChange, (
            {"org_id": self.org.pk, "job_id": self.job.pk, "record_kind": record_kind,
             "record_id": pk, "created": created, "changes": changes}
            for pk, created, changes in changes
        ))  # fmt: skip

    def history(
        self, kind: registry.Kind, verb: str, events: list[tuple[int | None, str, dict[str, Any]]]
    ) -> None:
        """A History event per record, saying which import did it."""
        audit_many(
            org=self.org, actor=self.job.created_by, action=f"{kind.key}.{verb}", model=kind.model,
            events=[(pk, text, {**changes, "import": [None, self.job.file_name]})
                    for pk, text, changes in events],
        )  # fmt: skip
