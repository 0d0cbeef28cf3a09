"""The compose stack's web and worker, run with their own commands from the production
settings, each from a folder of its own as separate containers would be, sharing only the
database, Redis and the file storage (the named volume): an import and an export go
through them end to end, over HTTP, as a person's browser would."""

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from contacts.models import Contact
from crm.models import Organization, User
from crm.tenancy import activate
from tests.conftest import PASSWORD, ROOT
from tests.contacts.imports import csv_bytes
from tests.crm.test_deployment_files import _command

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 5_001  # one more than an export writes in the request: the worker writes this one


class Browser:
    """A session against the web process that sends Django's CSRF token as a form would."""

    def __init__(self, base: str) -> None:
        self.base, self.session = base, requests.Session()

    def get(self, path: str) -> requests.Response:
        response = self.session.get(self.base + path, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[-500:])
        return response

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> requests.Response:
        token = self.session.cookies.get("csrftoken") or ""
        response = self.session.post(
            self.base + path, data={**data, "csrfmiddlewaretoken": token}, timeout=60, **kwargs
        )
        assert response.status_code == 200, (path, response.status_code, response.text[-500:])
        return response

    def wait_for(self, path: str, text: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while text not in (body := self.get(path).text):
            assert time.monotonic() < deadline, f"{path} never said {text!r}:\n{body[-1500:]}"
            time.sleep(0.5)
        return body


def test_an_import_and_an_export_go_through_web_and_worker_containers(
    spawn: Callable[..., Any], process_env: dict[str, str], free_port: int, tmp_path: Path,
    acme: Organization, alice: User,
) -> None:  # fmt: skip
    volume, web_home, worker_home = (tmp_path / name for name in ("volume", "web", "worker"))
    for folder in (volume, web_home, worker_home):
        folder.mkdir()
    env = {
        **process_env, "MEDIA_ROOT": str(volume), "STATIC_ROOT": str(tmp_path / "static"),
        "ALLOWED_HOSTS": "127.0.0.1", "SECURE_COOKIES": "false", "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    # The tests hash passwords fast; the production settings only know the real hasher.
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, "compose-test-salt")
    User.objects.filter(pk=alice.pk).update(password=hashed)
    # What the image's build does once.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT, env=env,
        check=True, capture_output=True,
    )  # fmt: skip
    web = _command("web")
    web[web.index("--bind") + 1] = f"127.0.0.1:{free_port}"
    web[web.index("--workers") + 1] = "2"
    server = spawn("-m", *web, "--config", str(ROOT / "gunicorn.conf.py"), env=env, cwd=web_home)
    worker = spawn("-m", *_command("worker"), "--concurrency", "1", env=env, cwd=worker_home)
    worker.wait_for_output("ready.")
    server.wait_for_output("Booting worker")

    browser = Browser(f"http://127.0.0.1:{free_port}")
    browser.get("/accounts/login/")
    browser.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})

    people = [["Name", "Email"]] + [[f"Person {n}", f"p{n}@example.com"] for n in range(ROWS)]
    uploaded = browser.post(
        "/o/acme/contacts/import/", {}, files={"file": ("people.csv", csv_bytes(people))}
    )
    job_path = re.sub(r"^https?://[^/]+", "", uploaded.url)
    assert re.fullmatch(r"/o/acme/imports/\d+/", job_path), uploaded.url
    browser.wait_for(job_path, "Which field does each column fill?")  # read by the worker
    browser.post(f"{job_path}map/", {"column_0": "full_name", "column_1": "email",
                                      "mode": "upsert", "match_by": "email"})  # fmt: skip
    browser.wait_for(job_path, "Dry run: what importing would do")
    browser.post(f"{job_path}commit/", {})
    browser.wait_for(job_path, "What the import did")
    with activate(acme):
        assert Contact.objects.count() == ROWS
    assert [p.name for p in volume.rglob("*") if p.is_file()] == []  # done with: deleted

    exported = browser.get("/o/acme/contacts/export/?format=csv")
    export_path = re.sub(r"^https?://[^/]+", "", exported.url)
    assert re.fullmatch(r"/o/acme/exports/\d+/", export_path), exported.url
    browser.wait_for(export_path, "Download")
    download = browser.get(f"{export_path}download/")
    lines = download.content.decode("utf-8-sig").splitlines()
    assert len(lines) == ROWS + 1
    assert any("p4321@example.com" in line for line in lines)
    assert [p.parent.name for p in volume.rglob("*") if p.is_file()] == ["exports"]
    assert list(web_home.iterdir()) == list(worker_home.iterdir()) == []
