"""The cache (crm.cache) stores JSON, never pickles, on one Redis client per pool."""

import json
import pickle
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from crm.cache import JSONSerializer


class _Loud:
    def __reduce__(self):  # what unpickling it would run
        return (print, ("unpickled!",))


def _raw(key: str) -> bytes:
    client = cache._cache.get_client(key)  # type: ignore[attr-defined]
    return client.get(cache.make_and_validate_key(key))


def test_it_stores_json_and_reads_it_back() -> None:
    value = {"done": 3, "of": [1, 2.5, "x", None, True], "at": datetime(2026, 1, 2, tzinfo=UTC)}
    cache.set("test:json", value)
    assert json.loads(_raw("test:json")) == {
        "done": 3, "of": [1, 2.5, "x", None, True], "at": "2026-01-02T00:00:00Z"
    }  # fmt: skip
    assert cache.get("test:json")["of"] == [1, 2.5, "x", None, True]


def test_numbers_stay_numbers_that_redis_can_count() -> None:
    cache.set("test:count", 41)
    assert cache.incr("test:count") == 42
    assert cache.get("test:count") == 42
    cache.set("test:text", "42")
    assert cache.get("test:text") == "42"


def test_it_never_unpickles_what_it_reads(capsys: pytest.CaptureFixture[str]) -> None:
    """A pickle (an earlier version's session, or someone's payload) is a miss."""
    client = cache._cache.get_client("test:pickle", write=True)  # type: ignore[attr-defined]
    client.set(cache.make_and_validate_key("test:pickle"), pickle.dumps(_Loud()))
    assert cache.get("test:pickle") is None
    assert "unpickled!" not in capsys.readouterr().out


def test_it_refuses_to_store_what_json_cannot_say() -> None:
    with pytest.raises(TypeError):
        JSONSerializer().dumps(object())
