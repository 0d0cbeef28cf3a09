"""Mail to a queue's address: the customer's message opens a ticket, or, when it answers
one (its In-Reply-To or References name a message of the ticket, or its subject says
"[#1042]" and it comes from the ticket's requester), is added to that ticket's
conversation and opens it again if it was solved or waiting on the customer.

Auto-replies and bounces are filed (an out-of-office on a ticket shows on it) but never
open a ticket nor change one: a vacation responder answering our reply, which answers it
again, cannot start a loop. Mail from an unknown address makes a contact of its sender.
"""

import hmac
import re

from django.db import transaction

from crm import tokens
from crm.models import Organization
from crm.tenancy import activate
from interactions import inbound, mail_in, outbound
from interactions.models import Interaction
from support import services
from support.models import Queue, Status, Ticket

_NOBODY = Organization(pk=0)
_NUMBER = re.compile(r"\[#(\d{1,9})\]")


def queue_address(token: str) -> tuple[Organization, inbound.Filer] | None:
    """The organisation and the filer of the live queue whose address `token` is."""
    org_id, secret = tokens.split(token)
    if not org_id or not secret:
        return None
    org = Organization.objects.filter(pk=org_id).first()
    with activate(org or _NOBODY):
        queue = Queue.objects.filter(inbound_token=token, is_archived=False).first()
    if org is None or queue is None or not hmac.compare_digest(queue.inbound_token, token):
        return None

    def file(*, org: Organization, raw: bytes) -> tuple[Interaction, bool]:
        return queue_ingest(org=org, queue=queue, raw=raw)

    return org, file


@transaction.atomic
def queue_ingest(*, org: Organization, queue: Queue, raw: bytes) -> tuple[Interaction, bool]:
    """File one message sent to the queue, and open or answer its ticket; run it with `org`
    active. (The interaction, whether it is new): the same message twice does nothing more."""
    parsed = mail_in.parse(raw)
    interaction, created = inbound.ingest(org=org, parsed=parsed, create_leads=True)
    if not created or interaction.ticket_id is not None:
        return interaction, created
    ticket = _answered(parsed, interaction)
    ours = parsed.sender is not None and parsed.sender.address == outbound.sender_address()
    if interaction.is_automatic or ours:
        if ticket is not None:  # on its ticket, for the record; the ticket stays as it is
            Interaction.objects.filter(pk=interaction.pk).update(ticket=ticket)
        return interaction, created
    if ticket is None or ticket.status == Status.CLOSED:
        ticket = services.ticket_create(
            org=org, by=None, subject=parsed.subject or "(no subject)", queue=queue,
            requester=interaction.contact, at=interaction.occurred_at,
        )  # fmt: skip
        Interaction.objects.filter(pk=interaction.pk).update(ticket=ticket)
        interaction.ticket = ticket
        return interaction, created
    Interaction.objects.filter(pk=interaction.pk).update(ticket=ticket)
    interaction.ticket = ticket
    if ticket.status in (Status.SOLVED, Status.PENDING):
        # The customer answered: the ticket is theirs to work again, its clock running.
        services.ticket_update(org=org, ticket=ticket, by=None, status=Status.OPEN)
    else:
        Ticket.objects.filter(pk=ticket.pk).update(touched_at=interaction.occurred_at)
    return interaction, created


def _answered(parsed: mail_in.Parsed, interaction: Interaction) -> Ticket | None:
    """The ticket this message answers, if any (merged ones lead to where they went)."""
    keys = parsed.thread_keys()[: mail_in.MAX_REFERENCES]
    ticket_id = (
        Interaction.objects.filter(external_id__in=keys, ticket__isnull=False)
        .values_list("ticket_id", flat=True).first() if keys else None
    )  # fmt: skip
    ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
    if ticket is None and (found := _NUMBER.search(parsed.subject)) is not None:
        # A number in the subject is easy to write: only the requester's own mail counts.
        by_number = Ticket.objects.filter(number=int(found[1])).first()
        if by_number is not None and interaction.contact_id == by_number.requester_id:
            ticket = by_number
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    if ticket is not None and ticket.deleted_at is not None:
        return None
    return ticket
