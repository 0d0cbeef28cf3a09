"""Tasks through a real worker and Redis: what eager mode hides (serialisation, routing)."""

import uuid

import pytest
from kombu.exceptions import EncodeError

from crm.celery import app
from crm.tasks import ping
from tests.crm.worker_tasks import crash_once

pytestmark = pytest.mark.worker


def test_it_round_trips_a_task_through_a_real_worker(worker_queue: str) -> None:
    result = ping.apply_async(queue=worker_queue)
    answer = result.get(timeout=30)
    assert set(answer) == {"pong"}
    assert result.successful()


def test_it_delivers_a_task_again_when_its_worker_process_dies(worker_queue: str) -> None:
    key = f"test:crash-once:{uuid.uuid4().hex}"
    result = crash_once.apply_async(args=(key,), queue=worker_queue)
    # Acknowledged late and rejected on worker loss: the task went back on the queue.
    assert result.get(timeout=60) == 2


def test_it_refuses_arguments_json_cannot_carry(not_eager: None) -> None:
    # Only JSON goes on the wire: a model instance or a set never reaches a worker.
    with pytest.raises(EncodeError):
        app.send_task("crm.ping", args=[{1, 2}], queue=f"test-{uuid.uuid4().hex[:8]}")
