"""Undoing an import as a whole: its new records go to the Trash, its changes are reversed.

A field goes back to its value before the import only where it still holds what the
import wrote: a change someone made since the import is kept.
"""

import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from contacts.imports.services import PROGRESS, consent_how, record_model, record_repr
from contacts.models import (
    Company,
    CompanyTag,
    ConsentEvent,
    Contact,
    ContactTag,
    ImportChange,
    ImportJob,
    Tag,
)
from crm.audit import audit_record
from crm.models import AuditEvent, Organization
from crm.progress import progress_clear, progress_set
from crm.staging import insert_records, update_records

logger = logging.getLogger(__name__)

Status = ImportJob.Status
CHUNK = 5_000


def import_undo(*, org: Organization, import_id: int) -> ImportJob | None:
    """Reverse a finished import: its new records go to the Trash, and each field it
    changed goes back to its earlier value, unless someone has changed it since."""
    job = ImportJob.objects.select_for_update().filter(pk=import_id).first()
    if job is None or job.status != Status.UNDOING:
        return job
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: a failure changes nothing but the job
            for entity in ("contact", "company"):
                _trash_created(org, job, entity, now)
            _restore(org, job, now)
    except (OperationalError, InterfaceError):
        raise  # the task retries these
    except Exception:
        logger.exception("Undo of import %s failed", job.pk)
        job.status, job.error = Status.DONE, "The undo failed and changed nothing: try again."
        job.save(update_fields=["status", "error"])
        progress_clear(PROGRESS, job.pk)
        return job
    job.status, job.undone_at, job.error = Status.UNDONE, now, ""
    job.save(update_fields=["status", "undone_at", "error"])
    audit_record(org=org, actor=job.undone_by, action="import.undone", target=job)
    progress_clear(PROGRESS, job.pk)
    return job


def _trash_created(org: Organization, job: ImportJob, entity: str, now: Any) -> None:
    """Move the records the import created to the Trash, each with the event in its History,
    as records_trash would, set-based."""
    model = record_model(entity)
    created = ImportChange.objects.filter(job=job, entity=entity, created=True)
    alive = model.objects.filter(pk__in=created.values("record_id"), deleted_at__isnull=True)
    fields = ["name"] if entity == "company" else ["first_name", "last_name", "email"]
    records = list(alive.values("id", *fields))
    model.objects.filter(pk__in=[r["id"] for r in records]).update(deleted_at=now, updated_at=now)
    insert_records(AuditEvent, (
        {"org_id": org.pk, "actor_id": job.undone_by_id, "action": f"{entity}.trashed",
         "object_type": model._meta.label_lower, "object_id": str(r["id"]),
         "object_repr": record_repr(entity, r)[:200],
         "changes": {"import undone": [None, job.file_name]}, "at": now}
        for r in records
    ))  # fmt: skip


def _restore(org: Organization, job: ImportJob, now: Any) -> None:
    model = record_model(job.entity)
    changes = ImportChange.objects.filter(job=job, created=False).order_by("pk")
    total = changes.count()
    done = 0
    for chunk in _chunks(changes.values_list("record_id", "changes"), CHUNK):
        current = {
            record["id"]: record
            for record in model.objects.filter(pk__in=[pk for pk, _ in chunk]).values()
        }
        restorer = _Restorer(org, job, model, current, now)
        for record_id, change in chunk:
            if record_id in current:
                restorer.restore(record_id, change)
        restorer.write()
        done += len(chunk)
        progress_set(PROGRESS, job.pk, done, total, "Restoring records")


def _chunks(rows: Any, size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows.iterator(chunk_size=size):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Restorer:
    """Undo of one chunk of updated records, field by field, written set-based."""

    def __init__(self, org: Organization, job: ImportJob, model: type[Any],
                 current: dict[int, dict[str, Any]], now: Any) -> None:  # fmt: skip
        self.org, self.job, self.model, self.current, self.now = org, job, model, current, now
        self.values: dict[int, dict[str, Any]] = {}
        self.untag: dict[str, list[int]] = defaultdict(list)  # tag name -> records
        self.consent_reset: list[int] = []
        self.events: list[dict[str, Any]] = []

    def restore(self, record_id: int, change: dict[str, list[Any]]) -> None:
        """Put back each field the import changed, where it still holds the import's value."""
        record, values, undone = self.current[record_id], {}, {}
        for name, (before, after) in change.items():
            if name == "tags":
                for tag in set(after) - set(before):
                    self.untag[tag.lower()].append(record_id)
                undone[name] = [after, before]
            elif name == "custom":
                custom = dict(record["custom"])
                for key, value in after.items():
                    if custom.get(key) != value or before.get(key) == value:
                        continue  # changed again since, or not by the import
                    if key in before:
                        custom[key] = before[key]
                    else:
                        del custom[key]
                if custom != record["custom"]:
                    values["custom"], undone[name] = custom, [record["custom"], custom]
            elif name == "consent":
                if record["consent"] == after:
                    values["consent"], undone[name] = before, [after, before]
                    self.consent_reset.append(record_id)
            else:
                column = f"{name}_id" if name in ("owner", "company") else name
                if record[column] == after:
                    values[column], undone[name] = before, [after, before]
        if values:
            self.values[record_id] = values
        if undone:
            self.events.append({
                "org_id": self.org.pk, "actor_id": self.job.undone_by_id,
                "action": f"{self.job.entity}.updated",
                "object_type": self.model._meta.label_lower, "object_id": str(record_id),
                "object_repr": record_repr(self.job.entity, record)[:200],
                "changes": {**undone, "import undone": [None, self.job.file_name]}, "at": self.now,
            })  # fmt: skip

    def write(self) -> None:
        companies = {v["company_id"] for v in self.values.values() if v.get("company_id")}
        names = dict(Company.objects.filter(pk__in=companies).values_list("pk", "name"))
        groups: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        for record_id, values in self.values.items():
            if "company_id" in values:  # search reads the company's name on the contact
                values["company_name"] = names.get(values["company_id"], "")
            values["updated_at"] = self.now
            columns = tuple(sorted(values))
            groups[columns].append([record_id, *(values[c] for c in columns)])
        for columns, rows in groups.items():
            update_records(self.model, columns, rows)
        link, column = (
            (ContactTag, "contact_id") if self.model is Contact else (CompanyTag, "company_id")
        )
        tags = Tag.objects.annotate(lower=Lower("name")).filter(lower__in=list(self.untag))
        for tag in tags:
            records = self.untag[tag.lower]
            link.objects.filter(tag=tag, **{f"{column}__in": records}).delete()
        if self.consent_reset:
            ConsentEvent.objects.filter(
                contact_id__in=self.consent_reset, how=consent_how(self.job)
            ).delete()
        insert_records(AuditEvent, self.events)
