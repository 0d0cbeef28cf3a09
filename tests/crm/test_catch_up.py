"""crm.catch_up: a nightly job that an outage let slip runs once the outage is over, and only
then; a job that ran as scheduled does not run again."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from contacts.models import Contact
from crm.contributions import beat_schedule
from crm.models import Organization, ScheduledRun
from crm.tasks import catch_up
from crm.tenancy import activate
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _nightly() -> list[str]:
    """Every job beat sends to every organisation, the apps' included."""
    entries = {**settings.CELERY_BEAT_SCHEDULE, **beat_schedule()}.values()
    return [str(e["args"][0]) for e in entries if e["task"] == "crm.fan_out"]


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo("UTC"))


def _ran(task: str, when: datetime) -> None:
    ScheduledRun.objects.update_or_create(task=task, defaults={"last_run_at": when})


def test_a_missed_night_runs_once_the_outage_is_over(acme: Organization) -> None:
    with activate(acme):
        binned = ContactFactory(org=acme)
        Contact.objects.filter(pk=binned.pk).update(deleted_at=_at(11, 1, 9))
    for task in _nightly():
        _ran(task, _at(12, 2, 4, 45))  # ran last night...
    _ran("records.trash_purge", _at(12, 1, 3, 15))  # ...but the purge, due at 03:15, was lost
    with time_machine.travel(_at(12, 2, 1), tick=False):
        assert catch_up() == []  # before 03:15 on the 2nd, nothing was missed
    with time_machine.travel(_at(12, 2, 5, 5), tick=False):
        assert catch_up() == ["records.trash_purge"]
        assert catch_up() == []  # it ran: not again
    with activate(acme):
        assert not Contact.objects.filter(pk=binned.pk).exists()
    assert ScheduledRun.objects.get(task="records.trash_purge").last_run_at == _at(12, 2, 5, 5)


def test_a_job_that_never_ran_runs(acme: Organization) -> None:
    caught = catch_up()
    assert set(caught) == set(_nightly())
    assert set(caught) == set(ScheduledRun.objects.values_list("task", flat=True))
    assert catch_up() == []


def test_it_leaves_the_jobs_of_every_minute_to_beat_once_they_have_run(acme) -> None:
    # Reminders and follow-ups run every minute: ten minutes without them is beat's next
    # tick, not a missed night, and catching up would only run them once more.
    for task in _nightly():
        _ran(task, _at(12, 2, 4, 45))
    with time_machine.travel(_at(12, 2, 4, 55), tick=False):
        assert catch_up() == []
    assert "interactions.reminders_run" in _nightly()
