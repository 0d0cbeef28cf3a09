"""The supervisor behind `make run`: web, worker and beat start, serve, and stop together."""

import json
import os
import re
import signal
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.worker


def _healthz(port: int) -> tuple[int, dict[str, str]] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_starts_serves_and_stops_web_worker_and_beat(spawn, process_env, free_port) -> None:
    run = spawn("-m", "crm.dev", "run", "--port", str(free_port), env=process_env)

    deadline = time.monotonic() + 90
    while (answer := _healthz(free_port)) is None and time.monotonic() < deadline:
        assert run.proc.poll() is None, run.output()[-3000:]
        time.sleep(0.5)
    assert answer == (200, {"database": "ok", "broker": "ok"})
    run.wait_for_output("celery@", timeout=60)  # the worker's banner
    run.wait_for_output("beat: Starting", timeout=60)
    pids = {
        name: int(pid) for name, pid in re.findall(r"(\w+) started \(pid=(\d+)\)", run.output())
    }
    assert set(pids) == {"web", "worker", "beat"}

    run.proc.send_signal(signal.SIGINT)
    assert run.proc.wait(timeout=30) == 0  # Ctrl-C is how it stops: no error for make
    time.sleep(0.5)
    assert [name for name, pid in pids.items() if _alive(pid)] == []
    assert _healthz(free_port) is None
