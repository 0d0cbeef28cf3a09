"""Support's background jobs: thin doors that activate the organisation (TenantTask) and
call a service. Each is safe to run twice."""

from celery import shared_task

from crm.tasks import TenantTask


@shared_task(name="support.sla_run", base=TenantTask, ignore_result=True)
def sla_run(*, org_id: int) -> int:
    """Sent by beat every minute in each organisation: the SLA warnings and breaches now due."""
    from crm.tenancy import require_org
    from support import sla

    return sla.sla_run(org=require_org())
