"""Tasks through a real worker and Redis: what eager mode hides (serialisation, routing)."""

import uuid
from collections.abc import Iterator

import pytest
from kombu.exceptions import EncodeError

from crm.celery import app
from crm.tasks import ping

pytestmark = pytest.mark.worker


@pytest.fixture
def not_eager() -> Iterator[None]:
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def worker_queue(spawn, process_env, not_eager) -> str:
    # A queue of this test's own, so that a developer's running worker cannot take the task.
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = spawn(
        "-m", "celery", "-A", "crm", "worker", "-Q", queue, "--pool", "solo",
        "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info",
        env=process_env,
    )  # fmt: skip
    worker.wait_for_output("ready.")
    return queue


def test_it_round_trips_a_task_through_a_real_worker(worker_queue: str) -> None:
    result = ping.apply_async(queue=worker_queue)
    answer = result.get(timeout=30)
    assert set(answer) == {"pong"}
    assert result.successful()


def test_it_refuses_arguments_json_cannot_carry(not_eager: None) -> None:
    # Only JSON goes on the wire: a model instance or a set never reaches a worker.
    with pytest.raises(EncodeError):
        app.send_task("crm.ping", args=[{1, 2}], queue=f"test-{uuid.uuid4().hex[:8]}")
