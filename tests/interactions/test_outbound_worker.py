"""Email written in the app, sent by a real worker on Redis: what eager mode hides (the
task's arguments on the wire, its transaction, retries through the broker with backoff, a
second delivery of the same task)."""

import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from crm.models import Organization, User
from crm.tasks import ping
from crm.tenancy import activate
from interactions.models import Interaction, Notification
from interactions.outbound import interaction_email_send, mailbox_set_reply_to
from interactions.tasks import email_send
from tests.conftest import unused_port
from tests.factories import ContactFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FROM = "Acme CRM <crm@mail.example.com>"


@pytest.fixture
def mail_server() -> str:
    """Where the worker sends mail: "file" (a folder this test reads), or "down" (an SMTP
    port nothing listens on)."""
    return "file"


@pytest.fixture
def process_env(
    process_env: dict[str, str], tmp_path: Path, mail_server: str, settings: Any
) -> dict[str, str]:
    settings.DEFAULT_FROM_EMAIL = FROM  # the Message-ID is made here, in the web process
    # django-environ drops the slash after "filemail://": a third one keeps the path absolute.
    url = f"filemail:///{tmp_path / 'mail'}" if mail_server == "file" else (
        f"smtp://127.0.0.1:{unused_port()}"
    )  # fmt: skip
    return {**process_env, "EMAIL_URL": url, "DEFAULT_FROM_EMAIL": FROM}


@pytest.fixture
def routed(worker_queue: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # The email task goes to this test's own queue, which only its worker reads.
    monkeypatch.setattr(email_send, "_exec_options", {"queue": worker_queue})
    return worker_queue


def _send(org: Organization, by: User) -> Interaction:
    contact = ContactFactory(org=org, first_name="Ada", last_name="Lovelace",
                             email="ada@example.com")  # fmt: skip
    with activate(org):  # commits on the way out: the task is sent then
        return interaction_email_send(
            org=org, by=by, contact=contact, subject="Quote", body="Twenty seats, as agreed."
        )


def _wait(org: Organization, interaction: Interaction, delivery: str) -> Interaction:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with activate(org):
            interaction = Interaction.objects.get(pk=interaction.pk)
        if interaction.delivery == delivery:
            return interaction
        time.sleep(0.2)
    raise AssertionError(f"the email stayed {interaction.delivery}, not {delivery}")


def _mailed(folder: Path) -> list[EmailMessage]:
    # The file backend writes each message followed by a line of 79 dashes.
    found = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                found.append(message_from_bytes(raw, policy=policy.default))
    return found


def test_a_worker_sends_it_once_with_its_message_id(
    routed: str, acme: Organization, alice: User, tmp_path: Path
) -> None:
    with activate(acme):
        mailbox_set_reply_to(org=acme, by=alice, reply_to="replies@acme.test")
    sent = _wait(acme, _send(acme, alice), "sent")
    email_send.apply_async(kwargs={"org_id": acme.pk, "interaction_id": sent.pk})  # again
    ping.apply_async(queue=routed).get(timeout=30)  # one worker process: it ran that first
    (message,) = _mailed(tmp_path / "mail")
    assert message["Message-ID"] == f"<{sent.external_id}>"
    assert message["From"] == "Alice Archer <crm@mail.example.com>"
    assert (message["To"], message["Reply-To"]) == ("ada@example.com", "replies@acme.test")
    assert message.get_content().strip() == "Twenty seats, as agreed."


@pytest.mark.parametrize("mail_server", ["down"])
def test_a_worker_retries_a_server_that_is_down_then_marks_it_failed(
    routed: str, acme: Organization, alice: User
) -> None:
    failed = _wait(acme, _send(acme, alice), "failed")
    assert failed.delivery_error == "The mail server could not be reached."
    with activate(acme):
        (note,) = Notification.objects.filter(user=alice, kind="send_failed")
    assert note.key == f"send_failed:{failed.pk}:1"
