"""POST /inbound/email/<token>/: a relay's raw message, filed as an inbound email."""

import threading
import time
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client

from contacts.models import Contact
from crm.tenancy import activate
from interactions.inbound import ingest, mailbox_rotate, mailbox_set_leads
from interactions.models import Interaction
from tests.factories import CompanyFactory, ContactFactory
from tests.interactions.messages import BOUNCE, PLAIN, eml

pytestmark = pytest.mark.django_db

HELLO = eml("""
    From: Ada Lovelace <Ada@Example.com>
    To: sales@acme.test
    Cc: Bob <bob@example.com>
    Subject: Twenty seats
    Date: Tue, 3 Mar 2026 14:05:09 +0100
    Message-ID: <hello-1@example.com>

    Could you send a quote?
""")


def _reply(message_id: str, parent: str, references: str = "") -> bytes:
    return eml(f"""
        From: ada@example.com
        Subject: Re: Twenty seats
        Message-ID: <{message_id}>
        In-Reply-To: <{parent}>
        References: {references or f"<{parent}>"}

        Thanks.
    """)


@pytest.fixture
def address(acme) -> str:
    with activate(acme):
        return f"/inbound/email/{mailbox_rotate(org=acme, by=None)}/"


def _post(client: Client, address: str, raw: bytes, **extra):
    return client.post(address, raw, content_type="message/rfc822", **extra)


def _stored(org) -> list[Interaction]:
    with activate(org):
        return list(Interaction.objects.select_related("contact").order_by("pk"))


def test_it_stores_a_plain_message_on_the_contact_by_primary_email(client, acme, address):
    company = CompanyFactory(org=acme, name="Analytical Engines")
    ada = ContactFactory(org=acme, email="ada@example.com", company=company)
    response = _post(client, address, HELLO)
    assert response.status_code == 201
    [email] = _stored(acme)
    assert response.json() == {"id": email.pk, "created": True}
    assert (email.channel, email.direction, email.subject) == ("email", "inbound", "Twenty seats")
    assert (email.contact_id, email.company_id) == (ada.pk, company.pk)
    assert email.external_id == "hello-1@example.com"
    assert email.author is None
    assert email.occurred_at.isoformat() == "2026-03-03T13:05:09+00:00"
    assert email.participants == [
        {"name": "", "address": "sales@acme.test"}, {"name": "Bob", "address": "bob@example.com"}
    ]  # fmt: skip
    assert email.details["from"] == {"name": "Ada Lovelace", "address": "ada@example.com"}
    assert "Could you send a quote?" in email.body
    assert not email.is_automatic


def test_the_filing_hands_back_the_contact_as_it_is_stored(acme, rita):
    # What a caller reads of the contact it files on (a support queue names its requester):
    # each field its own, and those not read at first read when asked.
    company = CompanyFactory(org=acme, name="Analytical Engines")
    ada = ContactFactory(org=acme, email="ada@example.com", first_name="Ada",
                         last_name="Lovelace", owner=rita, company=company,
                         phone="+442079460000")  # fmt: skip
    with transaction.atomic(), activate(acme):
        interaction, created = ingest(org=acme, raw=HELLO)
        contact = interaction.contact
        assert created
        assert (contact.pk, contact.email, contact.first_name, contact.last_name) == (
            ada.pk,
            "ada@example.com",
            "Ada",
            "Lovelace",
        )
        assert (contact.owner_id, contact.company_id, contact.deleted_at) == (
            rita.pk,
            company.pk,
            None,
        )
        assert contact.company.name == "Analytical Engines"
        assert contact.phone == "+442079460000"  # not read at first: read when asked


def test_it_links_the_contact_by_another_email(client, acme, address):
    ada = ContactFactory(org=acme, email="countess@example.org", other_emails=["ada@example.com"])
    _post(client, address, HELLO)
    assert _stored(acme)[0].contact_id == ada.pk


def test_it_makes_a_lead_of_an_unknown_sender(client, acme, address):
    _post(client, address, HELLO)
    [email] = _stored(acme)
    lead = email.contact
    assert (lead.first_name, lead.last_name, lead.email) == ("Ada", "Lovelace", "ada@example.com")
    assert lead.lifecycle == Contact.Lifecycle.LEAD


def test_it_makes_no_lead_when_the_setting_is_off(client, acme, address):
    with activate(acme):
        mailbox_set_leads(org=acme, by=None, create_leads=False)
    assert _post(client, address, HELLO).status_code == 201
    assert _stored(acme)[0].contact is None
    with activate(acme):
        assert not Contact.objects.exists()


def test_it_makes_no_lead_of_a_bounce(client, acme, address):
    assert _post(client, address, BOUNCE).status_code == 201
    [email] = _stored(acme)
    assert email.is_automatic
    assert email.contact is None
    assert email.details["auto"] == "bounce"
    with activate(acme):
        assert not Contact.objects.exists()


def test_it_threads_replies_to_the_first_message(client, acme, address):
    _post(client, address, HELLO)
    _post(client, address, _reply("re-1@example.com", "hello-1@example.com"))
    refs = "<hello-1@example.com> <re-1@example.com>"
    _post(client, address, _reply("re-2@example.com", "re-1@example.com", refs))
    first, second, third = _stored(acme)
    assert "thread" not in first.details
    assert second.details["thread"] == third.details["thread"] == first.pk
    assert third.details["references"] == ["hello-1@example.com", "re-1@example.com"]


def test_it_stores_the_same_message_once(client, acme, address):
    first = _post(client, address, HELLO).json()
    again = _post(client, address, HELLO)
    assert again.status_code == 201
    assert again.json() == {"id": first["id"], "created": False}
    assert len(_stored(acme)) == 1


def test_it_takes_the_message_in_a_form_field(client, acme, address, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100  # a message is bigger than Django's form cap
    assert client.post(address, {"email": PLAIN.decode()}).status_code == 201
    assert client.post(address, {"message": HELLO.decode()}).status_code == 201
    assert [e.external_id for e in _stored(acme)] == ["quote-1@acme.example", "hello-1@example.com"]


def test_it_takes_mailguns_body_mime_field_before_any_other(client, acme, address):
    # Mailgun posts the raw message to a URL ending in "mime", beside the fields it parsed.
    form = {"recipient": "sales@acme.test", "body-plain": "x", "email": PLAIN.decode(),
            "body-mime": HELLO.decode()}  # fmt: skip
    assert client.post(f"{address}mime", form).status_code == 201
    assert [e.external_id for e in _stored(acme)] == ["hello-1@example.com"]


def test_it_holds_mailguns_body_mime_to_the_size_limit(client, acme, address, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1000
    response = client.post(address, {"body-mime": (HELLO + b"x" * 1000).decode()})
    assert response.status_code == 413
    assert _stored(acme) == []


def test_it_takes_the_message_as_an_uploaded_file_or_urlencoded(client, acme, address):
    upload = SimpleUploadedFile("m.eml", HELLO.replace(b"quote?", "Grüße".encode()))
    assert client.post(address, {"to": "x", "email": upload}).status_code == 201
    form = urlencode({"message": PLAIN})
    urlencoded = "application/x-www-form-urlencoded"
    assert client.post(address, form, content_type=urlencoded).status_code == 201
    first, second = _stored(acme)
    assert "Grüße" in first.body
    assert second.external_id == "quote-1@acme.example"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"", "empty"), (b"   \r\n", "empty"), (b"\x00\xff garbage \x01" * 20, "not an email")],
)
def test_it_refuses_what_is_not_a_message(client, acme, address, raw, reason):
    response = _post(client, address, raw)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert reason in response.content.decode()
    assert _stored(acme) == []


def test_it_refuses_a_form_without_the_message(client, acme, address):
    response = client.post(address, {"body": "hello"})
    assert response.status_code == 400
    assert "email" in response.content.decode()


def test_it_refuses_an_oversize_message_before_reading_it(client, acme, address, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1000
    response = _post(client, address, HELLO + b"x" * 1000)
    assert response.status_code == 413
    assert "limit of 1,000 bytes" in response.content.decode()
    assert _stored(acme) == []


@pytest.mark.parametrize(
    "token", ["nope", "1.nope", "999999.x", "..", "1." + "a" * 43, "-1.x", "².x", "9" * 30 + ".x"]
)
def test_it_answers_404_to_a_token_that_opens_nothing(client, acme, address, token):
    assert _post(client, f"/inbound/email/{token}/", HELLO).status_code == 404
    assert _stored(acme) == []


def test_it_answers_404_to_the_address_before_the_last_rotation(client, acme, address):
    with activate(acme):
        mailbox_rotate(org=acme, by=None)
    assert _post(client, address, HELLO).status_code == 404


def test_it_takes_posts_only(client, address):
    assert client.get(address).status_code == 405


def test_it_pins_the_queries_of_one_message(client, acme, address, django_assert_num_queries):
    ContactFactory(org=acme, email="ada@example.com", company=CompanyFactory(org=acme))
    # The token (organisation, mailbox), the message's lock, already filed?, a member's
    # address?, its sender, then the insert, the contact's and company's last interaction (one
    # statement), audit: 9, with 11 savepoints and 3 set_config of the organisation around
    # them. No follow-up check is queued: no rule looks at an inbound email.
    with django_assert_num_queries(23):
        assert _post(client, address, HELLO).status_code == 201


def _race(acme, first_raw: bytes, second_raw: bytes) -> list[bool]:
    """File two messages in two transactions, the second starting while the first is open."""
    first_in = threading.Event()
    results: list[bool] = []

    def first() -> None:  # files the message, and holds its transaction open a while
        try:
            with transaction.atomic(), activate(acme):
                results.append(ingest(org=acme, raw=first_raw)[1])
                first_in.set()
                time.sleep(0.5)  # the second is now waiting on this transaction
        finally:
            first_in.set()
            connection.close()

    def second() -> None:  # starts while nothing of the first is committed
        try:
            first_in.wait()
            with transaction.atomic(), activate(acme):
                results.append(ingest(org=acme, raw=second_raw)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)  # two real transactions racing to the same row
def test_it_stores_a_message_posted_twice_at_once_only_once(acme):
    assert _race(acme, HELLO, HELLO) == [True, False]
    assert len(_stored(acme)) == 1
    with activate(acme):
        assert Contact.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # two real transactions racing to one new sender
def test_it_makes_one_lead_of_a_new_sender_writing_twice_at_once(acme):
    other = HELLO.replace(b"hello-1@", b"hello-2@")
    assert _race(acme, HELLO, other) == [True, True]
    emails = _stored(acme)
    assert emails[0].contact_id == emails[1].contact_id is not None
    with activate(acme):
        assert Contact.objects.count() == 1
