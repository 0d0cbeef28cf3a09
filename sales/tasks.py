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


@shared_task(name="sales.dashboard_keep", base=TenantTask, ignore_result=True)
def dashboard_keep(
    *, org_id: int, membership_id: int, key: str, first: str, last: str, pipeline_id: int,
    owner_id: int | None, team_id: int | None,
) -> None:  # fmt: skip
    """Sent by the pipeline dashboard when the figures it kept of a long period have aged:
    read them again for that member, pipeline, owner or team (crm.dashboards.Keeper)."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from crm import dashboards
    from crm.models import Membership, Team, User
    from crm.tenancy import require_org
    from sales import dashboard
    from sales.models import Pipeline, Stage

    org = require_org()
    membership = Membership.objects.select_related("user").filter(pk=membership_id).first()
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if membership is None or pipeline is None:  # gone since: nothing to read them for
        return
    period = dashboards.Period(key, date.fromisoformat(first), date.fromisoformat(last),
                              ZoneInfo(org.time_zone), org.fiscal_year_start_month)  # fmt: skip
    scope = dashboard.scope_for(
        membership, pipeline=pipeline, period=period,
        stages=list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id")),
        owner=User.objects.filter(pk=owner_id).first() if owner_id else None,
        team=Team.objects.filter(pk=team_id).first() if team_id else None,
    )  # fmt: skip
    dashboard.KEEPER.keep(scope)
