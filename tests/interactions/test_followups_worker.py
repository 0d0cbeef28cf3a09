"""Follow-ups through a real worker on Redis: the hook's task after a commit, and beat's run."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from crm.models import Organization, User
from crm.tasks import ping
from crm.tenancy import activate
from interactions import tasks
from interactions.models import FollowUpDue, Task
from tests.factories import ContactFactory, InteractionFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def routed(worker_queue: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # The follow-up tasks go to this test's own queue, which only its worker reads.
    for task in (tasks.followups_schedule, tasks.followups_run):
        monkeypatch.setattr(task, "_exec_options", {"queue": worker_queue})
    return worker_queue


def _eventually(org: Organization, found: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with activate(org):
            value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the worker never got there")


def test_logging_an_email_has_a_worker_write_its_check(routed, acme: Organization, alice: User):
    ada = ContactFactory(org=acme, first_name="Ada", owner=alice)
    email = InteractionFactory(org=acme, by=alice, channel="email", direction="outbound",
                               contact=ada, subject="Offer")  # fmt: skip
    due = _eventually(acme, lambda: FollowUpDue.objects.filter(interaction=email).first())
    assert (due.rule, due.done_at) == ("no_reply", None)
    assert due.due_at > email.occurred_at


def test_a_worker_runs_the_due_checks(routed, acme: Organization, alice: User):
    ada = ContactFactory(org=acme, first_name="Ada", owner=alice)
    meeting = InteractionFactory(org=acme, by=alice, channel="meeting", direction="outbound",
                                 contact=ada, subject="Kickoff")  # fmt: skip
    _eventually(acme, lambda: FollowUpDue.objects.filter(interaction=meeting).exists())
    tasks.followups_run.delay(org_id=acme.pk)  # as beat's fan-out sends it
    tasks.followups_run.delay(org_id=acme.pk)  # and once more: a second delivery
    task = _eventually(acme, lambda: Task.objects.filter(source_key__startswith="after").first())
    assert (task.title, task.assignee_id) == ("Send notes from “Kickoff”", alice.pk)
    ping.apply_async(queue=routed).get(timeout=30)  # one worker process: it ran both first
    with activate(acme):
        assert Task.objects.count() == 1
        assert FollowUpDue.objects.get(interaction=meeting).outcome == "task"
