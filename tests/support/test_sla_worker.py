"""The SLA job through real workers on Redis: SIGKILL the worker in the middle of a batch of
40 breached tickets, and no threshold is lost and none is recorded twice.

How the test gets there:

- The hold is in the database. The test's own connection writes, without committing, the
  notification the worker is to write for the HOLD-th ticket (the same unique key). The
  worker's insert then waits for the test's transaction, having done the tickets before it
  in its run; the test sees it waiting (pg_stat_activity), and kills it there.
- The run is one transaction (the tenant task's): the test then rolls back, the worker's
  insert goes through, and its server process, finding no client to answer, ends and rolls
  back the whole run. The test waits for that process to be gone: until then it still
  holds the claimed tickets' locks, and a run would skip them (SKIP LOCKED).
- As in tests/interactions/test_reminders_worker.py: tasks go to a queue of this test's
  own (CELERY_QUEUE), the first worker dies whole (os.killpg) so that its task stays
  unacknowledged in Redis until the second, told to take the queue (add_consumer), puts it
  back (CELERY_RESTORE_SECONDS) once it is older than the visibility timeout (16 s here).
- The test waits on events (the worker waiting, its process gone, the breaches recorded,
  a ping after a second run), never on a guessed delay.
"""

import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from crm.celery import app
from crm.models import Organization, Role, User
from crm.tasks import ping
from crm.tenancy import activate
from interactions.models import Notification
from support.models import BusinessCalendar, SlaPolicy, SlaTarget, Ticket, TicketEvent
from support.tasks import sla_run
from tests.conftest import Child, member
from tests.factories import QueueFactory, TicketFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TICKETS = 40
HOLD = 25  # the ticket the first worker is killed at


def _policy(org: Organization) -> None:
    """Answer within the hour, every day, or the lead and the managers hear of it and the
    priority goes up; solve within a hundred hours."""
    with activate(org):
        calendar = BusinessCalendar.objects.create(org=org, name="Always",
                                                   weekly=[[[0, 1440]]] * 7)  # fmt: skip
        policy = SlaPolicy.objects.create(
            org=org, name="Standard", calendar=calendar, is_default=True,
            notify_lead=True, notify_managers=True, raise_priority=True,
        )  # fmt: skip
        for priority in ("low", "normal", "high", "urgent"):
            SlaTarget.objects.create(org=org, policy=policy, priority=priority,
                                     first_response_minutes=60,
                                     resolution_minutes=6000)  # fmt: skip


def _waiting_on_the_test(timeout: float) -> int | None:
    """The server process of a worker that waits for this test's transaction: its insert of
    the notification the test wrote, the one row the transaction holds. (pg_locks, not
    pg_stat_activity, which a transaction reads once.)"""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_locks"
                " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if row := cursor.fetchone():
                return int(row[0])
            time.sleep(0.05)
    return None


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return True
            time.sleep(0.1)
    return False


def _breaches(org: Organization) -> int:
    with activate(org):
        return TicketEvent.objects.filter(kind="breached").count()


def _logs(*workers: Child) -> str:
    return "\n".join(f"--- {w.log.name}:\n{w.output()[-3000:]}" for w in workers)


def test_a_worker_killed_mid_batch_loses_no_breach_and_records_none_twice(
    start_worker: Callable[..., Child], queue: str, acme: Organization, sam: User,
    alice: User,
) -> None:  # fmt: skip
    first = start_worker("first")  # they start while the tickets are written
    second = start_worker("second", restore_seconds=1, reads=f"{queue}-standby")
    mia = member(acme, "mia@acme.test", Role.MANAGER, "Mia Moss")
    _policy(acme)
    billing = QueueFactory(org=acme, name="Billing", lead=alice)
    opened = timezone.now() - timedelta(hours=2)  # the first response an hour overdue
    tickets = [TicketFactory(org=acme, queue=billing, owner=sam, at=opened + timedelta(seconds=n))
               for n in range(TICKETS)]  # fmt: skip
    held = f"sla:{tickets[HOLD - 1].pk}:first_response:near:{sam.pk}"
    first.wait_for_output("ready.")
    second.wait_for_output("ready.")

    with transaction.atomic():  # the test's transaction, never committed
        with activate(acme):
            Notification.objects.create(org=acme, user=sam, kind="sla_warning", key=held,
                                        title="Held by the test")  # fmt: skip
        sla_run.apply_async(kwargs={"org_id": acme.pk}, queue=queue)  # as beat sends it
        pid = _waiting_on_the_test(timeout=90)
        assert pid is not None, _logs(first)
        os.killpg(first.proc.pid, signal.SIGKILL)  # the worker and its pool process, at once
        first.proc.wait()
        transaction.set_rollback(True)
    assert _gone(pid, timeout=30)
    assert _breaches(acme) == 0  # the run died whole: the tickets before the hold went too

    taken = app.control.add_consumer(queue, destination=[f"second@{queue}"], reply=True,
                                     timeout=30)  # fmt: skip
    assert taken, _logs(second)
    deadline = time.monotonic() + 90
    while _breaches(acme) < TICKETS and time.monotonic() < deadline:
        time.sleep(0.2)
    sla_run.apply_async(kwargs={"org_id": acme.pk}, queue=queue)  # beat's next minute
    ping.apply_async(queue=queue).get(timeout=30)  # one worker process: that run is done

    with activate(acme):
        events = Counter(TicketEvent.objects.exclude(key="").values_list("ticket_id", "key"))
        keys = Counter(Notification.objects.filter(key__startswith="sla:")
                       .values_list("key", flat=True))  # fmt: skip
        priorities = set(Ticket.objects.values_list("priority", flat=True))
    assert max(events.values()) == 1  # none twice
    assert max(keys.values()) == 1
    assert set(events) == {(t.pk, f"first_response:{stage}") for t in tickets
                           for stage in ("near", "breach")}, _logs(first, second)  # fmt: skip
    assert set(keys) == {
        *(f"sla:{t.pk}:first_response:near:{sam.pk}" for t in tickets),
        *(f"sla:{t.pk}:first_response:breach:{user.pk}" for t in tickets
          for user in (sam, alice, mia)),
    }  # fmt: skip
    assert priorities == {"high"}  # raised once, from normal
