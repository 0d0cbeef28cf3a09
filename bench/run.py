"""`make bench`: the pages of ARCHITECTURE.md's budget table, timed through HTTP.

Brings the data up to size first (one organisation with --contacts contacts and
--companies companies among --orgs organisations), then serves the product with gunicorn
as in production and requests each page --requests times after a warm-up, as a signed-in
manager of the large organisation. Prints p50 and p95 against the budgets; exits 1 when a
budget is missed. Then times a CSV import of --import-rows new contacts into it (the dry
run, then the import), and deletes what it wrote.

    make bench                                 1,000,000 contacts (first run loads ~5 min)
    make bench ARGS="--contacts 100000 --companies 10000 --orgs 10"     a quicker look
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-any-deployment")
os.environ["DEBUG"] = "false"

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command

from contacts.models import Contact
from crm.models import Organization, User
from crm.tenancy import activate

sys.path.insert(0, str(ROOT / "bench"))
import import_budget  # bench/import_budget.py, beside this script

MAIN = "bench"
IMPORT_BUDGET = 30  # seconds, for 100,000 rows


def _count(slug: str) -> int:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        return 0
    with activate(org):
        return Contact.objects.count()


def ensure_data(contacts: int, companies: int, orgs: int) -> None:
    """Load what is missing: the large organisation, then the small ones around it."""
    call_command("migrate", "--noinput", verbosity=0)
    missing = contacts - _count(MAIN)
    if missing > contacts * 0.01:
        print(f"Loading {missing:,} contacts into {MAIN} (once; later runs reuse them)…")
        call_command("seed_scale", "--org", MAIN, "--contacts", str(missing),
                     "--companies", str(max(1, companies * missing // contacts)))  # fmt: skip
    small = max(100, contacts // 500)
    for n in range(1, orgs):
        slug = f"bench-{n:02d}"
        if _count(slug) < small:
            call_command("seed_scale", "--org", slug, "--contacts", str(small),
                         "--companies", str(max(1, small // 10)), "--seed", str(n))  # fmt: skip


def session_cookie(email: str) -> str:
    """A signed-in session for `email`, as the login page would make one."""
    user = User.objects.get(email=email)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int) -> subprocess.Popen[bytes]:
    call_command("collectstatic", "--noinput", verbosity=0)
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crm.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def timed(url: str, cookie: str) -> float:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        if response.status != 200 or "/accounts/login" in response.url:
            raise SystemExit(f"{url} answered {response.status} at {response.url}")
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=100_000, help="0 skips the import")
    args = parser.parse_args()

    ensure_data(args.contacts, args.companies, args.orgs)
    org = Organization.objects.get(slug=MAIN)
    with activate(org):
        total = Contact.objects.count()
        ids = list(Contact.objects.order_by("?").values_list("pk", flat=True)[:200])
    cookie = session_cookie(f"manager@{MAIN}.test")
    port = free_port()
    base = f"http://127.0.0.1:{port}/o/{MAIN}"
    rng = random.Random(7)  # noqa: S311 - which contact to open, not a secret
    pages = [
        ("contacts list", 100, lambda: f"{base}/contacts/"),
        ("contacts, filtered", 100, lambda: f"{base}/contacts/?lifecycle=customer&country=GB"),
        ("contacts, sorted by newest", 100, lambda: f"{base}/contacts/?sort=-created"),
        ("contacts, search by name", 100, lambda: f"{base}/contacts/?q=smith"),
        ("contacts, search misspelt", 100, lambda: f"{base}/contacts/?q=jonhson"),
        ("contacts, search email part", 100, lambda: f"{base}/contacts/?q=mail42.exam"),
        ("contact page", 100, lambda: f"{base}/contacts/{rng.choice(ids)}/"),
    ]
    server = serve(port)
    failures = 0
    try:
        print(f"\n{total:,} contacts in '{MAIN}' among {Organization.objects.count()} "
              f"organisations; {args.requests} requests each after 5 to warm up.\n")  # fmt: skip
        print(f"{'page':<30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'budget':>8}  result")
        for name, budget, url in pages:
            for _ in range(5):
                timed(url(), cookie)
            times = sorted(timed(url(), cookie) for _ in range(args.requests))
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            ok = p95 <= budget
            failures += not ok
            print(f"{name:<30} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} "
                  f"{budget:8d}  {'ok' if ok else 'OVER BUDGET'}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    if args.import_rows:
        manager = User.objects.get(email=f"manager@{MAIN}.test")
        check, commit = import_budget.measure(org, manager, args.import_rows)
        ok = commit <= IMPORT_BUDGET
        failures += not ok
        print(
            f"\nCSV import of {args.import_rows:,} new contacts: dry run {check:.1f} s, "
            f"import {commit:.1f} s, budget {IMPORT_BUDGET} s: {'ok' if ok else 'OVER BUDGET'}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
