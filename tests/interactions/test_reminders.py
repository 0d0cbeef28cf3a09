"""interactions.reminders: a task's reminder becomes one notification and one email, however
often and in however many workers the run goes."""

import threading
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.core import mail
from django.db import connection
from django.utils import timezone

from crm.contributions import beat_schedule
from crm.tenancy import activate
from interactions.models import Notification, Task
from interactions.reminders import RESEND_AFTER, notification_email, reminders_run
from interactions.services import task_complete
from interactions.tasks import reminders_run as reminders_job
from tests.factories import TaskFactory, trash

pytestmark = pytest.mark.django_db


def _due(acme, by, owner=None, **values):
    """A task whose reminder went off a minute ago."""
    values.setdefault("reminder_at", timezone.now() - timedelta(minutes=1))
    return TaskFactory(org=acme, by=by, owner=owner, **values)


def _run(acme, capture, now=None):
    with activate(acme), capture(execute=True):  # its emails, sent after the commit
        return reminders_run(org=acme, now=now)


def _notifications(acme):
    with activate(acme):
        return list(Notification.objects.filter(kind="reminder"))


def test_a_due_reminder_is_one_notification_and_one_email(
    acme, alice, rita, django_capture_on_commit_callbacks
) -> None:
    task = _due(acme, alice, owner=rita, title="Call Ada")
    assert _run(acme, django_capture_on_commit_callbacks) == 1
    (note,) = _notifications(acme)
    assert (note.user_id, note.title, note.task_id) == (rita.pk, "Reminder: Call Ada", task.pk)
    assert note.url == f"/o/acme/tasks/{task.pk}/"
    assert not note.email_pending
    (email,) = mail.outbox
    assert (email.to, email.subject) == (["rita@acme.test"], "Reminder: Call Ada")
    assert f"/o/acme/tasks/{task.pk}/" in email.body


def test_the_email_gives_the_due_time_as_the_organisation_reads_it(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    acme.time_zone = "Pacific/Auckland"
    acme.save()
    due = timezone.now().replace(month=3, day=4, hour=12, minute=0, second=0, microsecond=0)
    _due(acme, alice, owner=alice, due_at=due.replace(year=2030))  # 01:00 the next day there
    _run(acme, django_capture_on_commit_callbacks)
    assert "Due Tuesday 5 March, 01:00." in mail.outbox[0].body


def test_running_again_sends_nothing_more(acme, alice, django_capture_on_commit_callbacks) -> None:
    task = _due(acme, alice, owner=alice)
    _run(acme, django_capture_on_commit_callbacks)
    assert _run(acme, django_capture_on_commit_callbacks) == 0
    assert len(_notifications(acme)) == 1
    assert len(mail.outbox) == 1
    with activate(acme):
        assert Task.objects.get(pk=task.pk).reminded_at is not None


def test_a_reminder_without_an_assignee_goes_to_its_maker(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    _due(acme, alice)
    _run(acme, django_capture_on_commit_callbacks)
    assert [n.user_id for n in _notifications(acme)] == [alice.pk]
    assert mail.outbox[0].to == ["alice@acme.test"]


def test_a_future_reminder_sends_nothing_yet(acme, alice, django_capture_on_commit_callbacks):
    task = _due(acme, alice, owner=alice, reminder_at=timezone.now() + timedelta(minutes=5))
    assert _run(acme, django_capture_on_commit_callbacks) == 0
    assert not _notifications(acme)
    assert not mail.outbox
    later = timezone.now() + timedelta(minutes=6)
    assert _run(acme, django_capture_on_commit_callbacks, now=later) == 1
    assert [n.task_id for n in _notifications(acme)] == [task.pk]


def test_a_done_or_trashed_task_sends_nothing(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    done, gone = _due(acme, alice, owner=alice), _due(acme, alice, owner=alice)
    with activate(acme):
        task_complete(org=acme, task=done, by=alice)
    trash(acme, gone, by=alice)
    assert _run(acme, django_capture_on_commit_callbacks) == 0
    assert not _notifications(acme)
    assert not mail.outbox


def test_an_email_is_sent_once_however_often_it_is_asked_for(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    _due(acme, alice, owner=alice)
    with activate(acme):
        reminders_run(org=acme)  # its email not sent yet (no commit)
        (note,) = Notification.objects.all()
        assert notification_email(org=acme, notification_id=note.pk) is True
        assert notification_email(org=acme, notification_id=note.pk) is False
        note.refresh_from_db()
    assert len(mail.outbox) == 1
    assert not note.email_pending
    assert note.emailed_at is not None


def test_an_email_pending_too_long_is_sent_by_the_next_run(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    _due(acme, alice, owner=alice)
    with activate(acme):
        reminders_run(org=acme)  # the email's task lost with the broker: never sent
    _run(acme, django_capture_on_commit_callbacks)  # too soon to send it again
    assert not mail.outbox
    later = timezone.now() + RESEND_AFTER + timedelta(seconds=1)
    _run(acme, django_capture_on_commit_callbacks, now=later)
    assert len(mail.outbox) == 1
    assert not _notifications(acme)[0].email_pending


def test_beat_runs_the_reminders_every_minute_in_every_organisation(
    acme, alice, django_capture_on_commit_callbacks
) -> None:
    job = beat_schedule()["reminders"]
    assert (job["task"], job["args"]) == ("crm.fan_out", ["interactions.reminders_run"])
    assert job["schedule"] == crontab()
    _due(acme, alice, owner=alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_job.delay(org_id=acme.pk).get() == 1
    assert len(_notifications(acme)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)  # two real transactions claiming the same rows
def test_two_runs_at_once_write_each_reminder_once(acme, alice, rita) -> None:
    tasks = [_due(acme, alice, owner=rita, title=f"Call {n}") for n in range(8)]
    claimed, finished, counts = threading.Event(), threading.Event(), {}

    def run(name: str, batch: int, wait_for: threading.Event, then: threading.Event) -> None:
        try:
            with activate(acme):  # one transaction: its claims stay locked until it ends
                if name == "second":
                    wait_for.wait(10)
                counts[name] = reminders_run(org=acme, batch=batch)
                then.set()
                if name == "first":
                    wait_for.wait(10)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=("first", 3, finished, claimed)),
               threading.Thread(target=run, args=("second", 100, claimed, finished))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counts == {"first": 3, "second": 5}
    assert sorted(n.task_id for n in _notifications(acme)) == sorted(t.pk for t in tasks)
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Reminder: Call {n}" for n in range(8))
