"""Support's rating email: a thin door that activates the organisation and calls the
service (support.csat.csat_send), safe to run twice."""

from celery import shared_task

from crm.tasks import TenantTask


@shared_task(
    name="support.csat_send", base=TenantTask, ignore_result=True,
    autoretry_for=(*TenantTask.autoretry_for, OSError), max_retries=4,
)  # fmt: skip
def csat_send(*, org_id: int, ticket_id: int, solved_at: str) -> bool:
    """Email a solved ticket's requester the rating links, once for that solve. A mail
    server's error (smtplib's are OSErrors) is retried with backoff."""
    from crm.tenancy import require_org
    from support import csat

    return csat.csat_send(org=require_org(), ticket_id=ticket_id, solved_at=solved_at)
