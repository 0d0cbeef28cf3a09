"""Outbound email: a member writes to a contact from the contact's page. The email is logged
at once (delivery "queued") and a worker sends it (interactions.email_send); a send that
keeps failing is marked "failed", with the reason, and its author is told.

The message goes out from the deployment's address (DEFAULT_FROM_EMAIL) under the member's
name, since the CRM cannot send as the organisation's own domain. Its Message-ID is the
interaction's external id, so that the customer's reply (In-Reply-To, References), posted
to the inbound address, is threaded to it by interactions.inbound.
"""

import smtplib
import socket
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from contacts.models import Contact
from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.tasks import enqueue
from interactions import inbound, services
from interactions.models import Interaction, Mailbox, Notification

TASK = "interactions.email_send"
MAX_BODY = 50_000  # characters: a long email, not a pasted document
SEND_TIMEOUT = 30  # seconds a mail server may take to answer, unless EMAIL_TIMEOUT says
Delivery = Interaction.Delivery


def sender_address() -> str:
    """The deployment's own address, which every email sent from the app comes from."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "crm@localhost"


def new_message_id() -> str:
    """A fresh Message-ID at the deployment's domain, without its angle brackets (as
    interactions.mail_in stores the ids of inbound mail)."""
    domain = sender_address().rpartition("@")[2] or "localhost"
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "localhost"
    return make_msgid(domain=domain).strip("<>")


def _check_message(contact: Contact, subject: str, body: str) -> None:
    errors: dict[str, str] = {}
    if not contact.email:
        errors["__all__"] = f"{contact} has no email address: add one to write to them."
    if not subject.strip():
        errors["subject"] = "Give the email a subject."
    elif "\n" in subject or "\r" in subject:
        errors["subject"] = "A subject is one line."
    if not body.strip():
        errors["body"] = "Write the message."
    elif len(body) > MAX_BODY:
        errors["body"] = f"Keep the message under {MAX_BODY:,} characters."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def interaction_email_send(
    *, org: Organization, by: User, contact: Contact, subject: str, body: str
) -> Interaction:
    """Log an email from `by` to the contact's address, queued; a worker sends it once this
    transaction commits."""
    _check_message(contact, subject, body)
    interaction = services.interaction_log(
        org=org, by=by, channel=Interaction.Channel.EMAIL,
        direction=Interaction.Direction.OUTBOUND, contact=contact, subject=subject.strip(),
        body=body, external_id=new_message_id(), delivery=Delivery.QUEUED,
        participants=[{"name": contact.name, "address": contact.email}],
    )  # fmt: skip
    enqueue(TASK, org_id=org.pk, interaction_id=interaction.pk)
    return interaction


@transaction.atomic
def interaction_email_retry(*, org: Organization, by: User, interaction: Interaction) -> bool:
    """Queue a failed email again (its author or a manager may); False when it is not a
    failed email any more (sent, or already queued again by a second click)."""
    membership = Membership.objects.filter(user=by).first()
    if membership is None or not services.may_change(membership, interaction):
        raise PermissionDenied("Only its author or a manager may send this email again.")
    locked = Interaction.objects.select_for_update().filter(pk=interaction.pk).first()
    if locked is None or locked.delivery != Delivery.FAILED or locked.deleted_at is not None:
        return False
    locked.delivery, locked.delivery_error = Delivery.QUEUED, ""
    locked.save(update_fields=["delivery", "delivery_error", "updated_at"])
    interaction.delivery, interaction.delivery_error = locked.delivery, ""
    audit_record(org=org, actor=by, action="interaction.email_retried", target=locked)
    enqueue(TASK, org_id=org.pk, interaction_id=locked.pk)
    return True


def interaction_email_deliver(*, org: Organization, interaction_id: int, last_try: bool) -> str:
    """Send a queued email, once: the row stays locked until the task's transaction ends, and
    only a "queued" one is sent. A mail server's error is raised for the task to retry,
    except on the last try (or for a refusal that retrying cannot change): then the email is
    marked "failed" and its author notified. Returns the delivery it ends with."""
    interaction = (
        Interaction.objects.select_for_update(of=("self",))
        .select_related("author", "contact")
        .filter(pk=interaction_id)
        .first()
    )
    if interaction is None or interaction.delivery != Delivery.QUEUED:
        return interaction.delivery if interaction else ""
    if interaction.deleted_at is not None:
        return _failed(org, interaction, "It was moved to the Trash before it went.")
    try:
        _message(interaction).send()
    except OSError as error:  # smtplib's errors are OSErrors, as are refused connections
        if not (last_try or _permanent(error)):
            raise
        return _failed(org, interaction, _reason(error))
    except ValueError:  # a header Django will not write (BadHeaderError): no retry helps
        return _failed(org, interaction, "The email could not be written: check its subject.")
    interaction.delivery, interaction.delivery_error = Delivery.SENT, ""
    interaction.save(update_fields=["delivery", "delivery_error", "updated_at"])
    return Delivery.SENT


def _message(interaction: Interaction) -> EmailMessage:
    author = interaction.author
    name = author.display_name if author is not None else str(interaction.org)
    # A ticket's reply says where answers go (its queue's address) and what it answers.
    details = interaction.details if isinstance(interaction.details, dict) else {}
    reply_to = (
        details.get("reply_to")
        or Mailbox.objects.values_list("reply_to", flat=True).first()
        or (author.email if author is not None else "")
    )
    to = [p["address"] for p in interaction.participants if p.get("address")]
    timeout = settings.EMAIL_TIMEOUT or SEND_TIMEOUT
    headers = {"Message-ID": f"<{interaction.external_id}>"}
    if details.get("in_reply_to"):
        headers["In-Reply-To"] = headers["References"] = f"<{details['in_reply_to']}>"
    return EmailMessage(
        subject=interaction.subject, body=interaction.body,
        from_email=formataddr((name, sender_address())), to=to,
        reply_to=[reply_to] if reply_to else None, headers=headers,
        connection=get_connection(fail_silently=False, timeout=timeout),
    )  # fmt: skip


def _permanent(error: OSError) -> bool:
    """A refusal that sending again will not change: the server's 5xx answer."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return False  # a setting the operator can fix; the retries give them the time
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _reason(error: OSError) -> str:
    """What went wrong, in a line a member can read."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the address: " + ", ".join(error.recipients)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "The mail server refused the CRM's login: ask an administrator to check it."
    if isinstance(error, smtplib.SMTPResponseException):
        said = error.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"The mail server answered {error.smtp_code}: {' '.join(text.split())}"[:300]
    if isinstance(error, socket.timeout | TimeoutError):
        return "The mail server did not answer in time."
    if isinstance(error, ConnectionError | socket.gaierror | smtplib.SMTPServerDisconnected):
        return "The mail server could not be reached."
    return f"The mail could not be sent ({type(error).__name__})."


def _failed(org: Organization, interaction: Interaction, reason: str) -> str:
    interaction.delivery, interaction.delivery_error = Delivery.FAILED, reason
    interaction.save(update_fields=["delivery", "delivery_error", "updated_at"])
    if interaction.author_id is not None:
        # One notification per failure: the count of this email's earlier ones numbers it
        # (the row lock above keeps two workers from counting at once).
        earlier = Notification.objects.filter(key__startswith=f"send_failed:{interaction.pk}:")
        to = interaction.contact or interaction.participants[0].get("address", "")
        Notification.objects.create(
            org=org, user_id=interaction.author_id, kind=Notification.Kind.SEND_FAILED,
            title=f"Your email “{interaction.subject}” to {to} was not sent: {reason}"[:300],
            url=_page(org, interaction), key=f"send_failed:{interaction.pk}:{earlier.count() + 1}",
        )  # fmt: skip
    return Delivery.FAILED


def _page(org: Organization, interaction: Interaction) -> str:
    if interaction.contact_id is None:
        return reverse("interactions:detail", args=[org.slug, interaction.pk])
    page = reverse("contacts:detail", args=[org.slug, interaction.contact_id])
    return f"{page}#interaction-{interaction.pk}"


@transaction.atomic
def mailbox_set_reply_to(*, org: Organization, by: User | None, reply_to: str) -> Mailbox:
    """Set the Reply-To address of email sent from the app ("" for each member's own)."""
    mailbox = Mailbox.objects.first()
    if mailbox is None:  # no inbound address yet: the settings row, unusable until rotated
        mailbox = inbound.mailbox_set_leads(org=org, by=by, create_leads=True)
    reply_to = reply_to.strip()
    if reply_to:
        try:
            validate_email(reply_to)
        except ValidationError as error:
            raise ValidationError({"reply_to": "Enter an email address."}) from error
    if mailbox.reply_to != reply_to:
        changes: dict[str, Any] = {"reply_to": [mailbox.reply_to, reply_to]}
        mailbox.reply_to = reply_to
        mailbox.save(update_fields=["reply_to"])
        audit_record(org=org, actor=by, action="mailbox.updated", target=mailbox, changes=changes)
    return mailbox
