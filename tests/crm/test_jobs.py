"""crm.jobs: a job whose task shows no sign of life is called stalled on its page and sent
again, waiting twice as long after each try; a running task's heartbeat keeps it alive."""

import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, TestCase
from django.utils import timezone

from contacts.models import Contact
from crm import jobs
from crm.models import Organization, User
from crm.records.imports import services as imports
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.contacts.imports import csv_bytes, media, upload

pytestmark = pytest.mark.django_db

PEOPLE = csv_bytes([["Name", "Email"], ["Ada Lovelace", "ada@example.com"]])


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    media(settings, tmp_path)


def _start_check(org: Organization, by: User) -> ImportJob:
    """An import whose dry run was sent to a worker that never ran it (tasks run here only
    when sent by jobs_resume)."""
    job = upload(org, by, PEOPLE)
    with activate(org), TestCase.captureOnCommitCallbacks(execute=False):
        imports.import_check_start(
            org=org, job=job, by=by, mapping=job.mapping, mode="upsert", match_by="email"
        )
    with activate(org):
        jobs.on_sent("import", job.pk)()  # noted as sent, but lost on the way: never run
        return ImportJob.objects.get(pk=job.pk)


def test_a_job_lost_on_the_way_is_called_stalled_and_sent_again(
    client: Client, rita: User, acme: Organization
) -> None:
    job = _start_check(acme, rita)
    client.force_login(rita)
    with activate(acme):
        assert jobs.stalled_for("import", job.pk) is None
    assert "Stalled" not in client.get(f"/o/acme/imports/{job.pk}/").content.decode()
    later = timezone.now() + timedelta(seconds=100)
    with time_machine.travel(later, tick=False):
        page = client.get(f"/o/acme/imports/{job.pk}/").content.decode()
        assert "no worker has worked on this for 100 seconds" in page
        assert jobs.jobs_resume() == 1  # the dry run runs here, as a worker would
    with activate(acme):
        assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CHECKED
        assert not Contact.objects.exists()


def test_each_try_waits_twice_as_long_as_the_last(rita: User, acme: Organization) -> None:
    job = _start_check(acme, rita)
    now = time.time()
    with activate(acme):
        assert not jobs.due_again("import", job.pk, now + 60)
        assert jobs.due_again("import", job.pk, now + 91)
        with time_machine.travel(now + 91, tick=False):
            jobs.sent("import", job.pk, again=True)
        assert not jobs.due_again("import", job.pk, now + 91 + 179)
        assert jobs.due_again("import", job.pk, now + 91 + 181)


def test_a_running_task_beats_and_is_never_stalled_meanwhile(
    rita: User, acme: Organization
) -> None:
    job = _start_check(acme, rita)
    start = time.time()
    with activate(acme):
        with time_machine.travel(start + 500, tick=False), jobs.Heartbeat("import", job.pk):
            assert jobs.stalled_for("import", job.pk, start + 500) is None
        assert jobs.stalled_for("import", job.pk, start + 560) is None
        assert jobs.stalled_for("import", job.pk, start + 600) == 100


def test_nothing_is_sent_again_for_finished_jobs(rita: User, acme: Organization) -> None:
    upload(acme, rita, PEOPLE)  # read: waiting for its mapping, which no task works on
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        assert jobs.jobs_resume() == 0
