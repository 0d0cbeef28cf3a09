"""Readiness checks for /healthz: can we reach the database and the broker right now?"""

import redis
from django.conf import settings
from django.db import DatabaseError, connection

TIMEOUT_SECONDS = 2


def database_status() -> str:
    """'ok' when PostgreSQL answers a query, else the reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return f"unreachable: {type(error).__name__}"
    return "ok"


def broker_status() -> str:
    """'ok' when the Celery broker (Redis) answers a PING, else the reason."""
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"unreachable: {type(error).__name__}"
    finally:
        client.close()
    return "ok"
