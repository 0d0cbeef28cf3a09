"""Contacts' background jobs: thin doors that activate the organisation and call a service."""

from celery import shared_task

from contacts import services
from crm.tasks import TenantTask
from crm.tenancy import require_org


@shared_task(name="contacts.search_words_resync", base=TenantTask, ignore_result=True)
def search_words_resync(*, org_id: int) -> dict[str, int]:
    """Mend the organisation's table of search words; safe to repeat."""
    return services.search_words_resync(org=require_org())


@shared_task(name="contacts.segment_refresh", base=TenantTask, ignore_result=True)
def segment_refresh(*, org_id: int, segment_id: int, trigger: str = "schedule",
                    by_id: int | None = None) -> int | None:  # fmt: skip
    """Refresh one segment's members (contacts.segments.services.segment_refresh); the run's
    id, or None when another refresh of it was running."""
    from contacts.segments import services as segments
    from crm.models import User

    by = User.objects.filter(pk=by_id).first() if by_id else None
    run = segments.segment_refresh(org=require_org(), segment_id=segment_id, trigger=trigger,
                                   by=by)  # fmt: skip
    return run.pk if run else None


@shared_task(name="contacts.segments_due", base=TenantTask, ignore_result=True)
def segments_due(*, org_id: int) -> int:
    """Sent by beat every minute in each organisation: a refresh for each segment whose
    schedule wants one."""
    from contacts.segments import services as segments
    from crm.tasks import enqueue

    due = segments.segments_due(org=require_org())
    for segment_id in due:
        enqueue("contacts.segment_refresh", org_id=org_id, segment_id=segment_id)
    return len(due)


@shared_task(name="contacts.scores_run", base=TenantTask, ignore_result=True)
def scores_run(*, org_id: int) -> dict[str, int]:
    """Sent by beat every night in each organisation: every contact's engagement and RFM
    scores (contacts.scores)."""
    from contacts import scores

    return scores.scores_run(org=require_org())
