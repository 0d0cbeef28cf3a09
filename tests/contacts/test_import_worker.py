"""An import through a real worker on Redis: the tasks' arguments, their transactions, and a
second delivery of the same task."""

import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache

from contacts.models import Contact
from crm import jobs
from crm.models import Organization, User
from crm.records import tasks
from crm.records.imports import services
from crm.records.models import ImportJob
from crm.tasks import ping
from crm.tenancy import activate, cache_key
from tests.conftest import ROOT
from tests.contacts.imports import csv_bytes, upload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _shared_media(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> None:
    # The worker reads the uploaded file where this test wrote it.
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def routed(worker_queue: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # The import tasks go to this test's own queue, which only its worker reads.
    for task in (tasks.import_read, tasks.import_check, tasks.import_commit, tasks.import_undo):
        monkeypatch.setattr(task, "_exec_options", {"queue": worker_queue})
    return worker_queue


def _wait(org: Organization, job: ImportJob, status: str) -> ImportJob:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with activate(org):
            job = ImportJob.objects.get(pk=job.pk)
        if job.status == status:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the import stayed {job.status}, not {status}: {job.error}")


def _in(org: Organization, action: Callable[..., Any], job: ImportJob, by: User) -> None:
    with activate(org):
        action(org=org, job=job, by=by)


def test_a_worker_checks_imports_and_ignores_a_second_delivery(
    routed: str, acme: Organization, alice: User
) -> None:
    data = csv_bytes([["Name", "Email"], ["Ada Lovelace", "ada@example.com"], ["Bo", "bo@x.org"]])
    job = _wait(acme, upload(acme, alice, data), ImportJob.Status.UPLOADED)  # read by the worker
    assert job.samples == [["Ada Lovelace", "ada@example.com"], ["Bo", "bo@x.org"]]
    with activate(acme):
        services.import_check_start(
            org=acme, job=job, by=alice, mapping=job.mapping, mode="upsert", match_by="email"
        )
    job = _wait(acme, job, ImportJob.Status.CHECKED)
    assert job.totals["created"] == 2
    _in(acme, services.import_commit_start, job, alice)
    job = _wait(acme, job, ImportJob.Status.DONE)
    tasks.import_commit.delay(org_id=acme.pk, import_id=job.pk)  # delivered a second time
    ping.apply_async(queue=routed).get(timeout=30)  # one worker process: it ran the task first
    with activate(acme):
        assert sorted(Contact.objects.values_list("email", flat=True)) == [
            "ada@example.com", "bo@x.org"
        ]  # fmt: skip
    _in(acme, services.import_undo_start, job, alice)
    _wait(acme, job, ImportJob.Status.UNDONE)
    with activate(acme):
        assert not Contact.objects.alive().exists()


def test_an_import_whose_worker_is_killed_resumes_on_the_next_worker(
    spawn: Callable[..., Any], process_env: dict[str, str], not_eager: None,
    monkeypatch: pytest.MonkeyPatch, settings: Any, acme: Organization, alice: User,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings.JOB_STALE_SECONDS = 2
    queue = f"test-{uuid.uuid4().hex[:8]}"
    for task in (tasks.import_read, tasks.import_check):
        monkeypatch.setattr(task, "_exec_options", {"queue": queue})

    def worker(cwd: Path = ROOT) -> Any:
        child = spawn(
            "-m", "celery", "-A", "crm", "worker", "-Q", queue, "--pool", "prefork",
            "--concurrency", "1", "--without-heartbeat", "--without-gossip",
            "--without-mingle", "-l", "info", env={**process_env, "PYTHONPATH": str(ROOT)},
            cwd=cwd,
        )  # fmt: skip
        child.wait_for_output("ready.")
        return child

    first = worker()
    rows = [["Name", "Email"]] + [[f"P {n}", f"p{n}@example.com"] for n in range(60_000)]
    job = _wait(acme, upload(acme, alice, csv_bytes(rows)), ImportJob.Status.UPLOADED)
    with activate(acme):
        services.import_check_start(
            org=acme, job=job, by=alice, mapping=job.mapping, mode="upsert", match_by="email"
        )
    _wait_for_beat(acme, job)
    os.killpg(first.proc.pid, signal.SIGKILL)  # the whole worker, mid-task
    first.proc.wait()
    with activate(acme):
        assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CHECKING
    # The next worker runs from another folder, as another container would: it finds the
    # file by MEDIA_ROOT, which web and workers share, not by where it started.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    worker(cwd=elsewhere)
    time.sleep(settings.JOB_STALE_SECONDS + 1)
    assert jobs.jobs_resume() == 1  # what beat sends every minute
    job = _wait(acme, job, ImportJob.Status.CHECKED)
    assert job.totals["created"] == 60_000


def _wait_for_beat(org: Organization, job: ImportJob) -> None:
    """Until the worker has started the job's task (its heartbeat is in the cache)."""
    deadline = time.monotonic() + 60
    with activate(org):
        key = cache_key("job-beat", "import", job.pk)
    while cache.get(key) is None:
        assert time.monotonic() < deadline, "the worker never started the task"
        time.sleep(0.05)
