"""Beat's jobs for every organisation: sending one out to each, and running again a job
whose night an outage let slip (Redis or the workers down when beat sent it)."""

import logging
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from crm.models import Organization, ScheduledRun

logger = logging.getLogger(__name__)


def fan_out(task_name: str, **kwargs: Any) -> int:
    """Send `task_name` once per organisation, and note when; how many were sent."""
    from crm.celery import app

    org_ids = list(Organization.objects.values_list("pk", flat=True))
    for org_id in org_ids:
        app.signature(task_name, kwargs={**kwargs, "org_id": org_id}).delay()
    ScheduledRun.objects.update_or_create(task=task_name, defaults={"last_run_at": timezone.now()})
    return len(org_ids)


def catch_up() -> list[str]:
    """Run now each job for every organisation whose last run is older than its last
    scheduled time, or that never ran; which ones. The jobs are safe to run again."""
    from crm.contributions import beat_schedule

    last = dict(ScheduledRun.objects.values_list("task", "last_run_at"))
    caught = []
    for entry in {**settings.CELERY_BEAT_SCHEDULE, **beat_schedule()}.values():
        schedule, args = entry["schedule"], entry.get("args")
        if entry["task"] != "crm.fan_out" or not isinstance(schedule, crontab):
            continue
        task_name = str(args[0]) if isinstance(args, list | tuple) else ""
        ran = last.get(task_name)
        if ran is None:
            logger.info("Running %s for the first time", task_name)
        elif _every_minute(schedule):
            continue  # beat's next minute is its catch-up: it claims all that is due
        elif schedule.is_due(ran).is_due:
            logger.warning("Running %s now: its last scheduled run was missed", task_name)
        else:
            continue
        fan_out(task_name)
        caught.append(task_name)
    return caught


def _every_minute(schedule: crontab) -> bool:
    """A job beat sends every minute (reminders, follow-ups), which nothing can let slip for
    long enough to need catching up."""
    minutes, hours = getattr(schedule, "minute", ()), getattr(schedule, "hour", ())
    return len(minutes) == 60 and len(hours) == 24
