"""The Celery application: configured from Django settings (the CELERY_ prefix)."""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _add_the_apps_jobs(sender: Celery, **kwargs: Any) -> None:
    """Beat's schedule: the platform's (CELERY_BEAT_SCHEDULE), then the jobs the apps register
    from their AppConfig.ready() (crm.contributions). Beat finalizes the app once Django is
    set up, and before it makes its scheduler."""
    from django.apps import apps

    if apps.ready:
        from crm.contributions import beat_schedule

        sender.conf.beat_schedule = {**sender.conf.beat_schedule, **beat_schedule()}
