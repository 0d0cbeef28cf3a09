"""A segment's refresh through real workers on Redis: SIGKILL the worker in the middle of one,
and the members stay as they were until the next refresh brings them up to the rules; start
a second refresh while one runs, and it skips.

How the tests get there:

- The hold is in the database. The test's own connection writes, without committing, the
  member row a refresh is about to insert for one of the newcomers (the same unique key).
  The worker's INSERT … SELECT then waits for the test's transaction, holding the
  segment's lock, its run and its temporary table written but not committed; the test
  sees it waiting (pg_stat_activity: wait_event_type 'Lock').
- The task is one transaction (the tenant task's): killed there, its server process, once
  the test rolls back and the insert goes through, finds no client to answer, ends and
  rolls back the whole refresh. The test waits for that process to be gone.
- As in tests/support/test_sla_worker.py: tasks go to a queue of this test's own
  (CELERY_QUEUE); the first worker dies whole (os.killpg) so that its task stays
  unacknowledged in Redis until the second, told to take the queue (add_consumer), puts it
  back (CELERY_RESTORE_SECONDS) once it is older than the visibility timeout (16 s here).
- For the overlap, the second worker reads a queue of its own: the test sends the second
  refresh there while the first is held with the segment's advisory lock (pg_locks), and a
  ping sent after it on that queue answers once the second refresh has run.
- The tests wait on events (the worker waiting, its process gone, the run recorded, a
  ping), never on a guessed delay.
"""

import os
import re
import signal
import time
from collections.abc import Callable
from typing import NamedTuple

import pytest
from django.db import connection, transaction

from contacts.models import Contact, Segment, SegmentMember, SegmentRun, SegmentSpell
from contacts.segments import rules, services
from contacts.tasks import segment_refresh
from crm.celery import app
from crm.models import Organization, User
from crm.tasks import ping
from crm.tenancy import activate
from tests.conftest import Child
from tests.factories import ContactFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEADS = 30  # the segment's members before
MOVED = 10  # of them become customers: the refresh removes them
NEW = 10  # leads added since: the refresh adds them
THE_LEADS = {"match": "all", "rules": [{"field": "lifecycle", "op": "is", "value": "lead"}]}


class Leads(NamedTuple):
    segment: Segment
    before: list[int]  # its members, refreshed
    moved: list[int]  # of them, customers now
    newcomers: list[int]  # leads since


def _leads_changed_since_refreshed(org: Organization, by: User) -> Leads:
    """A segment of the leads, refreshed with LEADS members; then MOVED of them become
    customers and NEW leads arrive, so that its next refresh both removes and adds."""
    before = [ContactFactory(org=org, lifecycle="lead").pk for _ in range(LEADS)]
    with activate(org):
        segment = services.segment_save(org=org, by=by, name="Leads", rules_tree=THE_LEADS,
                                        schedule=Segment.Schedule.MANUAL)  # fmt: skip
        assert services.segment_refresh(org=org, segment_id=segment.pk) is not None
        Contact.objects.filter(pk__in=before[:MOVED]).update(lifecycle="customer")
    newcomers = [ContactFactory(org=org, lifecycle="lead").pk for _ in range(NEW)]
    return Leads(segment, before, before[:MOVED], newcomers)


def _hold(org: Organization, leads: Leads) -> None:
    """In the test's open transaction: the member row a refresh would add for the last
    newcomer, so that the refresh's insert waits for this transaction."""
    with activate(org):
        SegmentMember.objects.create(org=org, segment=leads.segment,
                                     contact_id=leads.newcomers[-1])  # fmt: skip


def _send(org: Organization, segment: Segment, queue: str) -> str:
    sent = segment_refresh.apply_async(kwargs={"org_id": org.pk, "segment_id": segment.pk},
                                       queue=queue)  # fmt: skip
    return str(sent.id)


def _inserting_behind_the_test(timeout: float) -> int | None:
    """The server process of a worker whose insert of members waits for this test's
    transaction. pg_stat_activity is read afresh each time: a transaction reads it once."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND query LIKE %s"
                " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))",
                ["%INSERT INTO contacts_segmentmember%"],
            )
            if row := cursor.fetchone():
                return int(row[0])
            time.sleep(0.05)
    return None


def _holds_the_lock(pid: int, segment: Segment) -> bool:
    """Whether the server process `pid` holds the segment's refresh lock (an advisory lock
    on two keys: classid and objid, objsubid 2)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s"
            " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 2",
            [pid, services.LOCK_CLASS, segment.pk],
        )
        return cursor.fetchone() is not None


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return True
            time.sleep(0.1)
    return False


def _runs(org: Organization, segment: Segment) -> list[SegmentRun]:
    with activate(org):
        return list(SegmentRun.objects.filter(segment=segment).order_by("pk"))


def _wait_for_run(org: Organization, segment: Segment, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_runs(org, segment)) >= count:
            return True
        time.sleep(0.2)
    return False


def _members(org: Organization, segment: Segment) -> list[int]:
    """The segment's contacts, sorted, each as many times as it has a member row."""
    with activate(org):
        members = SegmentMember.objects.filter(segment=segment)
        return sorted(members.values_list("contact_id", flat=True))


def _matching(org: Organization, segment: Segment) -> list[int]:
    """The contacts its rules pick, sorted."""
    with activate(org):
        chosen = Contact.objects.alive().filter(rules.compile_rules(rules.validate(segment.rules)))
        return sorted(chosen.values_list("pk", flat=True))


def _spells(org: Organization, segment: Segment) -> dict[int, list[bool]]:
    """Each contact's spells in the segment, oldest first: False for a past one, True for
    the one they are in now (their member row)."""
    with activate(org):
        spells: dict[int, list[bool]] = {}
        past = SegmentSpell.objects.filter(segment=segment).order_by("entered_at", "pk")
        for contact_id in past.values_list("contact_id", flat=True):
            spells.setdefault(contact_id, []).append(False)
        for contact_id in SegmentMember.objects.filter(segment=segment).values_list(
            "contact_id", flat=True
        ):
            spells.setdefault(contact_id, []).append(True)
        return spells


def _returned(worker: Child, task_id: str) -> str | None:
    """What the task returned, as the worker logs it (the results are not kept)."""
    found = re.search(rf"\[{task_id}\] succeeded in [\d.]+s: (\w+)", worker.output())
    return found[1] if found else None


def _logs(*workers: Child) -> str:
    return "\n".join(f"--- {w.log.name}:\n{w.output()[-3000:]}" for w in workers)


def test_a_refresh_killed_midway_leaves_the_members_as_they_were_and_the_next_completes_it(
    start_worker: Callable[..., Child], queue: str, acme: Organization, alice: User
) -> None:
    first = start_worker("first")  # they start while the contacts are written
    second = start_worker("second", restore_seconds=1, reads=f"{queue}-standby")
    leads = _leads_changed_since_refreshed(acme, alice)
    segment = leads.segment
    first.wait_for_output("ready.")
    second.wait_for_output("ready.")

    with transaction.atomic():  # the test's transaction, never committed
        _hold(acme, leads)
        _send(acme, segment, queue)
        pid = _inserting_behind_the_test(timeout=90)
        assert pid is not None, _logs(first)
        assert _holds_the_lock(pid, segment)
        os.killpg(first.proc.pid, signal.SIGKILL)  # the worker and its pool process, at once
        first.proc.wait()
        transaction.set_rollback(True)
    assert _gone(pid, timeout=30)
    # The refresh died whole: no member, spell, count or run of it is left.
    assert _members(acme, segment) == sorted(leads.before)
    assert _spells(acme, segment) == {pk: [True] for pk in leads.before}
    assert [run.status for run in _runs(acme, segment)] == ["done"]
    with activate(acme):
        segment.refresh_from_db()
    assert segment.size == LEADS

    taken = app.control.add_consumer(queue, destination=[f"second@{queue}"], reply=True,
                                     timeout=30)  # fmt: skip
    assert taken, _logs(second)
    assert _wait_for_run(acme, segment, count=2, timeout=90), _logs(first, second)
    run = _runs(acme, segment)[-1]
    assert (run.status, run.size, run.added, run.removed) == ("done", LEADS, NEW, MOVED)
    members = _members(acme, segment)
    assert members == _matching(acme, segment)
    assert set(members) == set(leads.before) - set(leads.moved) | set(leads.newcomers)
    assert _spells(acme, segment) == {
        **{pk: [True] for pk in leads.before}, **{pk: [False] for pk in leads.moved},
        **{pk: [True] for pk in leads.newcomers},
    }  # fmt: skip
    with activate(acme):
        segment.refresh_from_db()
    assert segment.size == LEADS


def test_a_second_refresh_while_one_runs_skips_and_the_members_come_out_right(
    start_worker: Callable[..., Child], queue: str, acme: Organization, alice: User
) -> None:
    # Long enough for the first refresh to wait while the second runs, on a busy machine.
    first = start_worker("first", time_limit=60)
    second = start_worker("second", reads=f"{queue}-second", time_limit=60)
    leads = _leads_changed_since_refreshed(acme, alice)
    segment = leads.segment
    first.wait_for_output("ready.")
    second.wait_for_output("ready.")

    with transaction.atomic():  # the test's transaction, never committed
        _hold(acme, leads)
        _send(acme, segment, queue)
        pid = _inserting_behind_the_test(timeout=90)
        assert pid is not None, _logs(first)
        assert _holds_the_lock(pid, segment)  # the first refresh runs, midway
        skipped = _send(acme, segment, f"{queue}-second")
        ping.apply_async(queue=f"{queue}-second").get(timeout=30)  # it ran before the ping
        assert _returned(second, skipped) == "None", _logs(second)  # skipped: no run's id
        assert len(_runs(acme, segment)) == 1  # the second wrote no run; the first's is not in
        assert _holds_the_lock(pid, segment)  # and the first still runs
        transaction.set_rollback(True)
    assert _wait_for_run(acme, segment, count=2, timeout=30), _logs(first, second)
    ping.apply_async(queue=queue).get(timeout=30)

    runs = _runs(acme, segment)
    assert [(r.status, r.added, r.removed) for r in runs] == [("done", LEADS, 0),
                                                             ("done", NEW, MOVED)]  # fmt: skip
    members = _members(acme, segment)
    assert members == _matching(acme, segment)  # each once
    assert set(members) == set(leads.before) - set(leads.moved) | set(leads.newcomers)
