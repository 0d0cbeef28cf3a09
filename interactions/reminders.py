"""Reminders and notifications. A task's reminder becomes, once, a line in its assignee's
notifications menu and an email.

Beat runs `reminders_run` every minute in each organisation: it claims the open tasks whose
reminder time has come (FOR UPDATE SKIP LOCKED, so two workers share them without doubles),
and in the same transaction writes each one's notification (unique by task and reminder
time) and marks the task reminded. So a reminder is written exactly once, whatever dies.

The email goes after that commit, one task per notification (`notification_email`): it
locks the notification, sends, and clears `email_pending` in one transaction. A worker
killed while sending leaves it pending and locked by nobody: the task, acknowledged late,
runs again, and `reminders_run` also sends again the email of any notification pending for
more than RESEND_AFTER (a task lost with the broker). The one moment a kill could send an
email twice is between the mail server accepting it and that commit: the message then goes
twice with the same Message-ID, which mail programs show as one.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.models import Organization
from crm.tasks import enqueue
from interactions.models import Notification, Task

logger = logging.getLogger(__name__)

BATCH = 500
RESEND_AFTER = timedelta(minutes=5)


def reminder_key(task: Task) -> str:
    """One reminder: the task, its reminder time, and when the task was last edited, so
    that a reminder set again (even back to a time already sent) is a new one, and the
    same one claimed twice is not."""
    assert task.reminder_at is not None
    return (
        f"reminder:{task.pk}:{int(task.reminder_at.timestamp())}:{task.updated_at.timestamp():.6f}"
    )


@transaction.atomic
def reminders_run(*, org: Organization, now: datetime | None = None, batch: int = BATCH) -> int:
    """Write the notification of each reminder now due; how many. Safe to run at once in
    several workers and to run again."""
    now = now or timezone.now()
    due = (
        Task.objects.filter(
            reminder_at__lte=now, reminded_at__isnull=True, reminder_at__isnull=False,
            status=Task.Status.OPEN, deleted_at__isnull=True,
        )
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("reminder_at")[:batch]
    )  # fmt: skip
    tasks = list(due)
    made = [
        Notification(
            org=org, user_id=recipient, task=task,
            kind=Notification.Kind.REMINDER, key=reminder_key(task), email_pending=True,
            title=f"Reminder: {task.title}",
            url=reverse("tasks:detail", args=[org.slug, task.pk]),
        )
        for task in tasks if (recipient := _recipient(task)) is not None
    ]  # fmt: skip
    # A notification already written (its key) is skipped, not doubled.
    Notification.objects.bulk_create(made, ignore_conflicts=True)
    Task.objects.filter(pk__in=[task.pk for task in tasks]).update(reminded_at=now)
    written = Notification.objects.filter(key__in=[n.key for n in made], email_pending=True)
    stale = Notification.objects.filter(email_pending=True, created_at__lt=now - RESEND_AFTER)
    for pk in {*written.values_list("pk", flat=True), *stale.values_list("pk", flat=True)[:batch]}:
        enqueue("interactions.notification_email", org_id=org.pk, notification_id=pk)
    return len(tasks)


def _recipient(task: Task) -> int | None:
    """Whom a task's reminder goes to: its assignee, or whoever made it."""
    return task.assignee_id or task.created_by_id


@transaction.atomic
def notification_email(*, org: Organization, notification_id: int) -> bool:
    """Send a notification's email if it is still pending; whether it went now. Another
    worker sending it at this moment holds its lock: this one leaves it to them."""
    found = (
        Notification.objects.filter(pk=notification_id, email_pending=True)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user", "task")
        .first()
    )
    if found is None:
        return False
    user = found.user
    if user.email:
        with timezone.override(ZoneInfo(org.time_zone)):  # times as the organisation reads them
            body = _body(org, found)
        message = EmailMessage(
            subject=found.title, body=body, to=[user.email],
            headers={"Message-ID": f"<notification-{org.pk}-{found.pk}@{_domain()}>"},
        )  # fmt: skip
        message.send()
    found.email_pending = False
    found.emailed_at = timezone.now()
    found.save(update_fields=["email_pending", "emailed_at"])
    return True


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"


def _body(org: Organization, notification: Notification) -> str:
    lines = [notification.title, ""]
    task = notification.task
    if task is not None and task.due_at is not None:
        lines.append(f"Due {timezone.localtime(task.due_at):%A %-d %B, %H:%M}.")
    if notification.url:
        lines.append(f"Open it: {settings.SITE_URL.rstrip('/')}{notification.url}")
    lines += ["", f"— {org.name} on {settings.PRODUCT_NAME}"]
    return "\n".join(lines)


@transaction.atomic
def notifications_read(*, org: Organization, user_id: int, ids: list[int] | None = None) -> int:
    """Mark a member's notifications read (these, or all); how many changed."""
    found = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        found = found.filter(pk__in=ids)
    return found.update(read_at=timezone.now())
