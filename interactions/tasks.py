"""Interactions' background jobs: thin doors that activate the organisation (TenantTask)
and call a service. Each is safe to run twice."""

from celery import shared_task

from crm.tasks import TenantTask


@shared_task(
    name="interactions.email_send", base=TenantTask, bind=True, ignore_result=True,
    autoretry_for=(*TenantTask.autoretry_for, OSError), max_retries=4,
)  # fmt: skip
def email_send(self: TenantTask, *, org_id: int, interaction_id: int) -> str:
    """Send an email written in the app. A mail server's error (smtplib's are OSErrors) is
    retried with backoff; on the last try the email is marked failed instead."""
    from crm.tenancy import require_org
    from interactions.outbound import interaction_email_deliver

    last_try = self.request.retries >= (self.max_retries or 0)
    return interaction_email_deliver(
        org=require_org(), interaction_id=interaction_id, last_try=last_try
    )


@shared_task(name="interactions.followups_schedule", base=TenantTask, ignore_result=True)
def followups_schedule(*, org_id: int, interaction_id: int) -> None:
    """Write the check a follow-up rule will make of an interaction just logged."""
    from crm.tenancy import require_org
    from interactions import followups
    from interactions.models import Interaction

    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is not None:  # gone since: nothing to follow up
        followups.followups_schedule(org=require_org(), interaction=interaction)


@shared_task(name="interactions.followups_run", base=TenantTask, ignore_result=True)
def followups_run(*, org_id: int) -> int:
    """Sent by beat every minute in each organisation: make the follow-up checks now due."""
    from crm.tenancy import require_org
    from interactions import followups

    return followups.followups_run(org=require_org())


@shared_task(name="interactions.reminders_run", base=TenantTask, ignore_result=True)
def reminders_run(*, org_id: int) -> int:
    """Sent by beat every minute in each organisation: the reminders now due."""
    from crm.tenancy import require_org
    from interactions import reminders

    return reminders.reminders_run(org=require_org())


@shared_task(name="interactions.notification_email", base=TenantTask, ignore_result=True)
def notification_email(*, org_id: int, notification_id: int) -> bool:
    """Email a notification (a reminder) once."""
    from crm.tenancy import require_org
    from interactions import reminders

    return reminders.notification_email(org=require_org(), notification_id=notification_id)
