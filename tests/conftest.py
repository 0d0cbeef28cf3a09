"""Fixtures shared by every test: users, a clean cache, and processes run for real."""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
import pytest
from celery._state import _set_task_join_will_block  # type: ignore[attr-defined]  # no stub
from django.core.cache import cache
from django.db import connection

from crm.celery import app
from crm.db import owner_credentials
from crm.models import Membership, Organization, Role, User
from crm.tenancy import activate

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Create and migrate the test database as the owner role."""
    owner = owner_credentials()
    if owner:
        connection.settings_dict.update(owner)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    """Then run every test as the app role, so each one goes through row-level security."""
    owner = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
    app = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    with django_db_blocker.unblock():
        connection.close()
    connection.settings_dict.update({key: app.get(key, "") for key in owner})
    yield
    with django_db_blocker.unblock():
        connection.close()
    connection.settings_dict.update(owner)  # the owner drops the test database


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # allauth's rate limits count in the cache: one test's failed logins must not block the next.
    cache.clear()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(email: str = "alice@example.com", *, verified: bool = True, **extra: object) -> User:
        from allauth.account.models import EmailAddress

        user = User.objects.create_user(email, PASSWORD, **extra)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
        return user

    return make


def member(org: Organization, email: str, role: str, name: str = "") -> User:
    """A verified user, called `name` when given, with a membership in `org` (written inside
    the organisation)."""
    from allauth.account.models import EmailAddress

    first_name, _, last_name = name.partition(" ")
    user = User.objects.create_user(email, PASSWORD, first_name=first_name, last_name=last_name)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    with activate(org):
        Membership.objects.create(org=org, user=user, role=role)
    return user


def allow(org: Organization, action: str, *roles: str) -> None:
    """Let these roles do a configurable action in `org` (Settings → Permissions), as an
    owner would: `allow(acme, "contact.merge", "rep")`."""
    from crm import services

    with activate(org):
        org.refresh_from_db()
        current = list(org.role_permissions.get(action, ["manager"]))
        services.org_set_permissions(org=org, by=None, permissions={action: [*current, *roles]})


@pytest.fixture
def acme(db: None) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


@pytest.fixture
def globex(db: None) -> Organization:
    return Organization.objects.create(name="Globex", slug="globex")


@pytest.fixture
def oscar(acme: Organization) -> User:
    """Owner of Acme."""
    return member(acme, "oscar@acme.test", Role.OWNER, "Oscar Owens")


@pytest.fixture
def alice(acme: Organization) -> User:
    """Admin in Acme."""
    return member(acme, "alice@acme.test", Role.ADMIN, "Alice Archer")


@pytest.fixture
def bob(acme: Organization) -> User:
    """Viewer in Acme."""
    return member(acme, "bob@acme.test", Role.VIEWER, "Bob Brown")


@pytest.fixture
def rita(acme: Organization) -> User:
    """Sales rep in Acme."""
    return member(acme, "rita@acme.test", Role.REP, "Rita Reyes")


@pytest.fixture
def sam(acme: Organization) -> User:
    """Support agent in Acme."""
    return member(acme, "sam@acme.test", Role.AGENT, "Sam Singh")


@pytest.fixture
def charlie(globex: Organization) -> User:
    """Admin in Globex."""
    return member(globex, "charlie@globex.test", Role.ADMIN, "Charlie Chen")


def unused_port() -> int:
    """A port of 127.0.0.1 that nothing listens on: for a server to start on, or to stand
    for one that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    return unused_port()


@pytest.fixture
def process_env(django_db_setup: None) -> dict[str, str]:
    """Environment for a child process (web, worker) that uses this run's test database."""
    test_database = f"/{connection.settings_dict['NAME']}"
    urls = {}
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL"):
        if os.environ.get(name):
            urls[name] = urlunsplit(urlsplit(os.environ[name])._replace(path=test_database))
    return {
        **os.environ,
        **urls,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "SECRET_KEY": "test-only-secret-key-not-for-any-deployment",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    }


class Child:
    """A child process with its output in a file, stopped (and its group killed) at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never printed {text!r}; output:\n{self.output()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self._out.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    children: list[Child] = []

    def start(*args: str, env: dict[str, str], cwd: Path = ROOT) -> Child:
        log = tmp_path / f"child-{len(children)}.log"
        child = Child([sys.executable, *args], env, log, cwd)
        children.append(child)
        return child

    yield start
    for child in children:
        child.stop()


@pytest.fixture(autouse=True)
def _joins_allowed() -> None:
    """Celery keeps "this process runs a task" in one flag for the whole process, set and
    put back around each eager task: two threads running eager tasks at once (the tests
    of concurrent sends and claims) can leave it set, and a later test's result.get()
    would then refuse to wait for a real worker. Each test starts with it clear."""
    _set_task_join_will_block(False)


@pytest.fixture
def not_eager() -> Iterator[None]:
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def queue(not_eager: None) -> str:
    """A queue of the test's own for the workers start_worker starts."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker_env() -> dict[str, str]:
    """What start_worker's workers get besides the test's environment; a module overrides
    it (a mail server's address)."""
    return {}


@pytest.fixture
def start_worker(
    spawn: Callable[..., Child], process_env: dict[str, str], worker_env: dict[str, str],
    queue: str,
) -> Callable[..., Child]:  # fmt: skip
    """Start a worker (prefork, as in production) named `name` that sends tasks to `queue`
    and reads it, or `reads` instead; with `restore_seconds`, how often it puts back the
    tasks of a worker that died. A task may take `time_limit` seconds, longer than one
    takes on a busy machine; the visibility timeout is twice it."""

    def start(
        name: str, restore_seconds: int | None = None, reads: str = "", time_limit: int = 8
    ) -> Child:
        env = {
            **process_env, **worker_env, "CELERY_QUEUE": queue,
            "CELERY_TASK_TIME_LIMIT": str(time_limit),
            "CELERY_TASK_SOFT_TIME_LIMIT": str(time_limit - 1),
        }  # fmt: skip
        if restore_seconds is not None:
            env["CELERY_RESTORE_SECONDS"] = str(restore_seconds)
        return spawn(
            "-m", "celery", "-A", "crm", "worker", "-n", f"{name}@{queue}",
            *(["-Q", reads] if reads else []), "--pool", "prefork", "--concurrency", "1",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info",
            env=env,
        )  # fmt: skip

    return start


@pytest.fixture
def worker_queue(spawn, process_env, not_eager) -> str:
    # A queue of this test's own, so that a developer's running worker cannot take the task.
    # The prefork pool, as in production: a task's process can die and the worker lives on.
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = spawn(
        "-m", "celery", "-A", "crm", "worker", "-Q", queue, "--pool", "prefork",
        "--concurrency", "1", "--include", "tests.crm.worker_tasks", "--without-heartbeat",
        "--without-gossip", "--without-mingle", "-l", "info",
        env=process_env,
    )  # fmt: skip
    worker.wait_for_output("ready.")
    return queue
