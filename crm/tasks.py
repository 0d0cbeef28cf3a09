"""Platform tasks: health checks for the worker and beat."""

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "platform:beat-heartbeat"


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
