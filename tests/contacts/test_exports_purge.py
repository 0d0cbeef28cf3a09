"""contacts.exports.exports_purge and its task: export files and jobs go after a week."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from crm.models import AuditEvent, Organization, User
from crm.records import exports, tasks
from crm.records.models import ExportJob
from crm.tenancy import activate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _export(org: Organization, by: User, days_ago: int = 0) -> tuple[ExportJob, Path]:
    """A finished export, asked for `days_ago` days ago, with its file (and a leftover)."""
    with time_machine.travel(timezone.now() - timedelta(days=days_ago)), activate(org):
        job = exports.export_job_create(org=org, by=by, record_kind="contact", fmt="csv", query="")
        exports.export_run(org=org, export_id=job.pk)
        job.refresh_from_db()
    path = Path(settings.MEDIA_ROOT) / job.file
    path.with_name(f"{path.name}.partial").write_text("left by a worker that died")
    return job, path


def _jobs(org: Organization) -> list[int]:
    with activate(org):
        return list(ExportJob.objects.values_list("pk", flat=True))


def test_it_deletes_exports_older_than_a_week_with_their_files(
    acme: Organization, alice: User
) -> None:
    _, old_file = _export(acme, alice, days_ago=8)
    new, new_file = _export(acme, alice, days_ago=6)
    assert old_file.is_file()
    with activate(acme):
        assert exports.exports_purge(org=acme) == 1
        event = AuditEvent.objects.get(action="export.purged")
    assert _jobs(acme) == [new.pk]
    assert not old_file.exists()
    assert not old_file.with_name(f"{old_file.name}.partial").exists()
    assert new_file.is_file()
    assert (event.actor, event.changes) == (None, {"count": [None, 1]})


def test_it_keeps_exports_as_many_days_as_configured(
    acme: Organization, alice: User, settings: Any
) -> None:
    settings.EXPORT_KEEP_DAYS = 2
    _, path = _export(acme, alice, days_ago=3)
    with activate(acme):
        assert exports.exports_purge(org=acme) == 1
    assert _jobs(acme) == []
    assert not path.exists()


def test_it_deletes_a_job_that_never_wrote_a_file(acme: Organization, alice: User) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=8)), activate(acme):
        exports.export_job_create(org=acme, by=alice, record_kind="company", fmt="xlsx", query="")
    with activate(acme):
        assert exports.exports_purge(org=acme) == 1
    assert _jobs(acme) == []


def test_the_task_purges_only_its_organisations_exports(
    acme: Organization, globex: Organization, alice: User, charlie: User
) -> None:
    _, ours = _export(acme, alice, days_ago=8)
    theirs_job, theirs = _export(globex, charlie, days_ago=8)
    tasks.exports_purge.apply(kwargs={"org_id": acme.pk}).get()
    assert not ours.exists()
    assert theirs.is_file()
    assert _jobs(globex) == [theirs_job.pk]


def test_the_task_is_safe_to_run_twice(acme: Organization, alice: User) -> None:
    _, path = _export(acme, alice, days_ago=8)
    tasks.exports_purge.apply(kwargs={"org_id": acme.pk}).get()
    tasks.exports_purge.apply(kwargs={"org_id": acme.pk}).get()
    assert not path.exists()
    with activate(acme):
        assert AuditEvent.objects.filter(action="export.purged").count() == 1


def test_beat_runs_it_every_night_in_every_organisation() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["exports-purge"]
    assert (entry["task"], entry["args"]) == ("crm.fan_out", ["records.exports_purge"])
    assert settings.EXPORT_KEEP_DAYS == 7
