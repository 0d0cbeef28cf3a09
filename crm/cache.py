"""Django's Redis cache, keeping one Redis client per connection pool, storing JSON.

Django's backend builds a new `redis.Redis` for every cache call, and a client's
constructor fills a table of some five hundred response callbacks: about 60 µs, several
times a page. A client is only a front for its pool (which holds the connections), so one
per pool serves every call; the backend itself is per thread, as Django keeps caches.

Values are stored as JSON, never pickled: a pickle in Redis is code that runs when it is
read, so whoever could write to Redis could run code in every web and worker process.
What the product caches (sessions, rate limits, custom field definitions, progress) is
plain data.

A cache that cannot be reached is a cache that misses: a read answers its default, a
write is dropped, and the product carries on from the database (sessions are kept there
too). After a failure the process leaves Redis alone for RETRY_AFTER seconds, so that a
page does not wait on a dead server once per cache call. What that costs while Redis is
down: rate limits and the sign-in wait do not hold, and progress bars stand still.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends import redis
from django.core.serializers.json import DjangoJSONEncoder
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0


class JSONSerializer:
    """Cache values as JSON; an int stays a plain number, so that INCR works on it (as
    Django's own serializer does), and reads back as one. What is not JSON (a pickle left
    by an earlier version, or written by someone else) reads as a miss, never as code."""

    def dumps(self, value: Any) -> bytes | int:
        if type(value) is int:
            return value
        return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        try:
            return int(data)
        except ValueError:
            pass
        try:
            return json.loads(data)
        except ValueError:  # not UTF-8, or not JSON
            return None


class _Breaker:
    """Whether to leave Redis alone for now, shared by the process's threads."""

    def __init__(self) -> None:
        self.until = 0.0
        self.lock = threading.Lock()

    def open(self) -> bool:
        return time.monotonic() < self.until

    def trip(self, error: Exception) -> None:
        with self.lock:
            if not self.open():
                logger.warning(
                    "The cache cannot be reached (%s): carrying on without it for %ss",
                    error, RETRY_AFTER,
                )  # fmt: skip
            self.until = time.monotonic() + RETRY_AFTER


BREAKER = _Breaker()


def _soft(fallback: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a cache call, or answer `fallback(*args)` when Redis cannot be reached."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, *args: Any) -> Any:
            if BREAKER.open():
                return fallback(*args)
            try:
                return method(self, *args)
            except RedisError as error:
                BREAKER.trip(error)
                return fallback(*args)

        return call

    return wrap


class _Client(redis.RedisCacheClient):
    # Django's own, which its type stubs leave out.
    _client: Callable[..., Any]
    _get_connection_pool: Callable[[bool], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        found = self._clients.get(id(pool))
        if found is None:
            found = self._clients[id(pool)] = self._client(connection_pool=pool)
        return found

    # Each call misses, or is dropped, when Redis cannot be reached.
    add = _soft(lambda key, value, timeout: True)(redis.RedisCacheClient.add)
    get = _soft(lambda key, default: default)(redis.RedisCacheClient.get)
    set = _soft(lambda key, value, timeout: None)(redis.RedisCacheClient.set)
    touch = _soft(lambda key, timeout: False)(redis.RedisCacheClient.touch)
    delete = _soft(lambda key: False)(redis.RedisCacheClient.delete)
    get_many = _soft(lambda keys: {})(redis.RedisCacheClient.get_many)
    has_key = _soft(lambda key: False)(redis.RedisCacheClient.has_key)
    incr = _soft(lambda key, delta: delta)(redis.RedisCacheClient.incr)
    set_many = _soft(lambda data, timeout: [])(redis.RedisCacheClient.set_many)
    delete_many = _soft(lambda keys: None)(redis.RedisCacheClient.delete_many)
    clear = _soft(lambda: False)(redis.RedisCacheClient.clear)


class RedisCache(redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client


# --- Rows kept per organisation, read again after a change ----------------------------------
# Read by many pages, changed rarely (custom field definitions, canned replies' names, the
# segments of a filter): kept under the organisation's key and a version that the services
# changing them move on (org_forget), once when they write and once when that commits, so
# that a read racing the write is never served after it. Plain rows, not model instances,
# which a deploy may change.

ROWS_TIMEOUT = 300


def org_rows(name: str, read: Callable[[], list[Any]], *, part: str = "") -> list[Any]:
    """`read()`'s rows for the active organisation, from the cache while `name` is
    unchanged."""
    from django.core.cache import cache

    key = f"{_org_key(name, part)}:{_version(name)}"
    rows = cache.get(key)
    if rows is None:
        rows = read()
        cache.set(key, rows, timeout=ROWS_TIMEOUT)
    return list(rows)


def org_forget(name: str) -> None:
    """Move `name`'s version on now, and again once the change is committed."""
    from django.core.cache import cache
    from django.db import transaction

    key = _org_key(f"{name}-version")

    def bump() -> None:
        cache.add(key, 1, timeout=None)
        cache.incr(key)

    bump()
    transaction.on_commit(bump)


def _version(name: str) -> int:
    from django.core.cache import cache

    key = _org_key(f"{name}-version")
    version = cache.get(key)
    if version is None:  # the first read of the organisation, or the cache was cleared
        cache.add(key, 1, timeout=None)
        version = cache.get(key)
    return int(version or 1)


def _org_key(name: str, part: str = "") -> str:
    from crm.tenancy import cache_key  # the tenancy's models load after this backend

    return cache_key(name, part) if part else cache_key(name)
