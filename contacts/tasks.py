"""Contacts' background jobs: thin doors that activate the organisation and call a service."""

from celery import shared_task

from contacts import services
from crm.tasks import TenantTask
from crm.tenancy import require_org


@shared_task(name="contacts.trash_purge", base=TenantTask, ignore_result=True)
def trash_purge(*, org_id: int) -> dict[str, int]:
    """Delete for good what has been in the Trash for more than 30 days; safe to repeat."""
    return services.trash_purge(org=require_org())


@shared_task(name="contacts.export_run", base=TenantTask, ignore_result=True)
def export_run(*, org_id: int, export_id: int) -> None:
    """Write an export's file; running it again rewrites the same file, or does nothing."""
    from contacts import exports  # it sends this task

    exports.export_run(org=require_org(), export_id=export_id)


@shared_task(name="contacts.exports_purge", base=TenantTask, ignore_result=True)
def exports_purge(*, org_id: int) -> int:
    """Delete exports (files and jobs) older than EXPORT_KEEP_DAYS; safe to repeat."""
    from contacts import exports  # it sends export_run

    return exports.exports_purge(org=require_org())


@shared_task(name="contacts.import_check", base=TenantTask, ignore_result=True)
def import_check(*, org_id: int, import_id: int) -> None:
    """The dry run: plan every row of an import and keep the report; safe to repeat."""
    from contacts.imports import services as imports  # it sends this task

    imports.import_check(org=require_org(), import_id=import_id)


@shared_task(name="contacts.import_commit", base=TenantTask, ignore_result=True)
def import_commit(*, org_id: int, import_id: int) -> None:
    """Write an import, all of it or nothing; a second run finds it done and does nothing."""
    from contacts.imports import services as imports

    imports.import_commit(org=require_org(), import_id=import_id)


@shared_task(name="contacts.import_undo", base=TenantTask, ignore_result=True)
def import_undo(*, org_id: int, import_id: int) -> None:
    """Undo a finished import as a whole; a second run finds it undone and does nothing."""
    from contacts.imports import undo

    undo.import_undo(org=require_org(), import_id=import_id)


@shared_task(name="contacts.imports_purge", base=TenantTask, ignore_result=True)
def imports_purge(*, org_id: int) -> int:
    """Forget imports left unfinished for IMPORT_KEEP_DAYS, and their files; safe to repeat."""
    from contacts.imports import services as imports

    return imports.imports_purge(org=require_org())


@shared_task(name="contacts.duplicates_find", base=TenantTask, ignore_result=True)
def duplicates_find(*, org_id: int) -> dict[str, int]:
    """List likely duplicate contacts and companies; running it again finds the same pairs."""
    from contacts import duplicates

    return duplicates.duplicates_find(org=require_org())


@shared_task(name="contacts.search_words_resync", base=TenantTask, ignore_result=True)
def search_words_resync(*, org_id: int) -> dict[str, int]:
    """Mend the organisation's table of search words; safe to repeat."""
    return services.search_words_resync(org=require_org())
