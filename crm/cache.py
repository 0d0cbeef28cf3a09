"""Django's Redis cache, keeping one Redis client per connection pool, storing JSON.

Django's backend builds a new `redis.Redis` for every cache call, and a client's
constructor fills a table of some five hundred response callbacks: about 60 µs, several
times a page. A client is only a front for its pool (which holds the connections), so one
per pool serves every call; the backend itself is per thread, as Django keeps caches.

Values are stored as JSON, never pickled: a pickle in Redis is code that runs when it is
read, so whoever could write to Redis could run code in every web and worker process.
What the product caches (sessions, rate limits, custom field definitions, progress) is
plain data.
"""

import json
from collections.abc import Callable
from typing import Any

from django.core.cache.backends import redis
from django.core.serializers.json import DjangoJSONEncoder


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


class RedisCache(redis.RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client
