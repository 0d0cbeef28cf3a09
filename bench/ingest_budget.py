"""The ingest budget: 1,000 distinct email messages filed one by one, timed.

Each message goes through `interactions.inbound.ingest`, the service the inbound address's
endpoint and `manage.py ingest_email` call, in its own transaction as they run it. The
messages are made here as mail clients send them (multipart text and HTML, Received lines,
a Message-ID each): most from the large organisation's contacts, some from addresses no
contact has (each makes a lead), some a member's own mail with the CRM in Bcc, and some
replies threading to an earlier one. What the run wrote is deleted afterwards, and the
contacts' and companies' last interaction put back, so every run measures the same thing.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from django.db import connection, transaction
from django.utils import timezone

from contacts.models import Contact
from crm.db import as_owner
from crm.models import Membership, Organization
from crm.tenancy import activate
from interactions import inbound
from interactions.models import FollowUpDue, Interaction

SUBJECTS = ["Proposal for next quarter", "Invoice 2291", "Can we move Thursday's call?",
            "Question about the API", "Renewal", "Feedback on the demo", "Intro"]  # fmt: skip
NAMES = ["Ada Lovelace", "Ben Okafor", "Chloé Martin", "Dmitri Ivanov", "Elena Rossi"]


def _message(
    rng: random.Random, i: int, token: str, sender: tuple[str, str], to: tuple[str, str],
    parent: EmailMessage | None,
) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    when = timezone.now() - timedelta(minutes=1000 - i)
    message["Return-Path"] = f"<{sender[1]}>"
    message["Received"] = (
        f"from mail{i % 7}.example (mail{i % 7}.example [192.0.2.{i % 250}]) by mx.example "
        f"with ESMTPS id {token}{i}; {format_datetime(when)}"
    )
    message["From"] = f'"{sender[0]}" <{sender[1]}>'
    message["To"] = f'"{to[0]}" <{to[1]}>'
    if i % 5 == 0:
        message["Cc"] = f"team.{i % 3}@partner.example"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = f"<{token}.{i}@mail{i % 7}.example>"
    message["MIME-Version"] = "1.0"
    subject = rng.choice(SUBJECTS)
    if parent is not None:
        subject = f"Re: {parent['Subject']}"
        message["In-Reply-To"] = parent["Message-ID"]
        message["References"] = " ".join(
            filter(None, [parent.get("References", ""), parent["Message-ID"]])
        )
    message["Subject"] = subject
    text = (
        f"Hi {to[0].split()[0]},\n\nThanks for your message. About {subject.lower()}: "
        "we are ready to go ahead if the terms stay as discussed.\n\nBest,\n"
        f"{sender[0]}\n\n> On an earlier day, someone wrote:\n> Any news?\n"
    )
    message.set_content(text)
    message.add_alternative(f"<p>{text.replace(chr(10), '<br>')}</p>", subtype="html")
    return message


def messages(org: Organization, count: int, token: str) -> list[bytes]:
    """`count` raw messages: 55 % from contacts, 15 % from unknown addresses, 10 % a member's
    own mail to a contact, 20 % replies to an earlier one of them."""
    rng = random.Random(5)  # noqa: S311  # nosec B311  # benchmark data, not a secret
    with activate(org):
        known = list(
            Contact.objects.alive().exclude(email="").order_by("?").values_list(
                "first_name", "last_name", "email"
            )[:300]
        )  # fmt: skip
        members = list(Membership.objects.values_list("user__email", flat=True))
    inbox = ("Sales", f"sales@{org.slug}.example")
    sent: list[tuple[EmailMessage, tuple[str, str], tuple[str, str]]] = []
    raw = []
    for i in range(count):
        roll = rng.random()
        parent = None
        if roll < 0.55 or not sent:
            first, last, address = rng.choice(known)
            sender, to = (f"{first} {last}", address), inbox
        elif roll < 0.70:
            sender, to = (rng.choice(NAMES), f"lead.{i}.{token}@lead{i % 20}.example"), inbox
        elif roll < 0.80:
            first, last, address = rng.choice(known)
            sender, to = ("A colleague", rng.choice(members)), (f"{first} {last}", address)
        else:  # the other side answers an earlier message
            parent, earlier_sender, earlier_to = rng.choice(sent[-50:])
            sender, to = earlier_to, earlier_sender
        message = _message(rng, i, token, sender, to, parent)
        sent.append((message, sender, to))
        raw.append(message.as_bytes())
    return raw


def measure(org: Organization, count: int) -> float:
    """Seconds to file `count` new messages, one transaction each."""
    token = uuid.uuid4().hex[:12]
    raw = messages(org, count, token)
    started_at = timezone.now()
    started = time.perf_counter()
    for message in raw:
        with transaction.atomic(), activate(org):
            inbound.ingest(org=org, raw=message)
    seconds = time.perf_counter() - started
    _clean_up(org, token, started_at)
    return seconds


def _clean_up(org: Organization, token: str, since: datetime) -> None:
    """Delete what the run filed (its interactions, the leads it made, their History
    events), and set the last interaction it moved forward back from what remains."""
    with activate(org), connection.cursor() as cursor:
        filed = Interaction.objects.filter(external_id__contains=token, created_at__gte=since)
        ids = list(filed.values_list("pk", flat=True))
        FollowUpDue.objects.filter(interaction_id__in=ids).delete()
        cursor.execute("DELETE FROM interactions_interaction WHERE id = ANY(%s)", [ids])
        leads = list(
            Contact.objects.filter(email__contains=token, created_at__gte=since).values_list(
                "pk", flat=True
            )
        )  # fmt: skip
        # Bandit B608: the table names are fixed here; the values go as parameters.
        for table in ("contacts_contacttag", "contacts_consentevent"):
            sql = f"DELETE FROM {table} WHERE contact_id = ANY(%s)"  # noqa: S608  # nosec B608
            cursor.execute(sql, [leads])
        cursor.execute("DELETE FROM contacts_contact WHERE id = ANY(%s)", [leads])
        for table, key in (("contacts_contact", "contact_id"), ("contacts_company", "company_id")):
            cursor.execute(
                f"UPDATE {table} t SET last_interaction_at = ("  # noqa: S608  # nosec B608
                f" SELECT max(occurred_at) FROM interactions_interaction i WHERE i.{key} = t.id"
                " AND i.deleted_at IS NULL AND NOT i.is_automatic)"
                " WHERE t.last_interaction_at >= %s",
                [since],
            )
    _forget_history(org, since, ["interactions.interaction", "contacts.contact"])


def _forget_history(org: Organization, since: datetime, kinds: list[str]) -> None:
    """The run's History events: the app role may only append to the audit log, so they are
    deleted as the owner (still under the organisation's policy)."""
    with as_owner(), activate(org), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM crm_auditevent WHERE at >= %s AND object_type = ANY(%s)", [since, kinds]
        )
