"""Sales' background jobs: thin doors that activate the organisation (TenantTask) and call
a service. Each is safe to run twice."""

from celery import shared_task

from crm.tasks import TenantTask


@shared_task(name="sales.stale_deals_run", base=TenantTask, ignore_result=True)
def stale_deals_run(*, org_id: int) -> int:
    """Sent by beat every hour in each organisation: tasks for the deals gone stale."""
    from crm.tenancy import require_org
    from sales import stale

    return stale.stale_deals_run(org=require_org())
