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


@shared_task(name="support.dashboard_keep", base=TenantTask, ignore_result=True)
def support_dashboard_keep(*, org_id: int, membership_id: int, key: str, first: str,
                           last: str) -> None:  # fmt: skip
    """Sent by the support dashboard when the figures it kept of a long period have aged:
    read them again for that member and keep them (support.dashboard.keep_figures)."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from crm import dashboards
    from crm.models import Membership
    from crm.tenancy import require_org
    from support import dashboard

    org = require_org()
    membership = Membership.objects.select_related("user").filter(pk=membership_id).first()
    if membership is None:  # gone since: nobody to read them for
        return
    period = dashboards.Period(key, date.fromisoformat(first), date.fromisoformat(last),
                              ZoneInfo(org.time_zone), org.fiscal_year_start_month)  # fmt: skip
    dashboard.keep_figures(dashboard.scope_for(membership, period=period))
