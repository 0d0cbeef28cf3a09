"""Inbound email: an organisation's address (a secret token), and filing one raw message
as an interaction. The web hook and `manage.py ingest_email` both go through `ingest`.

A token is "<org id>.<secret>". The id lets the organisation be activated before its
mailbox is read, as an invitation's signed token does: the mailbox row sits behind
row-level security, and no SECURITY DEFINER function may look past it for a caller with no
organisation (ARCHITECTURE.md). Only sha256(secret) is stored, compared in constant time.
"""

import hmac
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import Contact
from contacts.selectors import (
    contact_by_address_brief,
    contacts_brief,
    contacts_with_other_addresses,
)
from contacts.services import contact_create
from crm import tokens
from crm.audit import audit_record
from crm.db import advisory_lock
from crm.models import Organization, User
from crm.tenancy import activate
from interactions import attachments, mail_in
from interactions.models import Interaction, Mailbox
from interactions.services import EARLIEST, interaction_log

_NOBODY = Organization(pk=0)  # no organisation has id 0: its mailbox query finds nothing
_NO_HASH = tokens.secret_hash("")


# Addresses other apps give out under the same web hook (a support queue's):
# resolve(token) -> (organisation, file) or None, where file(org=, raw=) files the message
# as ingest does, with the organisation active.
Filer = Callable[..., tuple[Interaction, bool]]
_addresses: list[Callable[[str], tuple[Organization, Filer] | None]] = []


def register_address(resolve: Callable[[str], tuple[Organization, Filer] | None]) -> None:
    if resolve not in _addresses:
        _addresses.append(resolve)


def address(token: str) -> tuple[Organization, Filer] | None:
    """The organisation an inbound address belongs to, and what files its mail: the
    organisation's mailbox's, else another app's (a support queue's); None for neither."""
    org = mailbox_org(token)
    if org is not None:
        return org, ingest
    for resolve in _addresses:
        found = resolve(token)
        if found is not None:
            return found
    return None


def mailbox_org(token: str) -> Organization | None:
    """The organisation whose live mailbox `token` opens, or None. Every wrong token costs
    the same two queries and one comparison, whichever part of it is wrong."""
    org_id, secret = tokens.split(token)
    org = Organization.objects.filter(pk=org_id).first()
    with activate(org or _NOBODY):
        stored = Mailbox.objects.filter(revoked_at__isnull=True).values_list("key_hash", flat=True)
        key_hash = stored.first() or _NO_HASH
    matches = hmac.compare_digest(key_hash, tokens.secret_hash(secret))
    return org if matches and secret and key_hash != _NO_HASH else None


@transaction.atomic
def mailbox_rotate(*, org: Organization, by: User | None) -> str:
    """Give the organisation a new address (the old one stops working); the token, once."""
    secret = tokens.new_secret()
    key_hash = tokens.secret_hash(secret)
    mailbox, created = Mailbox.objects.get_or_create(org=org, defaults={"key_hash": key_hash})
    if not created:
        mailbox.key_hash, mailbox.rotated_at, mailbox.revoked_at = (
            key_hash,
            timezone.now(),
            None,
        )
        mailbox.save(update_fields=["key_hash", "rotated_at", "revoked_at"])
    audit_record(org=org, actor=by, action="mailbox.rotated", target=mailbox)
    return tokens.org_token(org.pk, secret)


@transaction.atomic
def mailbox_set_leads(*, org: Organization, by: User | None, create_leads: bool) -> Mailbox:
    """Say whether mail from an unknown address makes a lead."""
    mailbox = Mailbox.objects.filter().first()
    if mailbox is None:  # no address yet: the setting waits for one, unusable until rotated
        mailbox = Mailbox.objects.create(org=org, key_hash=_NO_HASH, revoked_at=timezone.now())
    if mailbox.create_leads != create_leads:
        mailbox.create_leads = create_leads
        mailbox.save(update_fields=["create_leads"])
        changes = {"create_leads": [not create_leads, create_leads]}
        audit_record(org=org, actor=by, action="mailbox.updated", target=mailbox, changes=changes)
    return mailbox


def ingest(
    *, org: Organization, raw: bytes | None = None, parsed: mail_in.Parsed | None = None,
    create_leads: bool | None = None,
) -> tuple[Interaction, bool]:  # fmt: skip
    """File one raw message (or one already parsed) as an inbound email: (the interaction,
    whether it is new). Mail from an unknown address makes a lead as the mailbox's setting
    says, unless `create_leads` says otherwise. Raises mail_in.Refused for what cannot be
    stored; run it with `org` active."""
    if parsed is None:
        parsed = mail_in.parse(raw or b"")
    # The same message posted twice at once: the second waits here for the first's
    # transaction to end, then finds its row.
    advisory_lock(f"interactions.message:{org.pk}:{parsed.message_id}")
    existing = _filed(org, parsed.message_id)
    if existing is not None:
        return existing, False
    try:
        # Files are written only here, for a message not filed before, after its row: if
        # the savepoint rolls back, its rows are gone and the files are deleted again.
        with attachments.undone_on_error() as written, transaction.atomic():
            return _store(org, parsed, written, create_leads), True
    except IntegrityError:
        # The same message, filed at the same instant by a writer that took no lock: the
        # unique index on (org, external_id) let one in; this savepoint rolled back, lead
        # and all.
        return Interaction.objects.get(external_id=parsed.message_id), False
    except ValidationError as error:
        raise mail_in.Refused(" ".join(error.messages)) from error


def _store(
    org: Organization, parsed: mail_in.Parsed, written: list[str], create_leads: bool | None
) -> Interaction:
    automatic = parsed.is_auto_reply or parsed.is_bounce
    participants = [a._asdict() for a in (*parsed.to, *parsed.cc)]
    member = _member(org, parsed.sender)
    if member is None:
        direction = Interaction.Direction.INBOUND
        contact = _sender_contact(org, parsed, automatic=automatic, create_leads=create_leads)
    else:
        # A member's own email, sent from their mail client with the CRM in Bcc: it is to
        # the contacts among its recipients, and an unknown recipient makes no lead.
        direction = Interaction.Direction.OUTBOUND
        contact, matched = _recipient_contacts(parsed)
        for participant in participants:
            if participant["address"] in matched:
                participant["contact_id"] = matched[participant["address"]]
    details: dict[str, Any] = {
        "from": parsed.sender._asdict() if parsed.sender else None,
        "in_reply_to": parsed.in_reply_to,
        "references": list(parsed.references),
        "auto": "bounce" if parsed.is_bounce else "auto_reply" if parsed.is_auto_reply else None,
    }
    if parsed.reply_to:
        details["reply_to"] = [a._asdict() for a in parsed.reply_to]
    selection = attachments.attachments_select(parsed.attachments)
    if selection.skipped:
        details["skipped_attachments"] = list(selection.skipped)
    thread = _thread_root(parsed.thread_keys())
    if thread is not None:
        details["thread"] = thread
    interaction = interaction_log(
        org=org, by=None, author=member, channel=Interaction.Channel.EMAIL,
        direction=direction, occurred_at=_when(parsed.date),
        contact=contact, subject=parsed.subject[:200], body=_text(parsed.text),
        body_html=_text(parsed.html or ""), external_id=parsed.message_id,
        participants=participants, details=details, is_automatic=automatic,
        external_id_checked=True,  # by ingest, under the message's lock
    )  # fmt: skip
    attachments.attachments_store(
        org=org, interaction=interaction, attachments=selection.kept, written=written
    )
    return interaction


def _text(value: str) -> str:
    return value.replace("\x00", "")


def _when(date: datetime | None) -> datetime:
    """The message's date, never in the future; now when it has none or a wild one."""
    now = timezone.now()
    if date is None or date < now - EARLIEST:
        return now
    return min(date, now)


# The start of an address that no person reads: a relay's or a form service's sender.
_NO_REPLY = re.compile(
    r"(?:no|do[-_.]?not)[-_.]?reply|notifications?|notify|mailer|bounces?|forms?", re.IGNORECASE
)


def _is_no_reply(address: str) -> bool:
    local = address.partition("@")[0]
    found = _NO_REPLY.match(local)
    return found is not None and (found.end() == len(local) or local[found.end()] in "-_.+")


def _sender_contact(
    org: Organization, parsed: mail_in.Parsed, *, automatic: bool, create_leads: bool | None
) -> Contact | None:
    """The contact the message is from: the sender's, else the one its Reply-To names (a
    relay or a form service sends from its own no-reply address, on a person's behalf).
    Neither known: a new lead, from Reply-To when the sender is such an address."""
    sender = parsed.sender if parsed.sender and parsed.sender.address else None
    own = sender.address if sender else ""
    reply_to = [a for a in parsed.reply_to if a.address and a.address != own]
    for candidate in (sender, *reply_to):
        contact = _known(org, candidate.address) if candidate is not None else None
        if contact is not None:
            return contact
    lead = reply_to[0] if reply_to and (sender is None or _is_no_reply(sender.address)) else sender
    makes = _creates_leads() if create_leads is None else create_leads
    if lead is None or automatic or not makes:
        return None
    address = lead.address
    # Two messages from a new address at once would make two leads: the second waits for
    # the first's transaction to end, then finds its lead.
    advisory_lock(f"interactions.lead:{org.pk}:{address}")
    contact = _known(org, address)
    if contact is not None:
        return contact
    first, _, last = lead.name.strip().partition(" ")
    try:
        with transaction.atomic():
            return contact_create(
                org=org, by=None, email=address, first_name=first[:100], last_name=last[:100]
            )
    except ValidationError:
        return None  # an address the contact form would refuse: the email is kept, unlinked


# Filing a message runs a dozen queries, and building the ORM form of one cost more than
# running it: the three every message makes (filed before? from a member? from which
# contact? the last in contacts.selectors) are plain SQL, under the policy like any other.
_FILED = "SELECT id FROM interactions_interaction WHERE org_id = %s AND external_id = %s"


def _filed(org: Organization, message_id: str) -> Interaction | None:
    """The interaction this message was filed as before, if it was."""
    with connection.cursor() as cursor:
        cursor.execute(_FILED, [org.pk, message_id])
        found = cursor.fetchone()
    return Interaction.objects.get(pk=found[0]) if found else None


def _known(org: Organization, address: str) -> Contact | None:
    """The live contact with this address, with what filing and its callers read."""
    return contact_by_address_brief(org, address)


MAX_RECIPIENTS = 100  # of a member's message, the To and Cc addresses looked up


def _recipient_contacts(parsed: mail_in.Parsed) -> tuple[Contact | None, dict[str, int]]:
    """The contacts among a message's To and Cc: the first recipient's that is one, and the
    contact id of each address that matched. Two queries, as `_known`."""
    addresses = list(dict.fromkeys(a.address for a in (*parsed.to, *parsed.cc) if a.address))
    addresses = addresses[:MAX_RECIPIENTS]
    alive = contacts_brief().order_by("-pk")
    found: dict[str, Contact] = {}
    for contact in alive.filter(email__in=addresses):  # the lowest id last, so it wins
        found[contact.email] = contact
    rest = [a for a in addresses if a not in found]
    if rest:
        by_other: dict[str, Contact] = {}
        for contact in contacts_with_other_addresses(alive, rest):
            by_other.update((a, contact) for a in contact.other_emails if a in rest)
        found.update(by_other)
    first = next((found[a] for a in addresses if a in found), None)
    return first, {address: contact.pk for address, contact in found.items()}


# The organisation's active member with this login address, or a verified other address:
# the first to join.
_MEMBER = """
    SELECT m.user_id FROM crm_membership m JOIN crm_user u ON u.id = m.user_id
    WHERE m.org_id = %(org)s AND u.is_active AND (
        u.email = %(address)s OR u.id IN (
            SELECT e.user_id FROM account_emailaddress e
            WHERE e.email = %(address)s AND e.verified
        )
    )
    ORDER BY m.id LIMIT 1
"""


def _member(org: Organization, sender: mail_in.Address | None) -> User | None:
    """The member of the organisation whose address sent the message: their login email, or
    another address of theirs they have verified (allauth keeps them lower-cased, as the
    parser gives them)."""
    if sender is None or not sender.address:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER, {"org": org.pk, "address": sender.address})
        found = cursor.fetchone()
    return User.objects.filter(pk=found[0]).first() if found else None


def _creates_leads() -> bool:
    setting = Mailbox.objects.values_list("create_leads", flat=True).first()
    return True if setting is None else setting


def _thread_root(keys: tuple[str, ...]) -> int | None:
    """The id of the first message of the conversation this one answers, if it is filed."""
    if not keys:
        return None
    found = {
        i.external_id: i
        for i in Interaction.objects.filter(external_id__in=keys[:mail_in.MAX_REFERENCES])
        .only("id", "external_id", "details")
    }  # fmt: skip
    for key in keys:  # nearest ancestor first
        if key in found:
            parent = found[key]
            root = parent.details.get("thread") if isinstance(parent.details, dict) else None
            return root if isinstance(root, int) else parent.pk
    return None
