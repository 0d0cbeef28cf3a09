"""Support's isolation seeder: one row of each of the settings' tenant models, through the
services: business hours, an SLA policy with a target, a queue with an agent, the support
settings and a canned reply, each named after the organisation (a leak shows its name)."""

from typing import Any, cast

from django.db import models

from contacts.models import Contact, Tag
from crm.models import Organization, User
from support import services as ticket_services
from support import settings_services as services
from support.models import (
    AgentStatus,
    BusinessCalendar,
    CannedReply,
    Priority,
    Queue,
    QueueAgent,
    SlaPolicy,
    SlaTarget,
    SupportSettings,
    Ticket,
    TicketEvent,
    TicketTag,
)

URL_KWARGS: dict[str, Any] = {
    # A ticket's pages take its number; the platform's (its timeline, the Trash) its id.
    "number": (Ticket, "number"),
    "ticket_id": Ticket,
    "queue_id": Queue,
    "policy_id": SlaPolicy,
    "calendar_id": BusinessCalendar,
    "reply_id": CannedReply,
}


def seed(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Run with `org` active; `admin` is the queue's lead and agent."""
    calendar = services.calendar_save(
        org=org, by=admin, name=f"{org.name} Secret Hours", zone="Europe/Paris",
        weekly=[[[540, 1020]]] * 5 + [[], []], holidays=[],
    )  # fmt: skip
    policy = services.policy_save(
        org=org, by=admin, name=f"{org.name} Secret Policy", calendar=calendar,
        is_default=True, targets={Priority.NORMAL: (60, 480)},
    )  # fmt: skip
    queue = services.queue_create(
        org=org, by=admin, name=f"{org.name} Secret Queue", email="help@example.com",
        lead=admin, policy=policy, agents=[admin],
    )  # fmt: skip
    reply = services.canned_reply_save(
        org=org, by=admin, name=f"{org.name} Secret Reply", body=f"Hello from {org.name}."
    )
    settings = services.support_settings_update(org=org, by=admin, csat_enabled=False)
    contact = cast(Contact, Contact.objects.filter(last_name="Secret").get())
    # Numbers are per organisation: each starts at its own, so that a probe with one
    # organisation's number cannot land on the other's own ticket of that number.
    SupportSettings.objects.filter(org=org).update(last_number=1000 + 10 * org.pk)
    ticket = ticket_services.ticket_create(
        org=org, by=admin, subject=f"{org.name} Secret Ticket", queue=queue, requester=contact,
        assignee=admin, tags=list(Tag.objects.all()[:1]),
    )  # fmt: skip
    ticket_services.ticket_update(org=org, ticket=ticket, by=admin, priority=Priority.HIGH)
    status = ticket_services.agent_set_available(org=org, user=admin, available=False)
    return {
        AgentStatus: status, Ticket: ticket, TicketTag: TicketTag.objects.get(),
        TicketEvent: TicketEvent.objects.filter(ticket=ticket).first(),
        BusinessCalendar: calendar, SlaPolicy: policy, SlaTarget: SlaTarget.objects.get(),
        Queue: queue, QueueAgent: QueueAgent.objects.get(), CannedReply: reply,
        SupportSettings: settings,
    }  # fmt: skip
