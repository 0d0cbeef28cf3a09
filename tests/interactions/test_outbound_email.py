"""Email written on a contact's page: interactions.outbound, its task, the composer
(/o/<org>/contacts/<id>/email/), Retry (/o/<org>/interactions/<id>/retry/) and the Reply-To
setting. Celery runs eagerly here; tests/interactions/test_outbound_worker.py uses a worker."""

import smtplib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.core.mail.message import EmailMessage
from django.db import connection
from django.test import Client

from crm.celery import app
from crm.tenancy import activate
from interactions import inbound
from interactions.models import Interaction, Mailbox, Notification
from interactions.outbound import interaction_email_send, mailbox_set_reply_to, new_message_id
from interactions.services import interaction_log
from interactions.tasks import email_send
from tests.factories import ContactFactory, InteractionFactory
from tests.interactions.messages import eml

pytestmark = pytest.mark.django_db

HERE = "tests.interactions.test_outbound_email"
TRIES = email_send.max_retries + 1


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down: every connection is refused."""

    attempts = 0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        type(self).attempts += 1
        raise ConnectionRefusedError(111, "Connection refused")


class UnknownUserBackend(RefusingBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        type(self).attempts += 1
        raise smtplib.SMTPRecipientsRefused({"ada@example.com": (550, b"No such user")})


class TwoOutagesBackend(MemoryBackend):
    """Refuses the first two connections, then takes mail (into mail.outbox)."""

    attempts = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        type(self).attempts += 1
        if type(self).attempts <= 2:
            raise ConnectionRefusedError(111, "Connection refused")
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def _mail(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <crm@mail.example.com>"
    for backend in (RefusingBackend, UnknownUserBackend, TwoOutagesBackend):
        backend.attempts = 0


@pytest.fixture
def retries_run() -> Iterator[None]:
    # Eager tasks re-raise a retry unless told not to propagate; then they run it at once.
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def ada(acme):
    return ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", email="ada@example.com")


def _send(org, by, contact, oncommit, subject="Quote", body="Here it is.") -> Interaction:
    with activate(org), oncommit(execute=True):
        sent = interaction_email_send(org=org, by=by, contact=contact, subject=subject, body=body)
    with activate(org):
        return Interaction.objects.get(pk=sent.pk)


def _post(client: Client, contact, htmx: bool = False, **data: str):
    data = {"subject": "Quote", "body": "Here it is.", **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/o/acme/contacts/{contact.pk}/email/", data, headers=headers)


def _emails(org) -> list[Interaction]:
    with activate(org):
        return list(Interaction.objects.filter(channel="email").order_by("pk"))


# --- The service and its task ----------------------------------------------------------------


def test_it_logs_the_email_and_sends_it_under_the_members_name(
    acme, alice, ada, django_capture_on_commit_callbacks
):
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    assert (sent.channel, sent.direction, sent.author, sent.contact_id) == (
        "email", "outbound", alice, ada.pk
    )  # fmt: skip
    assert sent.delivery == "sent"
    assert sent.external_id.endswith("@mail.example.com")
    assert not sent.external_id.startswith("<")
    (message,) = mail.outbox
    assert message.from_email == "Alice Archer <crm@mail.example.com>"
    assert (message.to, message.reply_to) == (["ada@example.com"], ["alice@acme.test"])
    assert message.message()["Message-ID"] == f"<{sent.external_id}>"
    assert (message.subject, message.body) == ("Quote", "Here it is.")


def test_its_reply_to_is_the_organisations_when_set(
    acme, alice, ada, django_capture_on_commit_callbacks
):
    with activate(acme):
        mailbox_set_reply_to(org=acme, by=alice, reply_to="replies@acme.test")
    _send(acme, alice, ada, django_capture_on_commit_callbacks)
    assert mail.outbox[0].reply_to == ["replies@acme.test"]


def test_a_reply_to_it_lands_on_the_contact_threaded_to_it(
    acme, alice, ada, django_capture_on_commit_callbacks
):
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    reply = eml(f"""
        From: Ada Lovelace <ada@example.com>
        To: replies@acme.test
        Subject: Re: Quote
        Message-ID: <reply-1@example.com>
        In-Reply-To: <{sent.external_id}>
        References: <{sent.external_id}>

        Thanks, looks good.
    """)
    with activate(acme):
        answer, created = inbound.ingest(org=acme, raw=reply)
    assert created
    assert (answer.contact_id, answer.direction) == (ada.pk, "inbound")
    assert answer.details["thread"] == sent.pk
    assert answer.details["in_reply_to"] == sent.external_id


def test_a_server_that_stays_down_marks_it_failed_and_tells_its_author(
    acme, alice, ada, settings, retries_run, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{HERE}.RefusingBackend"
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    assert RefusingBackend.attempts == TRIES
    assert (sent.delivery, sent.delivery_error) == (
        "failed",
        "The mail server could not be reached.",
    )
    with activate(acme):
        (note,) = Notification.objects.all()
    assert (note.user, note.kind, note.key) == (alice, "send_failed", f"send_failed:{sent.pk}:1")
    assert note.url == f"/o/acme/contacts/{ada.pk}/#interaction-{sent.pk}"
    assert "Quote" in note.title
    assert "could not be reached" in note.title


def test_it_retries_through_a_short_outage(
    acme, alice, ada, settings, retries_run, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{HERE}.TwoOutagesBackend"
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    assert (TwoOutagesBackend.attempts, sent.delivery) == (3, "sent")
    assert len(mail.outbox) == 1
    with activate(acme):
        assert not Notification.objects.exists()


def test_a_retry_is_left_to_celery_before_the_last_try(
    acme, alice, ada, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{HERE}.RefusingBackend"
    with activate(acme), django_capture_on_commit_callbacks():  # not sent: run below
        sent = interaction_email_send(org=acme, by=alice, contact=ada, subject="Q", body="B")
    with pytest.raises(Retry):
        email_send.apply(kwargs={"org_id": acme.pk, "interaction_id": sent.pk})
    assert _emails(acme)[0].delivery == "queued"


def test_an_address_the_server_refuses_fails_without_retrying(
    acme, alice, ada, settings, retries_run, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{HERE}.UnknownUserBackend"
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    assert UnknownUserBackend.attempts == 1
    assert sent.delivery_error == "The mail server refused the address: ada@example.com"


def test_running_the_task_twice_sends_once(acme, alice, ada, django_capture_on_commit_callbacks):
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    email_send.apply(kwargs={"org_id": acme.pk, "interaction_id": sent.pk})
    assert len(mail.outbox) == 1


def test_a_message_that_cannot_be_written_fails_at_once(acme, alice, ada):
    with activate(acme):  # past the service's checks, as an edit could leave it
        queued = interaction_log(
            org=acme, by=alice, channel="email", direction="outbound", contact=ada,
            subject="Two\nlines", body="B", external_id=new_message_id(), delivery="queued",
            participants=[{"name": "Ada Lovelace", "address": "ada@example.com"}],
        )  # fmt: skip
    email_send.apply(kwargs={"org_id": acme.pk, "interaction_id": queued.pk})
    (failed,) = _emails(acme)
    assert (failed.delivery, failed.delivery_error) == (
        "failed", "The email could not be written: check its subject."
    )  # fmt: skip
    assert mail.outbox == []


class SlowBackend(MemoryBackend):
    """Takes half a second to send, saying when it starts."""

    started = threading.Event()

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        type(self).started.set()
        time.sleep(0.5)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)  # two real transactions racing for one email
def test_two_workers_running_it_at_once_send_it_once(acme, alice, ada, settings):
    settings.EMAIL_BACKEND = f"{HERE}.SlowBackend"
    SlowBackend.started.clear()
    with activate(acme):  # queued, as the service leaves it, with no task sent
        queued = interaction_log(
            org=acme, by=alice, channel="email", direction="outbound", contact=ada,
            subject="Quote", body="B", external_id=new_message_id(), delivery="queued",
            participants=[{"name": "Ada Lovelace", "address": "ada@example.com"}],
        )  # fmt: skip
    results: list[str] = []

    def run(wait: bool) -> None:
        try:
            if wait:  # the second starts while the first is sending
                SlowBackend.started.wait(10)
            kwargs = {"org_id": acme.pk, "interaction_id": queued.pk}
            results.append(email_send.apply(kwargs=kwargs).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(wait,)) for wait in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["sent", "sent"]
    assert len(mail.outbox) == 1


def test_it_refuses_a_contact_without_an_address(acme, alice):
    nameless = ContactFactory(org=acme, first_name="Nomail")
    with activate(acme), pytest.raises(Exception, match="has no email address"):
        interaction_email_send(org=acme, by=alice, contact=nameless, subject="Hi", body="Hello")
    assert _emails(acme) == []


# --- The composer --------------------------------------------------------------------------


def test_the_contact_page_offers_the_composer(client: Client, acme, alice, ada):
    client.force_login(alice)
    body = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert f'hx-get="/o/acme/contacts/{ada.pk}/email/"' in body
    assert 'id="email-composer"' in body


def test_the_composer_is_addressed_to_the_contact(
    client: Client, acme, alice, ada, django_assert_max_num_queries
):
    client.force_login(alice)
    client.get(f"/o/acme/contacts/{ada.pk}/email/")
    with django_assert_max_num_queries(COMPOSE_QUERIES):
        response = client.get(f"/o/acme/contacts/{ada.pk}/email/")
    body = response.content.decode()
    assert "Ada Lovelace &lt;ada@example.com&gt;" in body
    assert 'name="subject"' in body
    assert 'name="body"' in body
    assert 'name="to"' not in body  # the address is the contact's, not an input


COMPOSE_QUERIES = 8  # what every page reads (session, member, navigation), and the contact


def test_htmx_gets_the_composer_alone(client: Client, acme, alice, ada):
    client.force_login(alice)
    body = client.get(f"/o/acme/contacts/{ada.pk}/email/", headers={"HX-Request": "true"})
    assert body.content.decode().lstrip().startswith('<form id="email-composer"')


def test_a_plain_post_sends_and_goes_back_to_the_timeline(
    client: Client, acme, rita, ada, django_capture_on_commit_callbacks
):
    client.force_login(rita)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, ada)
    (sent,) = _emails(acme)
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/#interaction-{sent.pk}"
    assert (sent.author, sent.delivery) == (rita, "sent")
    assert mail.outbox[0].from_email == "Rita Reyes <crm@mail.example.com>"
    page = client.get(response["Location"]).content.decode()
    assert "Sending your email to Ada Lovelace." in page
    assert '<span class="badge badge--success">Sent</span>' in page


def test_an_htmx_post_closes_the_composer_and_adds_the_entry(
    client: Client, acme, alice, ada, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        body = _post(client, ada, htmx=True).content.decode()
    (sent,) = _emails(acme)
    assert "Your email to Ada Lovelace is on its way." in body
    assert 'hx-swap-oob="afterbegin:#timeline-entries"' in body
    assert f'id="interaction-{sent.pk}"' in body
    assert "Sending…" in body
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"subject": "", "body": ""}, "subject", "This field is required."),
        ({"subject": "", "body": ""}, "body", "This field is required."),
        ({"body": "   \n "}, "body", "Write the message."),
        ({"subject": "Null\x00byte"}, "subject", "Null characters are not allowed."),
        ({"subject": "x" * 201}, "subject", "at most 200 characters"),
        ({"body": "x" * 50_001}, "body", "at most 50000 characters"),
    ],
)
def test_it_refuses_bad_input_next_to_the_field(
    client: Client, acme, alice, ada, data, field, error
):
    client.force_login(alice)
    response = _post(client, ada, **data)
    assert response.status_code == 400
    assert error in str(response.context["form"].errors[field])
    assert (
        f'id="id_{field}_error"' in response.content.decode() or error in response.content.decode()
    )
    assert _emails(acme) == []
    assert mail.outbox == []


def test_htmx_gets_the_composer_back_with_its_errors(client: Client, acme, alice, ada):
    client.force_login(alice)
    response = _post(client, ada, htmx=True, subject="")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="email-composer"')
    assert "This field is required." in body
    assert "Here it is." in body
    assert _emails(acme) == []


def test_it_says_when_the_contact_has_no_address_and_refuses_to_send(client: Client, acme, alice):
    nomail = ContactFactory(org=acme, first_name="Nomail", last_name="Person")
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{nomail.pk}/email/").content.decode()
    assert "Nomail Person has no email address." in page
    assert 'name="subject"' not in page
    response = _post(client, nomail)
    assert response.status_code == 400
    assert "has no email address: add one to write to them." in response.content.decode()
    assert _emails(acme) == []


def test_it_refuses_a_viewer(client: Client, acme, bob, ada):
    client.force_login(bob)
    assert client.get(f"/o/acme/contacts/{ada.pk}/email/").status_code == 403
    assert _post(client, ada).status_code == 403
    assert _emails(acme) == []


def test_another_organisations_contact_answers_404(client: Client, acme, globex, charlie, ada):
    client.force_login(charlie)
    # Charlie is a real Globex member: only the scoping stops this.
    url = f"/o/globex/contacts/{ada.pk}/email/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"subject": "Hi", "body": "Hello"}).status_code == 404
    assert _emails(acme) == []
    assert _emails(globex) == []
    assert mail.outbox == []


# --- Its place on the timeline, and Retry ---------------------------------------------------


@pytest.fixture
def failed(acme, alice, ada, settings, retries_run, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{HERE}.RefusingBackend"
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # back up
    return sent


def test_the_timeline_says_why_it_was_not_sent_and_offers_its_author_a_retry(
    client: Client, ada, alice, bob, failed
):
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "Not sent: The mail server could not be reached." in page
    assert f'action="/o/acme/interactions/{failed.pk}/retry/"' in page
    client.force_login(bob)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "Not sent: The mail server could not be reached." in page
    assert "/retry/" not in page


def test_retry_sends_it(
    client: Client, acme, alice, ada, failed, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/o/acme/interactions/{failed.pk}/retry/")
    assert response["Location"] == f"/o/acme/contacts/{ada.pk}/#interaction-{failed.pk}"
    (sent,) = _emails(acme)
    assert (sent.delivery, sent.delivery_error) == ("sent", "")
    (message,) = mail.outbox
    assert message.message()["Message-ID"] == f"<{failed.external_id}>"


def test_retry_by_htmx_answers_with_the_entry_sending(
    client: Client, acme, alice, failed, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/o/acme/interactions/{failed.pk}/retry/", headers={"HX-Request": "true"}
        )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="timeline__entry" id="interaction-{failed.pk}"')
    assert "Sending…" in body
    assert "Not sent" not in body
    assert len(mail.outbox) == 1


def test_retry_of_a_sent_email_sends_nothing_more(
    client: Client, acme, alice, ada, django_capture_on_commit_callbacks
):
    sent = _send(acme, alice, ada, django_capture_on_commit_callbacks)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/interactions/{sent.pk}/retry/")
    assert len(mail.outbox) == 1
    assert _emails(acme)[0].delivery == "sent"


def test_retry_is_for_its_author_or_a_manager(client: Client, acme, rita, bob, failed):
    for member in (rita, bob):  # a rep who did not write it; a viewer
        client.force_login(member)
        assert client.post(f"/o/acme/interactions/{failed.pk}/retry/").status_code == 403
    assert _emails(acme)[0].delivery == "failed"


def test_retry_of_another_organisations_email_answers_404(client: Client, charlie, failed):
    client.force_login(charlie)
    assert client.post(f"/o/globex/interactions/{failed.pk}/retry/").status_code == 404


def test_retry_takes_posts_only(client: Client, alice, failed):
    client.force_login(alice)
    assert client.get(f"/o/acme/interactions/{failed.pk}/retry/").status_code == 405


def test_a_sending_entry_asks_for_itself_again_until_sent(
    client: Client, acme, bob, ada, alice, django_capture_on_commit_callbacks
):
    with activate(acme), django_capture_on_commit_callbacks():  # the worker has not run yet
        queued = interaction_email_send(org=acme, by=alice, contact=ada, subject="Q", body="B")
    client.force_login(bob)  # anyone who may see it
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    url = f"/o/acme/interactions/{queued.pk}/delivery/"
    assert f'hx-get="{url}" hx-trigger="load delay:3s"' in page
    email_send.apply(kwargs={"org_id": acme.pk, "interaction_id": queued.pk})
    body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith(f'<li class="timeline__entry" id="interaction-{queued.pk}"')
    assert '<span class="badge badge--success">Sent</span>' in body
    assert "hx-trigger" not in body


def test_the_delivery_of_another_organisations_email_answers_404(client: Client, charlie, failed):
    client.force_login(charlie)
    url = f"/o/globex/interactions/{failed.pk}/delivery/"
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_a_logged_email_shows_no_delivery(client: Client, acme, alice, ada):
    InteractionFactory(org=acme, channel="email", contact=ada, subject="Sent from Outlook")
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "Sent from Outlook" in page
    assert "badge--success" not in page
    assert "Not sent" not in page


# --- The Reply-To setting ------------------------------------------------------------------


def test_the_settings_page_sets_the_reply_to_address(client: Client, acme, alice):
    client.force_login(alice)
    page = client.get("/o/acme/settings/email-in/").content.decode()
    assert "forward this address to the inbound address" in page
    data = {"create_leads": "on", "reply_to": "replies@acme.test"}
    assert client.post("/o/acme/settings/email-in/", data).status_code == 302
    with activate(acme):
        assert Mailbox.objects.get().reply_to == "replies@acme.test"
    assert 'value="replies@acme.test"' in client.get("/o/acme/settings/email-in/").content.decode()


def test_the_settings_page_refuses_an_address_that_is_not_one(client: Client, acme, alice):
    client.force_login(alice)
    response = client.post("/o/acme/settings/email-in/", {"reply_to": "replies at acme"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    with activate(acme):
        assert not Mailbox.objects.exists()
