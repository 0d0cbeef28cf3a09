"""The stale-deal follow-up rule (Settings → Follow-up rules): an open deal nobody touched
for the rule's number of days gets a task for its owner, once per stretch of silence.

Beat runs `stale_deals_run` every hour in each organisation. A deal gets no second task
while the last one was made after anyone last touched it: logging a call on it, moving it or
editing it starts the clock again."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm.models import Organization
from interactions.followups import Kind, followup_rules, task_title, working_time
from interactions.models import Task
from interactions.services import task_create
from sales.models import Deal

SOURCE = "stale_deal"


def stale_deals_run(*, org: Organization, now: datetime | None = None, batch: int = 500) -> int:
    """Give the owners of deals gone stale a task each, at most `batch` deals a run (the
    longest silent first); how many tasks it made."""
    rule = followup_rules()[Kind.STALE_DEAL]
    if not rule.enabled:
        return 0
    now = now or timezone.now()
    asked_since = Task.objects.filter(
        deal=OuterRef("pk"), source_key__startswith=f"{SOURCE}:",
        created_at__gte=OuterRef("touched_at"),
    )  # fmt: skip
    stale = (
        Deal.objects.open()
        .filter(touched_at__lt=now - timedelta(days=rule.days), owner__isnull=False)
        .exclude(Exists(asked_since))
        .select_related("owner", "contact", "company")
        .order_by("touched_at", "id")[:batch]
    )
    due = working_time(now, org=org)
    made = 0
    for deal in stale:
        # Once per stretch of silence: a later touch makes another key.
        key = f"{SOURCE}:{deal.pk}:{deal.touched_at.timestamp():.6f}"
        try:
            with transaction.atomic():  # a savepoint: one deal's refusal spoils no other
                task_create(
                    org=org, by=None, title=task_title(rule, deal), deal=deal,
                    contact=deal.contact, company=deal.company, assignee=deal.owner,
                    due_at=due, source_key=key,
                )  # fmt: skip
        except ValidationError:
            continue
        made += 1
    return made
