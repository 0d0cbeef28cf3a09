"""Reminders through real workers on Redis: SIGKILL the worker in the middle of a batch of
200 due reminders, and none is lost and none is sent twice.

How the test gets there:

- The mail server is a small SMTP sink in this process (below). It takes each message as
  a server would, and holds the Nth one after its final "." without answering, until the
  test has killed the worker. Its client is then gone, so the sink drops it: a server takes
  responsibility for a message with its 250 reply (RFC 5321, 4.1.1.4), and this 250 never
  reached the worker. The window this leaves out, a kill after the 250 and before the
  worker's commit, is the one interactions.reminders says may send a message twice (with
  the same Message-ID).
- Every task goes to a queue of this test's own: the workers are started with
  CELERY_QUEUE set (crm.settings), so the `notification_email` tasks that `reminders_run`
  sends from inside the worker go there too, where a monkeypatch here could not reach.
- The first worker dies whole (os.killpg, SIGKILL): nobody rejects its task, which stays
  unacknowledged in Redis until a worker puts it back on its queue, once it is older than
  the visibility timeout (twice CELERY_TASK_TIME_LIMIT: 16 s here). The second worker then
  runs the rest of the queue, and sweeps for such tasks every second
  (CELERY_RESTORE_SECONDS; kombu's period is about 100 s, and its one sweep at start-up
  would come too early). The first keeps the default: killed while it held the sweep's
  lock in Redis, it would stall every sweep for 5 minutes.
- A worker takes seconds to start, many on a busy machine: the second one starts with the
  first but reads only a queue of its own until the first is dead, and is then told to
  take the test's queue (Celery's add_consumer), as a worker restarted would.
- The test waits on events (the sink held a message, the second worker's reply, the sink
  has 200, a ping that the one worker process runs after the last email's commit), never
  on a guessed delay.
"""

import os
import select
import signal
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import policy
from email.parser import BytesHeaderParser

import pytest
from django.utils import timezone

from crm.celery import app
from crm.models import Organization, User
from crm.tasks import ping
from crm.tenancy import activate
from interactions.models import Notification, Task
from interactions.tasks import reminders_run
from tests.conftest import Child
from tests.factories import TaskFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REMINDERS = 200
HOLD = 80  # the message the first worker is killed while sending
DOMAIN = "reminders.example.com"  # of the sender, and so of the Message-IDs


class SmtpSink(socketserver.ThreadingTCPServer):
    """An SMTP server on 127.0.0.1 that keeps the Message-ID of each message it accepts
    (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no AUTH). With `hold`, the
    hold-th message waits after its "." until release(); if its client is gone by then, it
    is dropped unanswered."""

    daemon_threads = True

    def __init__(self, hold: int | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.port = int(self.server_address[1])
        self.hold = hold
        self.held = threading.Event()
        self._released, self._decided = threading.Event(), threading.Event()
        self.delivered: list[str] = []  # Message-IDs, in the order of their 250
        self.dropped: list[str] = []
        self._changed = threading.Condition()
        self._received = 0

    def release(self) -> None:
        """Let the held message go on; once it is held, return when it is taken or dropped."""
        self._released.set()
        if self.held.is_set():
            self._decided.wait(30)

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.delivered) >= count, timeout)

    def take(self, message_id: str, client: socket.socket) -> bool:
        """Whether the message is accepted (answered 250)."""
        with self._changed:
            self._received += 1
            held = self._received == self.hold
        if held:
            self.held.set()
            self._released.wait(120)
        accepted = not (held and _gone(client))
        with self._changed:
            (self.delivered if accepted else self.dropped).append(message_id)
            self._changed.notify_all()
        if held:
            self._decided.set()
        return accepted


def _gone(client: socket.socket) -> bool:
    """Whether the client has hung up. One waiting for its reply sends nothing: its socket
    turns readable only at its end of file (or reset)."""
    readable, _, _ = select.select([client], [], [], 5)
    if not readable:
        return False
    try:
        return client.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _SmtpSession(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink", "250 8BITMIME")
            elif verb == b"HELO":
                self.reply("250 sink")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._data()
                if data is None:
                    return  # the client left mid-message
                message_id = str(BytesHeaderParser(policy=policy.default).parsebytes(data)
                                 ["Message-ID"]).strip()  # fmt: skip
                if not self.server.take(message_id, self.connection):
                    return
                self.reply("250 OK")
            elif verb == b"QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")

    def _data(self) -> bytes | None:
        lines = []
        while (line := self.rfile.readline()) != b".\r\n":
            if not line:
                return None
            lines.append(line[1:] if line.startswith(b"..") else line)  # dot-stuffing
        return b"".join(lines)


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(hold=HOLD)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release()
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker_env(sink: SmtpSink) -> dict[str, str]:
    """The workers mail through the sink."""
    return {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "DEFAULT_FROM_EMAIL": f"crm@{DOMAIN}"}


def _logs(*workers: Child) -> str:
    return "\n".join(f"--- {w.log.name}:\n{w.output()[-3000:]}" for w in workers)


def test_a_worker_killed_mid_batch_loses_no_reminder_and_sends_none_twice(
    sink: SmtpSink, start_worker: Callable[..., Child], queue: str, acme: Organization,
    alice: User,
) -> None:  # fmt: skip
    first = start_worker("first")  # they start while the tasks are written
    second = start_worker("second", restore_seconds=1, reads=f"{queue}-standby")
    due = timezone.now() - timedelta(minutes=1)
    tasks = [TaskFactory(org=acme, by=alice, owner=alice, reminder_at=due)
             for _ in range(REMINDERS)]  # fmt: skip
    first.wait_for_output("ready.")
    second.wait_for_output("ready.")
    reminders_run.apply_async(kwargs={"org_id": acme.pk}, queue=queue)  # as beat sends it
    assert sink.held.wait(90), _logs(first)

    os.killpg(first.proc.pid, signal.SIGKILL)  # the worker and its pool process, at once
    first.proc.wait()
    sink.release()  # its client is gone: dropped, never answered
    sent_before = len(sink.delivered)
    assert (sent_before, len(sink.dropped)) == (HOLD - 1, 1)  # the kill came mid-batch
    with activate(acme):  # it rolled back the email's transaction: still pending
        assert Notification.objects.filter(email_pending=True).count() == REMINDERS - sent_before

    taken = app.control.add_consumer(queue, destination=[f"second@{queue}"], reply=True,
                                     timeout=30)  # fmt: skip
    assert taken, _logs(second)
    assert sink.wait_for(REMINDERS, timeout=90), _logs(first, second)
    ping.apply_async(queue=queue).get(timeout=30)  # one worker process: it committed the rest

    times = Counter(sink.delivered)
    assert max(times.values()) == 1, times.most_common(3)  # none twice
    assert len(times) == REMINDERS
    assert sink.dropped[0] in times  # the one the kill cut short went again
    with activate(acme):
        notes = list(Notification.objects.filter(kind="reminder", email_pending=False))
        assert Notification.objects.count() == len(notes) == REMINDERS
        assert not Task.objects.filter(reminded_at__isnull=True).exists()
    assert {n.task_id for n in notes} == {task.pk for task in tasks}  # one per task
    assert set(times) == {f"<notification-{acme.pk}-{n.pk}@{DOMAIN}>" for n in notes}
