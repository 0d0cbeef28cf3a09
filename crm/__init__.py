"""The platform app: settings, accounts, the Celery app and the pieces every domain app uses."""

from crm.celery import app as celery_app

__all__ = ("celery_app",)
