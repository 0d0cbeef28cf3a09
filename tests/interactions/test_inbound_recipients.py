"""Whom an inbound message is filed on: the sender or, for a relay's no-reply sender, the
person Reply-To names; and a member's own email, Bcc'd to the CRM, filed as outbound on the
contacts among its recipients."""

import pytest
from django.test import Client

from contacts.models import Contact
from crm.tenancy import activate
from interactions.inbound import mailbox_rotate
from interactions.models import Interaction
from tests.factories import ContactFactory
from tests.interactions.messages import eml

pytestmark = pytest.mark.django_db

FORM_RELAY = eml("""
    From: Website forms <no-reply@forms.example>
    Reply-To: Ada Lovelace <ada@example.com>
    To: sales@acme.test
    Subject: New enquiry
    Message-ID: <enquiry-1@forms.example>

    Twenty seats, please.
""")

FROM_ALICE = eml("""
    From: Alice Archer <Alice@Acme.test>
    To: Grace Hopper <grace@example.com>, Ada Lovelace <ada@example.com>
    Cc: Nobody Known <stranger@example.net>
    Bcc: crm@acme.test
    Subject: Your quote
    Message-ID: <quote-9@acme.test>

    Here is the quote.
""")


@pytest.fixture
def address(acme) -> str:
    with activate(acme):
        return f"/inbound/email/{mailbox_rotate(org=acme, by=None)}/"


def _post(client: Client, address: str, raw: bytes):
    return client.post(address, raw, content_type="message/rfc822")


def _filed(org) -> Interaction:
    with activate(org):
        return Interaction.objects.select_related("contact", "author").get()


def test_a_relays_message_is_filed_on_the_contact_reply_to_names(client, acme, address):
    ada = ContactFactory(org=acme, email="ada@example.com")
    assert _post(client, address, FORM_RELAY).status_code == 201
    email = _filed(acme)
    assert (email.contact_id, email.direction) == (ada.pk, "inbound")
    assert email.details["reply_to"] == [{"name": "Ada Lovelace", "address": "ada@example.com"}]
    assert email.details["from"]["address"] == "no-reply@forms.example"


def test_reply_to_matches_by_another_email_too(client, acme, address):
    ada = ContactFactory(org=acme, email="countess@example.org", other_emails=["ada@example.com"])
    _post(client, address, FORM_RELAY)
    assert _filed(acme).contact_id == ada.pk


def test_the_sender_comes_before_reply_to(client, acme, address):
    relay = ContactFactory(org=acme, email="no-reply@forms.example")
    ContactFactory(org=acme, email="ada@example.com")
    _post(client, address, FORM_RELAY)
    assert _filed(acme).contact_id == relay.pk


def test_a_relays_unknown_person_becomes_a_lead_from_reply_to(client, acme, address):
    _post(client, address, FORM_RELAY)
    lead = _filed(acme).contact
    assert (lead.first_name, lead.last_name, lead.email) == ("Ada", "Lovelace", "ada@example.com")
    with activate(acme):
        assert not Contact.objects.filter(email="no-reply@forms.example").exists()


def test_a_persons_reply_to_does_not_replace_them_as_the_lead(client, acme, address):
    raw = FORM_RELAY.replace(b"no-reply@forms.example", b"grace@example.com")
    _post(client, address, raw)
    assert _filed(acme).contact.email == "grace@example.com"


def test_a_members_message_is_filed_outbound_on_the_first_known_recipient(
    client, acme, alice, address
):
    ada = ContactFactory(org=acme, email="ada@example.com")
    grace = ContactFactory(
        org=acme, email="g.hopper@example.org", other_emails=["grace@example.com"]
    )
    assert _post(client, address, FROM_ALICE).status_code == 201
    email = _filed(acme)
    assert (email.direction, email.author, email.contact_id) == ("outbound", alice, grace.pk)
    by_address = {p["address"]: p.get("contact_id") for p in email.participants}
    assert by_address == {
        "grace@example.com": grace.pk, "ada@example.com": ada.pk, "stranger@example.net": None
    }  # fmt: skip
    assert email.external_id == "quote-9@acme.test"


def test_a_members_message_makes_no_lead(client, acme, alice, address):
    assert _post(client, address, FROM_ALICE).status_code == 201
    email = _filed(acme)
    assert (email.direction, email.author, email.contact) == ("outbound", alice, None)
    with activate(acme):
        assert not Contact.objects.exists()


def test_another_organisations_member_is_no_member_here(client, acme, address, globex, charlie):
    raw = FROM_ALICE.replace(b"Alice@Acme.test", b"charlie@globex.test")
    _post(client, address, raw)
    email = _filed(acme)
    assert (email.direction, email.author) == ("inbound", None)
    assert email.contact.email == "charlie@globex.test"  # a lead, as any stranger


def test_the_contacts_reply_threads_to_the_members_message(client, acme, alice, address):
    ContactFactory(org=acme, email="grace@example.com")
    _post(client, address, FROM_ALICE)
    reply = eml("""
        From: grace@example.com
        Subject: Re: Your quote
        Message-ID: <re-quote-9@example.com>
        In-Reply-To: <quote-9@acme.test>

        Thanks!
    """)
    _post(client, address, reply)
    with activate(acme):
        sent, answer = Interaction.objects.order_by("pk")
    assert (sent.direction, answer.direction) == ("outbound", "inbound")
    assert answer.details["thread"] == sent.pk
    assert answer.contact_id == sent.contact_id
