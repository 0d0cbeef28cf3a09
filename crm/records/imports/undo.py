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

from crm.audit import audit_many, audit_record
from crm.models import Organization
from crm.progress import progress_clear, progress_set
from crm.records import registry
from crm.records.imports.importer import Importer
from crm.records.imports.plan import importer_of
from crm.records.imports.services import PROGRESS
from crm.records.models import ImportChange, ImportJob
from crm.staging import update_records

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
            created = ImportChange.objects.filter(job=job, created=True)
            for key in sorted(set(created.values_list("record_kind", flat=True))):
                _trash_created(org, job, registry.kind(key), now)
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


def _trash_created(org: Organization, job: ImportJob, kind: registry.Kind, now: Any) -> None:
    """Move the records of a kind the import created to the Trash, each with the event in its
    History, as moving them one by one would, set-based."""
    manager = kind.model._default_manager
    created = ImportChange.objects.filter(job=job, record_kind=kind.key, created=True)
    alive = manager.filter(pk__in=created.values("record_id"), deleted_at__isnull=True)
    describe = _describer(kind)
    records = list(alive.values("id", *_repr_fields(kind)))
    manager.filter(pk__in=[r["id"] for r in records]).update(deleted_at=now, updated_at=now)
    audit_many(
        org=org, actor=job.undone_by, action=f"{kind.key}.trashed", model=kind.model,
        events=[(r["id"], describe(r), {"import undone": [None, job.file_name]})
                for r in records],
    )  # fmt: skip


def _repr_fields(kind: registry.Kind) -> tuple[str, ...]:
    return kind.imports.repr_fields if kind.imports else ()


def _describer(kind: registry.Kind) -> Any:
    if kind.imports:
        return kind.imports.describe
    return lambda record: f"#{record['id']}"


def _restore(org: Organization, job: ImportJob, now: Any) -> None:
    kind = registry.kind(job.record_kind)
    changes = ImportChange.objects.filter(job=job, created=False).order_by("pk")
    total = changes.count()
    done = 0
    for chunk in _chunks(changes.values_list("record_id", "changes"), CHUNK):
        current = {
            record["id"]: record
            for record in kind.model._default_manager.filter(
                pk__in=[pk for pk, _ in chunk]
            ).values()
        }
        restorer = Restorer(org, job, kind, current, now)
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


class Restorer:
    """Undo of one chunk of updated records, field by field, written set-based; the kind's
    importer undoes its own parts through it."""

    def __init__(self, org: Organization, job: ImportJob, kind: registry.Kind,
                 current: dict[int, dict[str, Any]], now: Any) -> None:  # fmt: skip
        self.org, self.job, self.kind, self.current, self.now = org, job, kind, current, now
        self.importer: Importer = importer_of(kind)
        self.values: dict[int, dict[str, Any]] = {}
        self.untag: dict[str, list[int]] = defaultdict(list)  # tag name -> records
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        self.extra: dict[str, list[int]] = defaultdict(list)  # for the importer's own parts

    def restore(self, record_id: int, change: dict[str, list[Any]]) -> None:
        """Put back each field the import changed, where it still holds the import's value."""
        record = self.current[record_id]
        values: dict[str, Any] = {}
        undone: dict[str, Any] = {}
        for name, (before, after) in change.items():
            if self.importer.restore(self, record, name, before, after, values, undone):
                continue
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
            else:
                column = self.kind.model._meta.get_field(name).attname  # type: ignore[union-attr]
                if record[column] == after:
                    values[column], undone[name] = before, [after, before]
        if values:
            self.values[record_id] = values
        if undone:
            changes = {**undone, "import undone": [None, self.job.file_name]}
            self.events.append((record_id, self.importer.describe(record), changes))

    def write(self) -> None:
        groups: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        self.importer.restored_values(self.values)
        for record_id, values in self.values.items():
            values["updated_at"] = self.now
            columns = tuple(sorted(values))
            groups[columns].append([record_id, *(values[c] for c in columns)])
        for columns, rows in groups.items():
            update_records(self.kind.model, columns, rows)
        if self.kind.tags is not None and self.untag:
            link, column = self.kind.tags.link, self.kind.tags.column
            tag_model = self.kind.tags.tag_model._default_manager
            for tag in tag_model.annotate(lower=Lower("name")).filter(lower__in=list(self.untag)):
                records = self.untag[tag.lower]
                link._default_manager.filter(tag=tag, **{f"{column}__in": records}).delete()
        self.importer.undo_last(self)
        audit_many(
            org=self.org, actor=self.job.undone_by, action=f"{self.kind.key}.updated",
            model=self.kind.model, events=self.events,
        )  # fmt: skip
