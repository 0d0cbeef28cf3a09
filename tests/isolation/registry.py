"""One row of every tenant model, and the URL keyword each model's id fills, from the
seeders the apps register (crm.contributions): a new app's tables and URLs are probed the
day it registers its seeder, and the tests fail until every tenant model has a row."""

import re
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.db import models

from crm.contributions import isolation_seeders
from crm.models import Organization, User
from crm.records import registry
from crm.tenancy import TenantModel, activate

KEYWORD = re.compile(r"<(?:\w+:)?(\w+)>")
# The keyword of the URLs that edit one fact of a record (crm.records.urls): a name, not an id.
FIELD = "field_name"


def _declared() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for _, kwargs in isolation_seeders():
        found.update(kwargs)
    return found


def url_kwargs() -> dict[str, type[models.Model]]:
    """URL keyword -> the model whose rows it names, as the apps declare them: by id, or by
    another field given as (model, field) (a ticket's page takes its number)."""
    return {k: v[0] if isinstance(v, tuple) else v for k, v in _declared().items()}


def url_value(keyword: str, row: Any) -> int:
    """What a URL keyword takes of a row: its id, or the field its app declared."""
    declared = _declared()[keyword]
    return int(getattr(row, declared[1]) if isinstance(declared, tuple) else row.pk)


def fill(route: str, ids: Mapping[str, int]) -> str:
    """The route with its keywords filled: each id from `ids`, and a field's name with one
    that the route's kind edits in place: a real one, so that what answers is the record's
    lookup, not an unknown name."""

    def value(match: re.Match[str]) -> str:
        keyword = match[1]
        if keyword == FIELD:
            return _field_of(route)
        assert keyword in ids, f"no app's isolation seeder names {keyword!r} (crm.contributions)"
        return str(ids[keyword])

    return KEYWORD.sub(value, route)


def _field_of(route: str) -> str:
    prefix = route.split("/", 1)[0]
    kind = next(k for k in registry.kinds() if k.url_prefix == prefix)
    assert kind.facts is not None, f"{route}: {kind.nouns} declare no facts"
    return next(fact.name for fact in kind.facts.facts if fact.form_fields)


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
