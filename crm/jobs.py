"""Long jobs (an import, an export) that finish even when the worker running them dies.

A job is a row whose status says which task works on it. While that task runs it beats
(`Heartbeat`: a thread writes the time to the cache every BEAT_EVERY seconds, which the
task's own transaction could not show). A job whose status says a task should be working
on it, but with no beat and no sending for STALE_AFTER seconds, is stalled: its page says
so, and `jobs_resume`, which beat runs every minute, sends its task again, waiting twice as
long after each try. Every such task is safe to run twice: a second run finds the job
done, or locked by the first and then done.

The worker of a stalled job may have been killed outright (its task waits in Redis for the
broker's visibility timeout, an hour), or the broker was down when the task was sent.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models

from crm.tenancy import cache_key

logger = logging.getLogger(__name__)

BEAT_EVERY = 15
# Sent again at most after this many tries' doubling: 90 s, 3 min, 6 min… 48 min.
MOST_DOUBLINGS = 5


@dataclass(frozen=True)
class Resumable:
    """A kind of job: its model, and for each status that some task works on, that task
    (which takes `org_id` and the job's id as `id_arg`)."""

    key: str
    model: type[models.Model]
    tasks: dict[str, str]
    id_arg: str


_KINDS: dict[str, Resumable] = {}


def register(key: str, model: type[models.Model], tasks: dict[str, str], id_arg: str) -> None:
    _KINDS[key] = Resumable(key, model, tasks, id_arg)


def kinds() -> list[Resumable]:
    return list(_KINDS.values())


def job_of_task(task_name: str) -> tuple[str, str] | None:
    """(job kind, id argument) of the task that works on a kind of job, if it is one."""
    for kind in _KINDS.values():
        if task_name in kind.tasks.values():
            return kind.key, kind.id_arg
    return None


def stale_after() -> int:
    return int(settings.JOB_STALE_SECONDS)


# --- Signs of life ------------------------------------------------------------------------


def _beat_key(kind: str, pk: int) -> str:
    return cache_key("job-beat", kind, pk)


def _sent_key(kind: str, pk: int) -> str:
    return cache_key("job-sent", kind, pk)


def sent(kind: str, pk: int, *, again: bool = False) -> None:
    """Note that the job's task was just sent (`again`: by `jobs_resume`, once more)."""
    tries = _tries(kind, pk) + 1 if again else 0
    cache.set(_sent_key(kind, pk), [time.time(), tries], timeout=None)


def on_sent(kind: str, pk: int) -> Callable[[], None]:
    """`sent`, for later: the key is taken now, while the organisation is active (a task
    is sent once the request's transaction commits, after that)."""
    key = _sent_key(kind, pk)
    return lambda: cache.set(key, [time.time(), 0], timeout=None)


def _tries(kind: str, pk: int) -> int:
    found = cache.get(_sent_key(kind, pk))
    return int(found[1]) if found else 0


def stalled_for(kind: str, pk: int, now: float | None = None) -> int | None:
    """Seconds since the job last showed a sign of life, when that is more than STALE_AFTER
    (None while it is alive). With no sign at all (the cache lost them), STALE_AFTER."""
    now = time.time() if now is None else now
    beat, sending = cache.get(_beat_key(kind, pk)), cache.get(_sent_key(kind, pk))
    signs = [float(beat)] if beat else []
    if sending:
        signs.append(float(sending[0]))
    quiet = now - max(signs) if signs else stale_after()
    return int(quiet) if quiet >= stale_after() else None


def due_again(kind: str, pk: int, now: float | None = None) -> bool:
    """Whether a stalled job's task should be sent again now: stalled for STALE_AFTER,
    doubled for each time it was sent again already."""
    quiet = stalled_for(kind, pk, now)
    if quiet is None:
        return False
    return quiet >= stale_after() * 2 ** min(_tries(kind, pk), MOST_DOUBLINGS)


class Heartbeat:
    """While the block runs, write the time under the job's key every BEAT_EVERY seconds,
    from a thread of its own (the task's transaction hides the job's row meanwhile)."""

    def __init__(self, kind: str, pk: int) -> None:
        self.key = _beat_key(kind, pk)  # here, where the organisation is active
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beating, name=f"heartbeat {kind} {pk}")
        self.thread.daemon = True

    def _beat(self) -> None:
        cache.set(self.key, time.time(), timeout=stale_after() * 100)

    def _beating(self) -> None:
        while not self.done.wait(BEAT_EVERY):
            self._beat()

    def __enter__(self) -> "Heartbeat":
        self._beat()
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        self._beat()


# --- Sending stalled jobs again -----------------------------------------------------------


def jobs_resume(now: float | None = None) -> int:
    """In every organisation, send again the task of each job that has stalled; how many
    were sent. One indexed query per kind of job and organisation."""
    from crm.celery import app
    from crm.models import Organization
    from crm.tasks import send
    from crm.tenancy import activate

    count = 0
    for org in Organization.objects.all():
        with activate(org):
            for kind in _KINDS.values():
                found = kind.model._default_manager.filter(status__in=list(kind.tasks))
                for pk, status in found.values_list("pk", "status"):
                    if not due_again(kind.key, pk, now):
                        continue
                    name = kind.tasks[status]
                    logger.warning("Sending %s again for %s %s: it stalled", name, kind.key, pk)
                    if send(app.tasks[name], {"org_id": org.pk, kind.id_arg: pk}):
                        sent(kind.key, pk, again=True)
                        count += 1
    return count
