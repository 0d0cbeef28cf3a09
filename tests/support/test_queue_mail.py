"""Mail to a queue's address (support.mail): a new message opens a ticket, an answer joins
its ticket and opens it again, and auto-replies and bounces never open or change one."""

import pytest
from django.test import Client

from contacts.models import Contact
from crm.tenancy import activate
from interactions.models import Interaction
from support import services
from support.models import Queue, Status, Ticket
from tests.factories import ContactFactory, QueueFactory
from tests.interactions.messages import BOUNCE, eml

pytestmark = pytest.mark.django_db


def _message(message_id: str, *, sender: str = "Nia Person <nia@example.com>",
             subject: str = "Card declined", headers: tuple[str, ...] = ()) -> bytes:  # fmt: skip
    lines = "\n        ".join(headers)
    return eml(f"""
        From: {sender}
        To: billing@acme.example
        Subject: {subject}
        Message-ID: <{message_id}>
        {lines}

        My card was declined twice this morning.
    """)


@pytest.fixture
def queue(acme) -> Queue:
    return QueueFactory(org=acme, name="Billing")


def _post(client: Client, queue: Queue, raw: bytes):
    return client.post(f"/inbound/email/{queue.inbound_token}/", raw,
                       content_type="message/rfc822")  # fmt: skip


def _tickets(org) -> list[Ticket]:
    with activate(org):
        return list(Ticket.objects.select_related("requester").order_by("pk"))


def test_a_new_message_opens_a_ticket_for_a_new_contact(client: Client, acme, queue) -> None:
    response = _post(client, queue, _message("m1@example.com"))
    assert response.status_code == 201
    (ticket,) = _tickets(acme)
    assert (ticket.number, ticket.subject, ticket.queue_id) == (1001, "Card declined", queue.pk)
    assert ticket.requester is not None
    assert (ticket.requester.email, ticket.requester.first_name) == ("nia@example.com", "Nia")
    with activate(acme):
        (message,) = Interaction.objects.filter(ticket=ticket)
    assert message.direction == "inbound"
    assert "declined twice" in message.body


def test_the_same_message_twice_opens_one_ticket(client: Client, acme, queue) -> None:
    _post(client, queue, _message("m1@example.com"))
    assert _post(client, queue, _message("m1@example.com")).json()["created"] is False
    assert len(_tickets(acme)) == 1


def test_an_answer_to_our_reply_joins_the_ticket_and_opens_it_again(
    client: Client, acme, queue, sam, django_capture_on_commit_callbacks
) -> None:
    _post(client, queue, _message("m1@example.com"))
    (ticket,) = _tickets(acme)
    with activate(acme), django_capture_on_commit_callbacks(execute=True):
        reply = services.ticket_reply(org=acme, ticket=ticket, by=sam, body="Try again?",
                                      status=Status.SOLVED)  # fmt: skip
    assert _tickets(acme)[0].status == Status.SOLVED
    answer = _message("m2@example.com", subject="Re: [#1001] Card declined",
                      headers=(f"In-Reply-To: <{reply.external_id}>",))  # fmt: skip
    assert _post(client, queue, answer).status_code == 201
    (ticket,) = _tickets(acme)
    assert (ticket.status, ticket.solved_at) == (Status.OPEN, None)
    with activate(acme):
        assert Interaction.objects.filter(ticket=ticket).count() == 3


def test_a_number_in_the_subject_joins_only_the_requester_s_own_mail(
    client: Client, acme, queue
) -> None:
    _post(client, queue, _message("m1@example.com"))
    _post(client, queue, _message("m2@example.com", subject="Re: [#1001] Card declined"))
    assert len(_tickets(acme)) == 1
    # Someone else writing the number opens a ticket of their own.
    _post(client, queue, _message("m3@example.com", sender="mallory@example.net",
                                  subject="[#1001] Card declined"))  # fmt: skip
    tickets = _tickets(acme)
    assert len(tickets) == 2
    assert tickets[1].requester is not None
    assert tickets[1].requester.email == "mallory@example.net"


def test_an_answer_to_a_closed_ticket_opens_a_new_one(client: Client, acme, queue, alice):
    _post(client, queue, _message("m1@example.com"))
    (ticket,) = _tickets(acme)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.CLOSED)
    _post(client, queue, _message("m2@example.com", subject="Re: [#1001] Card declined",
                                  headers=("In-Reply-To: <m1@example.com>",)))  # fmt: skip
    first, second = _tickets(acme)
    assert (first.status, second.number) == (Status.CLOSED, 1002)


def test_auto_replies_and_bounces_never_open_or_change_a_ticket(
    client: Client, acme, queue, alice
) -> None:
    _post(client, queue, _message("m1@example.com"))
    (ticket,) = _tickets(acme)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.PENDING)
    away = _message(
        "m2@example.com",
        subject="Out of office: Card declined",
        headers=("Auto-Submitted: auto-replied", "In-Reply-To: <m1@example.com>"),
    )
    assert _post(client, queue, away).status_code == 201
    assert _post(client, queue, BOUNCE).status_code == 201
    (ticket,) = _tickets(acme)
    assert ticket.status == Status.PENDING
    with activate(acme):
        assert Interaction.objects.filter(is_automatic=True).count() == 2


def test_a_known_contact_is_the_requester(client: Client, acme, queue) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@example.com")
    _post(client, queue, _message("m1@example.com", sender="ada@example.com"))
    assert _tickets(acme)[0].requester == ada
    with activate(acme):
        assert Contact.objects.count() == 1


def test_a_wrong_or_archived_queue_address_answers_404_and_files_nothing(
    client: Client, acme, globex, queue
) -> None:
    org_id, secret = queue.inbound_token.split(".", 1)
    raw = _message("m1@example.com")
    for token in (f"{org_id}.wrong", f"{globex.pk}.{secret}", secret, "x"):
        assert client.post(f"/inbound/email/{token}/", raw,
                           content_type="message/rfc822").status_code == 404  # fmt: skip
    with activate(acme):
        Queue.objects.filter(pk=queue.pk).update(is_archived=True)
    assert _post(client, queue, raw).status_code == 404
    assert _tickets(acme) == []
    with activate(acme):
        assert not Interaction.objects.exists()
