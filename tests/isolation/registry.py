"""One row of every tenant model, and the URL keyword each model's id fills, from the
seeders the apps register (crm.contributions): a new app's tables and URLs are probed the
day it registers its seeder, and the tests fail until every tenant model has a row."""

from typing import Any

from django.apps import apps
from django.db import models

from crm.contributions import isolation_seeders
from crm.models import Organization, User
from crm.tenancy import TenantModel, activate


def url_kwargs() -> dict[str, type[models.Model]]:
    """URL keyword -> the model whose id it takes, as the apps declare them."""
    found: dict[str, type[models.Model]] = {}
    for _, kwargs in isolation_seeders():
        found.update(kwargs)
    return found


def tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.proxy]


def seed_rows(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Make one row of every tenant model in `org`, through the services that write them."""
    rows: dict[type[models.Model], Any] = {}
    with activate(org):
        for seed, _ in isolation_seeders():
            rows.update(seed(org, admin))
    return rows


def snapshot(org: Organization) -> dict[str, list[dict[str, object]]]:
    """Every tenant row of `org`, to prove that nothing changed."""
    with activate(org):
        return {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for model in tenant_models()
        }
