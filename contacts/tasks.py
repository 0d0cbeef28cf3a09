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
