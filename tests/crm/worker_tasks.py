"""Tasks that exist only for the real-worker tests; the worker loads them with --include."""

import os

import redis
from celery import shared_task
from django.conf import settings

from crm.tasks import TenantTask
from crm.tenancy import require_org


@shared_task(name="tests.crash_once")
def crash_once(counter_key: str) -> int:
    """Kill the worker process running it on the first delivery; succeed on the next."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    deliveries = int(client.incr(counter_key))
    client.expire(counter_key, 600)
    if deliveries == 1:
        os._exit(1)  # as a crash or the OOM killer would: no cleanup, no acknowledgement
    return deliveries


@shared_task(name="tests.note_org", base=TenantTask)
def note_org(*, org_id: int) -> None:
    """Record an audit event in whatever organisation the task runs in."""
    from crm.audit import audit_record

    audit_record(org=require_org(), actor=None, action="test.fanned_out")
