"""Interactions' isolation seeder: one interaction, logged on the seeded contact, with an
attachment, and the organisation's inbound email address."""

from typing import Any, cast

from django.db import models

from contacts.models import Contact
from crm.models import Organization, User
from interactions import mail_in
from interactions.attachments import attachments_store
from interactions.inbound import mailbox_rotate
from interactions.models import Attachment, Interaction, Mailbox
from interactions.services import interaction_log

URL_KWARGS: dict[str, type[models.Model]] = {
    "interaction_id": Interaction,
    "attachment_id": Attachment,
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
    return {Interaction: interaction, Mailbox: Mailbox.objects.get(), Attachment: attachment}
