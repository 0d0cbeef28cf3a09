"""Django's Redis cache, keeping one Redis client per connection pool.

Django's backend builds a new `redis.Redis` for every cache call, and a client's
constructor fills a table of some five hundred response callbacks: about 60 µs, several
times a page. A client is only a front for its pool (which holds the connections), so one
per pool serves every call; the backend itself is per thread, as Django keeps caches.
"""

from collections.abc import Callable
from typing import Any

from django.core.cache.backends import redis


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
