"""Imports: upload, map, check (the dry run), commit and undo. Every write goes through here.

The check and the commit run as tasks, each in one transaction (crm.tasks.TenantTask):
a commit that fails writes nothing but the job's failure. Rows are written set-based
(crm.staging), and every record created or changed is kept as an ImportChange, so the
whole import can be undone.
"""

import logging
import shutil
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.imports import plan as planning
from contacts.imports.fields import suggest
from contacts.imports.reading import UnreadableFile, read_table, sample
from contacts.models import (
    Company,
    CompanyTag,
    ConsentEvent,
    Contact,
    ContactTag,
    ImportChange,
    ImportJob,
)
from contacts.services import consent_with, tags_by_name
from crm.audit import audit_record
from crm.models import AuditEvent, Membership, Organization, User
from crm.progress import progress_clear, progress_set
from crm.staging import insert_records, next_ids, update_records

logger = logging.getLogger(__name__)

Status = ImportJob.Status
PROGRESS = "import"
EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx"}


def import_path(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / job.file


def record_model(entity: str) -> type[Contact] | type[Company]:
    return Contact if entity == "contact" else Company


# --- Upload and mapping -------------------------------------------------------------------


@transaction.atomic
def import_upload(
    *, org: Organization, by: User | None, entity: str, file: IO[bytes], name: str, size: int
) -> ImportJob:
    """Keep an uploaded file under the organisation's prefix, read its header row and
    suggest a field per column. ValidationError (and nothing kept) if it cannot be read."""
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            {"file": f"The file is larger than {limit // 1024 // 1024} MB: split it into parts."}
        )
    job = ImportJob(org=org, entity=entity, file_name=name[:255], file_size=size, created_by=by)
    staged = Path(settings.MEDIA_ROOT) / str(org.pk) / "imports" / f"{job.token}.upload"
    staged.parent.mkdir(parents=True, exist_ok=True)
    with staged.open("wb") as out:
        shutil.copyfileobj(file, out)
    try:
        table = read_table(staged)
        sample(table)  # the first rows too: the mapping page shows them
    except UnreadableFile as error:
        staged.unlink(missing_ok=True)
        raise ValidationError({"file": str(error)}) from None
    job.file = f"{org.pk}/imports/{job.token}{EXTENSIONS[table.format]}"
    staged.rename(import_path(job))
    job.format, job.encoding, job.delimiter = table.format, table.encoding, table.delimiter
    job.headers = table.headers
    job.mapping = suggest(entity, table.headers)
    job.match_by = _default_match(entity, job.mapping)
    job.save()
    audit_record(org=org, actor=by, action="import.uploaded", target=job)
    return job


def _default_match(entity: str, mapping: list[str]) -> str:
    if entity == "contact":
        return "email" if "email" in mapping or "external_id" not in mapping else "external_id"
    return next((key for key in ("domain", "name", "external_id") if key in mapping), "domain")


@transaction.atomic
def import_check_start(
    *, org: Organization, job: ImportJob, by: User | None, mapping: list[str], mode: str,
    match_by: str, run_now: bool = False,
) -> ImportJob:  # fmt: skip
    """Save the column mapping and check every row against it (the dry run), in a task,
    or here and now with `run_now` (the shell command)."""
    from contacts import tasks  # it calls this module

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Status.UPLOADED, Status.CHECKED, Status.FAILED):
        raise ValidationError("This import has started: its mapping can no longer change.")
    planning.check_mapping(job.entity, job.headers, mapping, mode, match_by)
    job.mapping, job.mode, job.match_by = mapping, mode, match_by
    job.status, job.error, job.totals, job.problems = Status.CHECKING, "", {}, []
    job.save()
    if run_now:
        return import_check(org=org, import_id=job.pk) or job
    progress_set(PROGRESS, job.pk, 0, 0, "Waiting for a worker")
    tasks.import_check.delay_on_commit(org_id=org.pk, import_id=job.pk)
    return job


@transaction.atomic
def import_commit_start(
    *, org: Organization, job: ImportJob, by: User | None, run_now: bool = False
) -> ImportJob:
    """Import the checked rows, in a task, or here and now with `run_now`."""
    from contacts import tasks

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
    tasks.import_commit.delay_on_commit(org_id=org.pk, import_id=job.pk)
    return job


@transaction.atomic
def import_undo_start(*, org: Organization, job: ImportJob, by: User | None) -> ImportJob:
    """Undo a finished import as a whole, in a task."""
    from contacts import tasks

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != Status.DONE:
        raise ValidationError("Only a finished import can be undone.")
    job.status, job.undone_by = Status.UNDOING, by
    job.save(update_fields=["status", "undone_by"])
    progress_set(PROGRESS, job.pk, 0, 0, "Waiting for a worker")
    tasks.import_undo.delay_on_commit(org_id=org.pk, import_id=job.pk)
    return job


@transaction.atomic
def import_discard(*, org: Organization, job: ImportJob, by: User | None) -> None:
    """Forget an import that was never committed, and its file."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (Status.UPLOADED, Status.CHECKED, Status.FAILED):
        raise ValidationError("Only an import that has not run can be discarded.")
    path = import_path(job)
    audit_record(org=org, actor=by, action="import.discarded", target=job)
    job.delete()
    transaction.on_commit(lambda: path.unlink(missing_ok=True))


@transaction.atomic
def imports_purge(*, org: Organization, now: Any = None) -> int:
    """Forget imports left unfinished for IMPORT_KEEP_DAYS, with their files; safe to repeat.
    Finished imports stay listed, with what undo needs."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMPORT_KEEP_DAYS)
    stale = ImportJob.objects.filter(
        created_at__lt=cutoff, status__in=[Status.UPLOADED, Status.CHECKED, Status.FAILED]
    )
    paths = [import_path(job) for job in stale]
    count = len(paths)
    if count:
        stale.delete()
        audit_record(org=org, actor=None, action="import.purged", changes={"count": [None, count]})
        transaction.on_commit(lambda: _unlink(paths))
    return count


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


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
    """The records the importing member may see and so match (all of them from the shell);
    None when that member has left the organisation since."""
    found = record_model(job.entity).objects.alive()
    if job.created_by_id is None:
        return found
    membership = Membership.objects.filter(user_id=job.created_by_id).first()
    return found.visible_to(membership) if membership else None


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
            table = read_table(import_path(job))
            plan = planning.plan_import(
                job=job, table=table, visible=visible, owner_id=job.created_by_id,
                lock=commit, progress=progress,
            )  # fmt: skip
            if commit:
                _apply(org, job, plan)
    except (OperationalError, InterfaceError):
        raise  # the task retries these
    except (UnreadableFile, FileNotFoundError) as error:
        message = str(error) if isinstance(error, UnreadableFile) else "The file is gone."
        return _fail(job, message)
    except Exception:
        logger.exception("Import %s failed", job.pk)
        return _fail(job, "The import failed and wrote nothing. Try again, or split the file.")
    job.totals, job.problems, job.row_count = plan.totals(), plan.problems(), len(plan.rows)
    if commit:
        job.status, job.imported_at = Status.DONE, timezone.now()
        path = import_path(job)
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
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
    """Write the plan set-based: tags, new companies, new records, changed records, their
    tags and consent, the changes kept for undo, and a History event per record."""
    writer = _Writer(org, job, plan)
    writer.tags()
    if job.entity == "contact":
        writer.companies()
    writer.creations()
    writer.updates()
    writer.links()


class _Writer:
    def __init__(self, org: Organization, job: ImportJob, plan: planning.Plan) -> None:
        self.org, self.job, self.plan = org, job, plan
        self.model = record_model(job.entity)
        self.now = timezone.now()
        self.how = consent_how(job)
        self.created = [r for r in plan.rows if r.action == planning.CREATE]
        self.updated = [r for r in plan.rows if r.action == planning.UPDATE]
        self.tag_ids: dict[str, int] = {}
        self.company_of: dict[str, tuple[int, str]] = dict(plan.companies)
        self.written = 0

    def step(self, name: str) -> None:
        total = len(self.created) + len(self.updated)
        progress_set(PROGRESS, self.job.pk, self.written, total, name)

    def tags(self) -> None:
        names = {name for row in (*self.created, *self.updated) for name in row.tags}
        tags = tags_by_name(org=self.org, names=sorted(names), by=self.job.created_by)
        self.tag_ids = {tag.name.lower(): tag.pk for tag in tags}

    def companies(self) -> None:
        """Create the companies that rows name and none has yet, as records of this import."""
        new = self.plan.new_companies
        if not new:
            return
        self.step("Creating companies")
        ids = next_ids(Company._meta.db_table, len(new))
        records = []
        for pk, (key, name) in zip(ids, new.items(), strict=True):
            self.company_of[key] = (pk, name)
            records.append({
                "id": pk, "org_id": self.org.pk, "name": name[:200],
                "owner_id": self.job.created_by_id, "created_at": self.now,
            })  # fmt: skip
        insert_records(Company, records, with_ids=True)
        self._keep([(pk, True, {}) for pk in ids], entity="company")
        self._history(
            Company,
            "company.created",
            [(pk, n, {}) for pk, n in zip(ids, new.values(), strict=True)],
        )

    def creations(self) -> None:
        if not self.created:
            return
        self.step("Creating records")
        ids = next_ids(self.model._meta.db_table, len(self.created))
        records = []
        for pk, row in zip(ids, self.created, strict=True):
            row.record_id = pk
            record = {"id": pk, "org_id": self.org.pk, "created_at": self.now, **row.values}
            if row.company:
                record["company_id"], record["company_name"] = self.company_of[row.company.lower()]
            if row.consent:
                record["consent"] = self._consent({}, row.consent)
            records.append(record)
        insert_records(self.model, records, with_ids=True)
        self.written += len(records)
        self._keep([(row.record_id, True, {}) for row in self.created])
        events: list[tuple[int | None, str, dict[str, Any]]] = [
            (r["id"], record_repr(self.job.entity, r), {}) for r in records
        ]
        self._history(self.model, f"{self.job.entity}.created", events)

    def updates(self) -> None:
        """One UPDATE per set of columns that rows change (a file usually has a few)."""
        if not self.updated:
            return
        self.step("Updating records")
        groups: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        for row in self.updated:
            values = dict(row.values)
            if row.company:
                pk, name = self.company_of[row.company.lower()]
                values["company_id"], values["company_name"] = pk, name
                row.changes["company"][1] = pk
            if row.consent:
                before = row.changes["consent"][0]
                values["consent"] = self._consent(before, row.consent)
                row.changes["consent"][1] = values["consent"]
            values["updated_at"] = self.now
            columns = tuple(sorted(values))
            groups[columns].append([row.record_id, *(values[c] for c in columns)])
        for columns, rows in groups.items():
            update_records(self.model, columns, rows)
        self.written += len(self.updated)
        self._keep([(row.record_id, False, row.changes) for row in self.updated])
        fields = ["name"] if self.job.entity == "company" else ["first_name", "last_name", "email"]
        found = self.model.objects.filter(pk__in=[r.record_id for r in self.updated])
        names = {r["id"]: record_repr(self.job.entity, r) for r in found.values("id", *fields)}
        events = [(r.record_id, names.get(r.record_id, ""), r.changes) for r in self.updated]
        self._history(self.model, f"{self.job.entity}.updated", events)

    def links(self) -> None:
        """Tags on created and updated records, and the consent given or withdrawn."""
        self.step("Adding tags and consent")
        link, column = (
            (ContactTag, "contact_id")
            if self.job.entity == "contact"
            else (CompanyTag, "company_id")
        )
        insert_records(link, (
            {"org_id": self.org.pk, column: row.record_id, "tag_id": self.tag_ids[name.lower()]}
            for row in (*self.created, *self.updated) for name in row.tags
        ))  # fmt: skip
        if self.job.entity == "contact":
            insert_records(ConsentEvent, (
                {"org_id": self.org.pk, "contact_id": row.record_id, "purpose": purpose,
                 "granted": granted, "how": self.how, "at": self.now,
                 "recorded_by_id": self.job.created_by_id}
                for row in (*self.created, *self.updated)
                for purpose, granted in row.consent.items()
            ))  # fmt: skip

    def _consent(self, before: dict[str, Any], changed: dict[str, bool]) -> dict[str, Any]:
        return consent_with(before, changed, at=self.now, how=self.how)

    def _keep(
        self, changes: list[tuple[int | None, bool, dict[str, Any]]], entity: str = ""
    ) -> None:
        insert_records(ImportChange, (
            {"org_id": self.org.pk, "job_id": self.job.pk, "entity": entity or self.job.entity,
             "record_id": pk, "created": created, "changes": changes}
            for pk, created, changes in changes
        ))  # fmt: skip

    def _history(
        self, model: type[Any], action: str, events: list[tuple[int | None, str, dict[str, Any]]]
    ) -> None:
        insert_records(AuditEvent, (
            {"org_id": self.org.pk, "actor_id": self.job.created_by_id, "action": action,
             "object_type": model._meta.label_lower, "object_id": str(pk),
             "object_repr": text[:200],
             "changes": {**changes, "import": [None, self.job.file_name]}, "at": self.now}
            for pk, text, changes in events
        ))  # fmt: skip


def record_repr(entity: str, record: dict[str, Any]) -> str:
    if entity == "company":
        return str(record.get("name", ""))
    name = f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
    return name or record.get("email", "") or f"Contact {record['id']}"


def consent_how(job: ImportJob) -> str:
    """How consent given in an import was given: what its ConsentEvents say."""
    return f"Import of {job.file_name} (#{job.pk})"[:200]
