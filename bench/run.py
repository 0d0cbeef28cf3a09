"""`make bench`: the pages of ARCHITECTURE.md's budget table, timed through HTTP.

Brings the data up to size first (one organisation with --contacts contacts, --companies
companies, --interactions interactions, --tasks tasks, --deals deals and --tickets tickets
among --orgs organisations; see seed_scale, seed_interactions_scale, seed_deals_scale and
seed_tickets_scale), then serves
the product with gunicorn as in production and requests each page --requests times after
a warm-up, as a signed-in manager of the large organisation, once every page has been
warmed up. Prints p50 and p95 against
the budgets, the CPU time one request costs the app (gunicorn's workers: Python and
templates) and PostgreSQL (its server processes), and the requests per second the page
reaches with 8 clients at once; exits 1 when a budget is missed. Then times a CSV import of
--import-rows new contacts into it (the dry run, then the import), the filing of
--ingest-messages email messages and segment refreshes of three sizes (see
segment_budget.py; --segments 0 skips them), and deletes what they wrote.

    make bench          1,000,000 contacts, 5,000,000 interactions (the first load is long)
    make bench ARGS="--contacts 100000 --companies 10000 --orgs 5 --interactions 500000 \
        --tasks 100000 --deals 20000"                                     a quicker look
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess  # nosec B404  # starts gunicorn for the benchmark; never a shell
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
from django.db import connection

from contacts.models import Contact
from crm.models import Organization, User
from crm.tenancy import activate
from interactions.management.commands.seed_interactions_scale import HEAVY_MARK
from interactions.models import Interaction
from sales.models import Deal
from support.models import Ticket

sys.path.insert(0, str(ROOT / "bench"))
import import_budget  # bench/import_budget.py, beside this script
import ingest_budget  # bench/ingest_budget.py
import segment_budget  # bench/segment_budget.py

MAIN = "bench"
IMPORT_BUDGET = 30  # seconds, for 100,000 rows
INGEST_BUDGET = 10  # seconds, for 1,000 email messages
SEGMENT_BUDGET = 10  # seconds, for a refresh over 1,000,000 contacts
SCORES_BUDGET = 60  # seconds, for the scores over 1,000,000 contacts, 5,000,000 interactions
LIST_CPU_BUDGET = 15  # ms of app CPU per list request (50 rows)
CONCURRENCY = 8
# The pages held to LIST_CPU_BUDGET.
LISTS = ("contacts", "interactions", "tasks", "deals", "tickets", "ticket inbox")
OPEN_DEALS = 2_000  # on the board: the first pipeline's open deals
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _count(slug: str) -> int:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        return 0
    with activate(org):
        return Contact.objects.count()


def ensure_data(
    contacts: int, companies: int, orgs: int, interactions: int, tasks: int, deals: int,
    tickets: int,
) -> None:  # fmt: skip
    """Load what is missing: the large organisation, then the small ones around it."""
    call_command("migrate", "--noinput", verbosity=0)
    missing = contacts - _count(MAIN)
    if missing > contacts * 0.01:
        print(f"Loading {missing:,} contacts into {MAIN} (once; later runs reuse them)…")
        call_command("seed_scale", "--org", MAIN, "--contacts", str(missing),
                     "--companies", str(max(1, companies * missing // contacts)))  # fmt: skip
    # Up to size, or nothing when it is (the command counts first).
    call_command("seed_interactions_scale", "--org", MAIN, "--interactions", str(interactions),
                 "--tasks", str(tasks))  # fmt: skip
    call_command("seed_deals_scale", "--org", MAIN, "--deals", str(deals),
                 "--open", str(OPEN_DEALS))  # fmt: skip
    call_command("seed_tickets_scale", "--org", MAIN, "--tickets", str(tickets))
    small = max(100, contacts // 500)
    for n in range(1, orgs):
        slug = f"bench-{n:02d}"
        if _count(slug) < small:
            call_command("seed_scale", "--org", slug, "--contacts", str(small),
                         "--companies", str(max(1, small // 10)), "--seed", str(n))  # fmt: skip
        call_command("seed_interactions_scale", "--org", slug, "--interactions",
                     str(interactions // 500), "--tasks", str(tasks // 500), "--heavy", "0",
                     verbosity=0)  # fmt: skip
        call_command("seed_deals_scale", "--org", slug, "--deals", str(deals // 500),
                     "--open", str(OPEN_DEALS // 500), verbosity=0)  # fmt: skip
        call_command("seed_tickets_scale", "--org", slug, "--tickets", str(tickets // 500),
                     "--open", "10", verbosity=0)  # fmt: skip


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
    server = subprocess.Popen(  # nosec B603  # this Python running gunicorn, fixed arguments
        [sys.executable, "-m", "gunicorn", "crm.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Bandit B310: a fixed http:// URL, of the server started just above.
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)  # nosec B310
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def timed(url: str, cookie: str) -> float:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    started = time.perf_counter()
    # Bandit B310: every URL timed is http://127.0.0.1:<port>/…, the server serve() started.
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310
        response.read()
        if response.status != 200 or "/accounts/login" in response.url:
            raise SystemExit(f"{url} answered {response.status} at {response.url}")
    return (time.perf_counter() - started) * 1000


def _cpu_ticks(pid: int) -> int:
    """User and system CPU of one process so far, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class CpuMeter:
    """CPU time spent by a group of processes (a parent's children) between two readings."""

    def __init__(self, parent: int | None) -> None:
        self.parent = parent
        self.start: dict[int, int] = {}

    def reset(self) -> None:
        if self.parent:
            self.start = {pid: _cpu_ticks(pid) for pid in _children(self.parent)}

    def ms(self) -> float | None:
        if not self.parent:
            return None
        now = {pid: _cpu_ticks(pid) for pid in _children(self.parent)}
        return sum(ticks - self.start.get(pid, 0) for pid, ticks in now.items()) * TICK_MS


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    try:
        parent = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None  # a server elsewhere: its CPU is not measured
    connection.close()  # this process's own backend leaves the server's children
    return parent


def per_second(url: Callable[[], str], cookie: str, count: int) -> float:
    """Requests per second with CONCURRENCY clients at once."""
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(lambda u: timed(u, cookie), [url() for _ in range(count)]))
    return count / (time.perf_counter() - started)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=100_000, help="0 skips the import")
    parser.add_argument("--ingest-messages", type=int, default=1_000, help="0 skips ingesting")
    parser.add_argument("--only", default="", help="time only the pages whose name has this")
    parser.add_argument("--segments", type=int, default=1, help="0 skips the segment refreshes")
    args = parser.parse_args()

    ensure_data(args.contacts, args.companies, args.orgs, args.interactions, args.tasks,
                args.deals, args.tickets)  # fmt: skip
    org = Organization.objects.get(slug=MAIN)
    with activate(org):
        total = Contact.objects.count()
        ids = list(Contact.objects.order_by("?").values_list("pk", flat=True)[:200])
        heavy = Contact.objects.filter(external_id=HEAVY_MARK).values_list("pk", flat=True)[0]
        interactions = Interaction.objects.count()
        deals = Deal.objects.count()
        deal_ids = list(Deal.objects.order_by("?").values_list("pk", flat=True)[:200])
        tickets = Ticket.objects.count()
        numbers = list(Ticket.objects.order_by("?").values_list("number", flat=True)[:200])
    manager = User.objects.get(email=f"manager@{MAIN}.test")
    segment = segment_budget.bench_segment(org, manager).pk
    cookie = session_cookie(f"manager@{MAIN}.test")
    port = free_port()
    base = f"http://127.0.0.1:{port}/o/{MAIN}"
    rng = random.Random(7)  # noqa: S311  # nosec B311  # which contact to open, not a secret
    pages = [
        ("contacts list", 100, lambda: f"{base}/contacts/"),
        ("contacts, filtered", 100, lambda: f"{base}/contacts/?lifecycle=customer&country=GB"),
        ("contacts, sorted by newest", 100, lambda: f"{base}/contacts/?sort=-created"),
        ("contacts, search by name", 100, lambda: f"{base}/contacts/?q=smith"),
        ("contacts, search misspelt", 100, lambda: f"{base}/contacts/?q=jonhson"),
        ("contacts, search email part", 100, lambda: f"{base}/contacts/?q=mail42.exam"),
        # Any contact: most have a few interactions (seed_interactions_scale's spread).
        ("contact page", 100, lambda: f"{base}/contacts/{rng.choice(ids)}/"),
        ("contact page, long timeline", 100, lambda: f"{base}/contacts/{heavy}/"),
        ("interactions list", 100, lambda: f"{base}/interactions/"),
        ("interactions, emails", 100, lambda: f"{base}/interactions/?channel=email"),
        ("tasks list", 100, lambda: f"{base}/tasks/"),
        ("tasks, overdue", 100, lambda: f"{base}/tasks/?due=overdue"),
        ("deals list", 100, lambda: f"{base}/deals/"),
        ("deals, open", 100, lambda: f"{base}/deals/?status=open"),
        ("deals, by amount", 100, lambda: f"{base}/deals/?sort=-amount"),
        # Any deal: most closed, with a few stage changes each (seed_deals_scale).
        ("deal page", 100, lambda: f"{base}/deals/{rng.choice(deal_ids)}/"),
        # The first pipeline, with its OPEN_DEALS open deals.
        ("deal board", 150, lambda: f"{base}/deals/board/"),
        ("pipeline dashboard", 300, lambda: f"{base}/dashboards/pipeline/"),
        # A whole year: every deal closed or added in it, its funnel and twelve months.
        (
            "pipeline dashboard, year",
            300,
            lambda: f"{base}/dashboards/pipeline/?period=last_12_months",
        ),
        ("ticket inbox, mine", 100, lambda: f"{base}/tickets/?inbox=mine&sort=due"),
        ("ticket inbox, unassigned", 100, lambda: f"{base}/tickets/?inbox=unassigned&sort=due"),
        ("ticket inbox, all open", 100, lambda: f"{base}/tickets/?inbox=open&sort=due"),
        ("ticket inbox, breaching", 100, lambda: f"{base}/tickets/?inbox=breaching&sort=due"),
        ("tickets list", 100, lambda: f"{base}/tickets/"),
        ("tickets, search", 100, lambda: f"{base}/tickets/?q=invoice"),
        # Any ticket: most solved long ago, each with its conversation (seed_tickets_scale).
        ("ticket page", 100, lambda: f"{base}/tickets/{rng.choice(numbers)}/"),
        ("support dashboard", 300, lambda: f"{base}/dashboards/support/"),
        # A whole year: every ticket created, answered or solved in it, a day a column.
        (
            "support dashboard, year",
            300,
            lambda: f"{base}/dashboards/support/?period=last_12_months",
        ),
        # A segment of the active customers: its page, its builder with the live count, and
        # the contacts list filtered to it.
        ("segment page", 100, lambda: f"{base}/segments/{segment}/"),
        ("segment builder, live count", 300, lambda: f"{base}/segments/{segment}/edit/"),
        ("contacts, in a segment", 100, lambda: f"{base}/contacts/?segment={segment}"),
        # The quick search's whole page (the palette asks for its list alone, as it is typed).
        ("quick search by name", 100, lambda: f"{base}/find/?q=smith"),
        ("quick search misspelt", 100, lambda: f"{base}/find/?q=jonhson"),
        ("quick search email part", 100, lambda: f"{base}/find/?q=mail42.exam"),
    ]
    pages = [page for page in pages if args.only.lower() in page[0]]
    postgres = CpuMeter(postmaster_pid())
    server = serve(port)
    app = CpuMeter(server.pid)
    failures = 0
    try:
        print(f"\n{total:,} contacts, {interactions:,} interactions, {deals:,} deals and "
              f"{tickets:,} tickets in "
              f"'{MAIN}' among "
              f"{Organization.objects.count()} organisations; {args.requests} requests each "
              "after 5 to warm up.\n")  # fmt: skip
        print(
            "CPU: milliseconds of CPU per request, in the app (gunicorn's workers) and in "
            f"PostgreSQL;\nreq/s: requests per second with {CONCURRENCY} clients at once.\n"
        )
        print(f"{'page':<30} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'budget':>7} "
              f"{'app CPU':>8} {'PG CPU':>7} {'req/s':>6}  result")  # fmt: skip
        # Every page warmed up first, a few times more than the workers: a worker's first
        # request (its templates, its URLs, its connection) is not what a page costs.
        for _, _, url in pages:
            per_second(url, cookie, 4 * CONCURRENCY)
        for name, budget, url in pages:
            for _ in range(5):
                timed(url(), cookie)
            app.reset()
            postgres.reset()
            times = sorted(timed(url(), cookie) for _ in range(args.requests))
            app_ms, pg_ms = app.ms(), postgres.ms()
            rate = per_second(url, cookie, max(args.requests, 4 * CONCURRENCY))
            app_ms = None if app_ms is None else app_ms / len(times)
            pg_ms = None if pg_ms is None else pg_ms / len(times)
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            ok = p95 <= budget
            if name.startswith(LISTS) and app_ms is not None:
                ok = ok and app_ms <= LIST_CPU_BUDGET
            failures += not ok
            print(f"{name:<30} {statistics.median(times):7.1f} {p95:7.1f} {times[-1]:7.1f} "
                  f"{budget:7d} {_ms(app_ms):>8} {_ms(pg_ms):>7} {rate:6.1f}  "
                  f"{'ok' if ok else 'OVER BUDGET'}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    if args.import_rows:
        check, commit = import_budget.measure(org, manager, args.import_rows)
        ok = commit <= IMPORT_BUDGET
        failures += not ok
        print(
            f"\nCSV import of {args.import_rows:,} new contacts: dry run {check:.1f} s, "
            f"import {commit:.1f} s, budget {IMPORT_BUDGET} s: {'ok' if ok else 'OVER BUDGET'}"
        )
    if args.ingest_messages:
        seconds = ingest_budget.measure(org, args.ingest_messages)
        ok = seconds <= INGEST_BUDGET * args.ingest_messages / 1000
        failures += not ok
        print(
            f"Ingesting {args.ingest_messages:,} email messages: {seconds:.1f} s, budget "
            f"{INGEST_BUDGET} s per 1,000: {'ok' if ok else 'OVER BUDGET'}"
        )
    if args.segments:
        print(f"\nSegment refreshes over {total:,} contacts (budget {SEGMENT_BUDGET} s at "
              "1,000,000; Python's peak memory during each):")  # fmt: skip
        for row in segment_budget.measure(org, manager):
            worst = max(row[step][0] for step in ("fill", "again", "empty"))
            ok = worst <= SEGMENT_BUDGET
            failures += not ok
            steps = ", ".join(f"{label} {row[step][0]:.1f} s ({row[step][1]:,.0f} KiB)"
                              for step, label in (("fill", "filled"), ("again", "unchanged"),
                                                  ("empty", "emptied")))  # fmt: skip
            print(f"  {row['name']:<18} {row['size']:>9,} members: {steps}: "
                  f"{'ok' if ok else 'OVER BUDGET'}")  # fmt: skip
        for night in ("first", "second"):
            seconds, written = segment_budget.measure_scores(org)
            ok = seconds <= SCORES_BUDGET
            failures += not ok
            print(f"Nightly scores over {total:,} contacts and {interactions:,} interactions "
                  f"({night} night, {written['written']:,} written): {seconds:.1f} s, "
                  f"budget {SCORES_BUDGET} s at 1,000,000 and 5,000,000: "
                  f"{'ok' if ok else 'OVER BUDGET'}")  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
