"""Customer satisfaction: when a ticket is solved, its requester is emailed five links, one
per rating from 1 to 5, and the first one used is kept on the ticket with an optional comment.

A link is /csat/<token>/, the token signing (organisation, ticket, score) with this module's
salt, so it needs no login and names its organisation itself; a tampered one fails the
signature and an old one (past MAX_AGE) expires. Each ticket takes one answer: a later click
of any of its links is refused and changes nothing.

The email goes from a worker (support.csat_send, in support.csat_tasks) after the solving
transaction commits, once per solve: the ticket's id and the time it was solved key it, and
the audit log keeps that it went.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from crm.audit import audit_record
from crm.models import AuditEvent, Organization
from crm.tasks import enqueue
from interactions import outbound
from support.models import SupportSettings, Ticket, TicketEvent

TASK = "support.csat_send"
SALT = "support.csat"
MAX_AGE = 60 * 24 * 3600  # seconds: a link works for 60 days after the email
MAX_TOKEN = 200  # characters: a real token is under 100; anything longer is not ours
MAX_COMMENT = 2_000
REQUESTED = "ticket.csat_requested"  # the audit action that keeps that the email went
# The five answers, best first, as the email and the pages word them.
LABELS = {5: "Excellent", 4: "Good", 3: "OK", 2: "Poor", 1: "Very poor"}


class LinkExpired(Exception):
    """The link is genuine but older than MAX_AGE."""


class LinkInvalid(Exception):
    """The link is not one this deployment signed: tampered with, cut short, or made up."""


@dataclass(frozen=True)
class Claims:
    """What a genuine link says: which organisation's ticket, rated how."""

    org_id: int
    ticket_id: int
    score: int


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: [ValidationError(message, code=code)]})


# --- Links ------------------------------------------------------------------------------------


def csat_token(ticket: Ticket, score: int) -> str:
    if score not in LABELS:
        raise ValueError(f"A rating is 1 to 5, not {score}.")
    return signing.dumps([ticket.org_id, ticket.pk, score], salt=SALT, compress=False)


def csat_link(ticket: Ticket, score: int) -> str:
    """The path (from the site's root) of the link that rates `ticket` with `score`."""
    return reverse("csat_rate", args=[csat_token(ticket, score)])


def csat_claims(token: str) -> Claims:
    """What `token` says; LinkExpired or LinkInvalid for a link that must change nothing."""
    if len(token) > MAX_TOKEN:
        raise LinkInvalid(token[:20])
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired as error:
        raise LinkExpired(token[:20]) from error
    except (signing.BadSignature, ValueError) as error:
        raise LinkInvalid(token[:20]) from error
    valid = (
        isinstance(payload, list) and len(payload) == 3
        and all(type(part) is int for part in payload) and payload[2] in LABELS
    )  # fmt: skip
    if not valid:  # signed with our key and salt, yet not a rating: never trust its parts
        raise LinkInvalid(token[:20])
    return Claims(org_id=payload[0], ticket_id=payload[1], score=payload[2])


# --- The request ------------------------------------------------------------------------------


def csat_enabled() -> bool:
    """Whether the active organisation asks for ratings (on until switched off)."""
    enabled = SupportSettings.objects.values_list("csat_enabled", flat=True).first()
    return True if enabled is None else bool(enabled)


def csat_request(*, org: Organization, ticket: Ticket) -> bool:
    """Called as `ticket` becomes solved: have its requester emailed the rating links once the
    transaction commits, if the organisation asks for ratings, the requester has an address
    and the ticket has no rating yet. Whether an email was queued."""
    if ticket.solved_at is None or ticket.csat_score is not None or not csat_enabled():
        return False
    requester = ticket.requester
    if requester is None or not requester.email:
        return False
    enqueue(TASK, org_id=org.pk, ticket_id=ticket.pk, solved_at=_stamp(ticket.solved_at))
    return True


def _stamp(at: datetime) -> str:
    """A solve's key: when, in UTC, to the microsecond (as the database keeps it)."""
    return at.astimezone(UTC).isoformat()


def _already_requested(ticket: Ticket, solved_at: str) -> bool:
    return AuditEvent.objects.filter(
        action=REQUESTED, object_type=Ticket._meta.label_lower, object_id=str(ticket.pk),
        changes__contains={"solved_at": [None, solved_at]},
    ).exists()  # fmt: skip


@transaction.atomic
def csat_send(*, org: Organization, ticket_id: int, solved_at: str) -> bool:
    """Email the rating links for the solve that `solved_at` names; whether it went now. The
    ticket's row stays locked until the commit, so two workers never both send; nothing goes
    for a solve that is over (reopened since), a rated ticket, or one asked already. A mail
    server's error is raised, for the task to retry, and nothing is written."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",)).select_related("requester", "queue")
        .filter(pk=ticket_id, deleted_at__isnull=True).first()
    )  # fmt: skip
    if ticket is None or ticket.solved_at is None or ticket.csat_score is not None:
        return False
    requester = ticket.requester
    if _stamp(ticket.solved_at) != solved_at or requester is None or not requester.email:
        return False
    if _already_requested(ticket, solved_at):
        return False
    _message(org, ticket).send()
    audit_record(
        org=org, actor=None, action=REQUESTED, target=ticket,
        changes={"solved_at": [None, solved_at]},
    )  # fmt: skip
    return True


def _message(org: Organization, ticket: Ticket) -> EmailMultiAlternatives:
    from support.services import reply_subject

    assert ticket.requester is not None
    site = settings.SITE_URL.rstrip("/")
    context: dict[str, Any] = {
        "org": org, "ticket": ticket, "requester": ticket.requester,
        "choices": [
            {"score": score, "label": label, "url": site + csat_link(ticket, score)}
            for score, label in LABELS.items()
        ],
    }  # fmt: skip
    domain = outbound.sender_address().rpartition("@")[2] or "localhost"
    stamp = int(ticket.solved_at.timestamp()) if ticket.solved_at else 0
    message = EmailMultiAlternatives(
        subject=f"How did we do? {reply_subject(ticket)}"[:200],
        body=render_to_string("support/csat_email.txt", context),
        from_email=formataddr((org.name, outbound.sender_address())),
        to=[ticket.requester.email],
        reply_to=[ticket.queue.email] if ticket.queue.email else None,
        # The same id for the same solve: a message sent twice shows once.
        headers={"Message-ID": f"<csat-{org.pk}-{ticket.pk}-{stamp}@{domain}>"},
    )  # fmt: skip
    message.attach_alternative(render_to_string("support/csat_email.html", context), "text/html")
    return message


# --- The answer -------------------------------------------------------------------------------


@transaction.atomic
def csat_record(*, org: Organization, ticket: Ticket, score: int, comment: str = "") -> Ticket:
    """Keep the requester's rating of `ticket`, the first one only: a ticket rated already is
    refused (code "rated") and left as it was. A "rated" event goes on its timeline."""
    if score not in LABELS:
        raise _refuse("A rating is from 1 to 5.", "invalid")
    comment = _clean_comment(comment, required=False)
    now = timezone.now()
    # One statement claims the answer: of two clicks at once, one updates the row.
    claimed = Ticket.objects.filter(pk=ticket.pk, csat_score__isnull=True).update(
        csat_score=score, csat_at=now, csat_comment=comment, touched_at=now
    )
    if not claimed:
        raise _refuse("This ticket was rated already: the first answer is the one kept.", "rated")
    ticket.refresh_from_db()
    TicketEvent.objects.create(
        org=org, ticket=ticket, kind=TicketEvent.Kind.RATED, new=f"{score}/5", at=now
    )
    audit_record(
        org=org, actor=None, action="ticket.rated", target=ticket,
        changes={"csat_score": [None, score]},
    )  # fmt: skip
    return ticket


@transaction.atomic
def csat_comment_add(*, org: Organization, ticket: Ticket, score: int, comment: str) -> Ticket:
    """Add the requester's comment to the rating given with `score`'s link, once: refused
    (code "commented") when the ticket has one, and (code "unrated") when that link's rating
    is not the one kept."""
    comment = _clean_comment(comment, required=True)
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.csat_score is None or locked.csat_score != score:
        raise _refuse("Send your rating first: a comment goes with it.", "unrated")
    if locked.csat_comment:
        raise _refuse("This rating has its comment already: thank you.", "commented")
    locked.csat_comment = comment
    locked.save(update_fields=["csat_comment"])
    audit_record(
        org=org, actor=None, action="ticket.rated", target=locked,
        changes={"csat_comment": [False, True]},  # the words stay on the ticket only
    )  # fmt: skip
    ticket.csat_comment = comment
    return locked


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationError({"comment": "Write your comment."})
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": f"Keep it under {MAX_COMMENT:,} characters."})
    if "\x00" in comment:
        raise ValidationError({"comment": "Remove the null characters (\\x00)."})
    return comment
