import os
import subprocess
import sys

from django.conf import settings

from tests.conftest import ROOT


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import crm.settings as s; print('DEBUG', s.DEBUG)"],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_it_refuses_a_missing_secret_key_with_debug_off() -> None:
    result = _import_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_keeps_debug_off_unless_set() -> None:
    assert _import_settings(SECRET_KEY="x" * 50).stdout.strip() == "DEBUG False"
    assert _import_settings(DEBUG="true").stdout.strip() == "DEBUG True"


def test_it_configures_celery_for_safe_redelivery() -> None:
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT


def test_it_keeps_the_cache_apart_from_the_broker() -> None:
    assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL


def test_manage_py_says_which_setting_is_missing_in_one_line() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env = {**clean, "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "crm.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("manage.py: SECRET_KEY must be set when DEBUG is off")
    assert "make manage" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_manage_stops_at_the_first_failure_with_manage_py_s_own_words(
    process_env: dict[str, str],
) -> None:
    env = {k: v for k, v in process_env.items() if k != "SECRET_KEY"}  # DEBUG is false there
    result = subprocess.run(
        [sys.executable, "-m", "crm.dev", "manage", "check"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "manage.py: SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "Traceback" not in result.stderr  # not the migrate's, nor crm.dev's around it
    assert "System check" not in result.stdout  # the command after the migrate did not run
