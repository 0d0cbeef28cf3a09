"""Celery beat's schedule: the platform's jobs and those the apps register, in a real beat."""

import shelve
import time
from pathlib import Path

import pytest

from crm.contributions import beat_schedule

pytestmark = pytest.mark.worker


def test_the_apps_register_their_nightly_jobs() -> None:
    jobs = beat_schedule()
    assert jobs["search-words-resync"]["args"] == ["contacts.search_words_resync"]
    assert jobs["search-words-resync"]["task"] == "crm.fan_out"


def test_a_real_beat_schedules_the_platforms_and_the_apps_jobs(
    spawn, process_env, tmp_path: Path
) -> None:
    schedule = tmp_path / "beat-schedule"
    beat = spawn("-m", "celery", "-A", "crm", "beat", "-l", "info", "--schedule", str(schedule),
                 env=process_env)  # fmt: skip
    beat.wait_for_output("beat: Starting")
    time.sleep(2)  # its scheduler is made on its first tick, and saved when it stops
    beat.stop()
    with shelve.open(str(schedule)) as saved:
        names = set(saved["entries"])
    assert {"heartbeat", "duplicates-find", "trash-purge", "search-words-resync"} <= names
