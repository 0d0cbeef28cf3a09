"""Interactions' isolation seeder: one row of each of the app's tenant models: an
interaction logged on the seeded contact, with an attachment; a task and its notification;
a follow-up rule and a pending check; a web form; a calendar feed; the inbound address."""

from typing import Any, cast

from django.db import models
from django.utils import timezone

from contacts.models import Contact
from crm.models import Organization, User
from interactions import mail_in
from interactions.attachments import attachments_store
from interactions.calendar import calendar_feed_rotate
from interactions.inbound import mailbox_rotate
from interactions.models import (
    Attachment,
    CalendarFeed,
    FollowUpDue,
    FollowUpRule,
    Interaction,
    Mailbox,
    Notification,
    Task,
    WebForm,
)
from interactions.services import interaction_log, task_create
from interactions.webforms import webform_create

URL_KWARGS: dict[str, type[models.Model]] = {
    "interaction_id": Interaction,
    "task_id": Task,
    "attachment_id": Attachment,
    "form_id": WebForm,
    "notification_id": Notification,
}


def seed(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Run with `org` active, after contacts' seeder (whose contact it is logged on)."""
    contact = cast(Contact | None, Contact.objects.filter(last_name="Secret").first())
    interaction = interaction_log(
        org=org, by=admin, channel="call", direction="outbound", contact=contact,
        subject=f"{org.name} Secret Call", body="The secret plan.",
        external_id=f"<secret@{org.slug}.test>",
    )  # fmt: skip
    mailbox_rotate(org=org, by=admin)
    [attachment] = attachments_store(
        org=org, interaction=interaction, written=[],
        attachments=[mail_in.Attachment("secret-plan.pdf", "application/pdf", b"%PDF")],
    )  # fmt: skip
    task = task_create(
        org=org, by=admin, title=f"{org.name} Secret Task", contact=contact,
        due_at=timezone.now(),
    )  # fmt: skip
    notification = Notification.objects.create(
        org=org, user=admin, kind=Notification.Kind.REMINDER, title="Secret reminder",
        task=task, key=f"reminder:{task.pk}:seed",
    )  # fmt: skip
    rule = FollowUpRule.objects.create(org=org, kind=FollowUpRule.Kind.NO_REPLY, enabled=True)
    due = FollowUpDue.objects.create(
        org=org, rule=rule.kind, interaction=interaction, due_at=timezone.now()
    )
    form = webform_create(
        org=org, by=admin, name=f"{org.name} Secret Form",
        fields=[{"name": "email", "required": True}],
    )  # fmt: skip
    calendar_feed_rotate(org=org, user=admin)
    feed = CalendarFeed.objects.get(user=admin)
    return {
        Interaction: interaction, Mailbox: Mailbox.objects.get(), Attachment: attachment,
        Task: task, Notification: notification, FollowUpRule: rule, FollowUpDue: due,
        WebForm: form, CalendarFeed: feed,
    }  # fmt: skip
