"""The record machinery's background jobs: thin doors that activate the organisation and call
a service."""

from celery import shared_task

from crm.records import duplicates, exports, trash
from crm.records.imports import services as imports
from crm.records.imports import undo
from crm.tasks import TenantTask
from crm.tenancy import require_org


@shared_task(name="records.export_run", base=TenantTask, ignore_result=True)
def export_run(*, org_id: int, export_id: int) -> None:
    """Write an export's file; running it again rewrites the same file, or does nothing."""
    exports.export_run(org=require_org(), export_id=export_id)


@shared_task(name="records.exports_purge", base=TenantTask, ignore_result=True)
def exports_purge(*, org_id: int) -> int:
    """Delete exports (files and jobs) older than EXPORT_KEEP_DAYS; safe to repeat."""
    return exports.exports_purge(org=require_org())


@shared_task(name="records.import_read", base=TenantTask, ignore_result=True)
def import_read(*, org_id: int, import_id: int) -> None:
    """Read an uploaded file's header and first rows, with memory capped; safe to repeat."""
    imports.import_read(org=require_org(), import_id=import_id)


@shared_task(name="records.import_check", base=TenantTask, ignore_result=True)
def import_check(*, org_id: int, import_id: int) -> None:
    """The dry run: plan every row of an import and keep the report; safe to repeat."""
    imports.import_check(org=require_org(), import_id=import_id)


@shared_task(name="records.import_commit", base=TenantTask, ignore_result=True)
def import_commit(*, org_id: int, import_id: int) -> None:
    """Write an import, all of it or nothing; a second run finds it done and does nothing."""
    imports.import_commit(org=require_org(), import_id=import_id)


@shared_task(name="records.import_undo", base=TenantTask, ignore_result=True)
def import_undo(*, org_id: int, import_id: int) -> None:
    """Undo a finished import as a whole; a second run finds it undone and does nothing."""
    undo.import_undo(org=require_org(), import_id=import_id)


@shared_task(name="records.imports_purge", base=TenantTask, ignore_result=True)
def imports_purge(*, org_id: int) -> int:
    """Forget imports left unfinished for IMPORT_KEEP_DAYS, and their files; safe to repeat."""
    return imports.imports_purge(org=require_org())


@shared_task(name="records.duplicates_find", base=TenantTask, ignore_result=True)
def duplicates_find(*, org_id: int) -> dict[str, int]:
    """List likely duplicates of every kind; running it again finds the same pairs."""
    return duplicates.duplicates_find(org=require_org())


@shared_task(name="records.trash_purge", base=TenantTask, ignore_result=True)
def trash_purge(*, org_id: int) -> dict[str, int]:
    """Delete for good what has been in the Trash for more than TRASH_DAYS; safe to repeat."""
    return trash.trash_purge(org=require_org())
