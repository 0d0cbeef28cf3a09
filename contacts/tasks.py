"""Contacts' background jobs: thin doors that activate the organisation and call a service."""

from celery import shared_task

from contacts import services
from crm.tasks import TenantTask
from crm.tenancy import require_org


@shared_task(name="contacts.search_words_resync", base=TenantTask, ignore_result=True)
def search_words_resync(*, org_id: int) -> dict[str, int]:
    """Mend the organisation's table of search words; safe to repeat."""
    return services.search_words_resync(org=require_org())
