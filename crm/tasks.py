"""Platform tasks, and the base class every tenant task uses."""

import logging
from typing import Any

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from crm import jobs, schedule
from crm.models import Organization
from crm.tenancy import activate

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "platform:beat-heartbeat"


class TenantTask(DjangoTask):
    """A task that works inside one organisation: it takes `org_id` and runs activated.

    The whole body runs in one transaction with both walls up, so it sees and writes only
    that organisation's rows. A database that is briefly unreachable is retried with
    backoff; the task must be safe to run twice (it is acknowledged late).
    """

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        org_id = kwargs.get("org_id")
        if org_id is None:
            raise TypeError(f"{self.name} is a tenant task: call it with org_id=…")
        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            return None  # the organisation was deleted since the task was sent
        with activate(org):
            job = jobs.job_of_task(self.name)
            if job is None:
                return super().__call__(*args, **kwargs)
            with jobs.Heartbeat(job[0], kwargs[job[1]]):
                return super().__call__(*args, **kwargs)


# Sending a task tries the broker three times within about half a second: a page waits no
# longer than that on a Redis that is down.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.3}


def enqueue(name: str, **kwargs: Any) -> None:
    """Send the task registered as `name` once the current transaction commits, so that a
    rolled-back write sends nothing. By name: a service needs no import of the tasks module
    that calls it back (the apps import their tasks when they are ready).

    The write has committed by then: if the broker cannot be reached, the page still
    answers, and the task is logged as not sent. A job's task is sent again by
    `crm.jobs.jobs_resume` once the broker is back.
    """
    from crm.celery import app

    task: Any = app.tasks[name]
    job = jobs.job_of_task(name)
    noted = jobs.on_sent(job[0], kwargs[job[1]]) if job else None

    def sending() -> None:
        if send(task, kwargs) and noted:
            noted()

    transaction.on_commit(sending)


def send(task: Any, kwargs: dict[str, Any]) -> bool:
    """Send a task now; False, logged, if the broker cannot be reached."""
    try:
        task.apply_async(kwargs=kwargs, retry_policy=PUBLISH_RETRY)
    except (KombuOperationalError, RedisError, OSError) as error:
        logger.warning("Could not send %s %s: %s", task.name, kwargs, error)
        return False
    return True


@shared_task(name="crm.fan_out", ignore_result=True)
def fan_out(task_name: str, **kwargs: Any) -> int:
    """Send `task_name` once per organisation: how beat runs a tenant job everywhere."""
    return schedule.fan_out(task_name, **kwargs)


@shared_task(name="crm.catch_up", ignore_result=True)
def catch_up() -> list[str]:
    """Sent by beat every five minutes: run each job for every organisation that an outage
    let slip (crm.schedule)."""
    return schedule.catch_up()


@shared_task(name="crm.ping")
def ping() -> dict[str, str]:
    """Answer from a worker, having touched the database: proves the worker path end to end."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"pong": timezone.now().isoformat()}


@shared_task(name="crm.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat every minute; the time it last ran shows that beat and a worker are alive."""
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)


@shared_task(name="crm.invitation_send", base=TenantTask, ignore_result=True)
def invitation_send(*, org_id: int, invitation_id: int, accept_url: str) -> None:
    from crm.services import invitation_send_mail

    invitation_send_mail(invitation_id=invitation_id, accept_url=accept_url)


@shared_task(name="crm.jobs_resume", ignore_result=True)
def jobs_resume() -> int:
    """Sent by beat every minute: send again the task of every job that has stalled."""
    return jobs.jobs_resume()
