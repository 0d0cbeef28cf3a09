"""Production settings: `check --deploy` is clean when the environment says HTTPS, pages
send a Permissions-Policy, and gunicorn does not name itself."""

import os
import secrets
import subprocess
import sys
import time
import urllib.request

import pytest
from django.test import Client

from tests.conftest import ROOT

HTTPS = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "crm.example.com",
    "BEHIND_TLS_PROXY": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def test_the_deploy_check_is_clean_with_production_settings() -> None:
    # The browser tests allow sync ORM calls inside Playwright's loop for this process;
    # a deployment never has that switch.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**inherited, "DJANGO_SETTINGS_MODULE": "crm.settings", **HTTPS}
    found = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert found.returncode == 0, found.stdout + found.stderr
    assert "no issues" in found.stdout


@pytest.mark.django_db
def test_every_page_refuses_the_features_no_page_uses(client: Client, alice) -> None:
    for response in (client.get("/accounts/login/"), client.get("/healthz")):
        policy = response.headers["Permissions-Policy"]
        assert "camera=()" in policy
        assert "geolocation=()" in policy


@pytest.mark.worker
def test_gunicorn_does_not_name_itself(spawn, process_env, free_port) -> None:
    web = spawn("-m", "gunicorn", "crm.wsgi", "--bind", f"127.0.0.1:{free_port}",
                "--workers", "1", env=process_env)  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/healthz", timeout=2) as r:
                headers = r.headers
            break
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(web.output()[-2000:]) from None
            time.sleep(0.3)
    assert "Server" not in headers
    assert headers["Permissions-Policy"]
