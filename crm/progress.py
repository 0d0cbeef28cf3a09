"""How far a long task has got, readable by the page that polls it while the task runs.

A tenant task runs in one transaction (crm.tasks.TenantTask), so a row it updates shows
nothing to other connections until it ends. Progress therefore goes through the cache,
under a key of the active organisation, and the page reads it from there.
"""

from dataclasses import dataclass

from django.core.cache import cache

from crm.tenancy import cache_key

TIMEOUT = 6 * 3600


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    step: str = ""  # what the task is doing now, as the page says it

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


def _key(kind: str, pk: int) -> str:
    return cache_key("progress", kind, pk)


def progress_set(kind: str, pk: int, done: int, total: int, step: str = "") -> None:
    """Record that the task working on (kind, pk) has done `done` of `total`."""
    cache.set(_key(kind, pk), (done, total, step), timeout=TIMEOUT)


def progress_get(kind: str, pk: int) -> Progress | None:
    """The last progress recorded for (kind, pk), or None when there is none."""
    found = cache.get(_key(kind, pk))
    return Progress(int(found[0]), int(found[1]), str(found[2])) if found else None


def progress_clear(kind: str, pk: int) -> None:
    cache.delete(_key(kind, pk))
