"""Guards for the next app: what a new model or table must be to ship, checked on every model
the apps define and every table the migrations made."""

from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models

from crm.tenancy import TenantModel

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

# Tables with no organisation of their own, each for a reason. Everything else in the
# schema is a tenant table: row-level security enabled and forced, with its policy.
NOT_TENANT_TABLES = {
    # Django, allauth and MFA: people and sessions exist before and across organisations.
    "django_migrations", "django_content_type", "django_session", "django_admin_log",
    "auth_group", "auth_group_permissions", "auth_permission",
    "crm_user", "crm_user_groups", "crm_user_user_permissions",
    "account_emailaddress", "account_emailconfirmation", "mfa_authenticator",
    # The tenants themselves.
    "crm_organization",
    # The list of tables search may read past the policy: written by migrations only.
    "crm_searchable",
    # When each of beat's jobs last went out to every organisation: task names and times.
    "crm_scheduledrun",
}  # fmt: skip
# Models of the domain apps that are not tenant rows, each for a reason. None yet.
NOT_TENANT_MODELS: set[str] = set()


def _domain_models() -> list[type[models.Model]]:
    """The models of this project's apps (folders at its root, or the tests' own) other than
    the platform."""
    return [
        model
        for config in apps.get_app_configs()
        if (Path(config.path).parent == ROOT or config.name.startswith("tests."))
        and config.label != "crm"
        for model in config.get_models()
    ]


def test_there_are_domain_models_to_check() -> None:
    labels = {model._meta.label for model in _domain_models()}
    assert {"contacts.Contact", "contacts.Company"} <= labels


def test_every_model_of_a_domain_app_is_a_tenant_row() -> None:
    outside = [
        model._meta.label
        for model in _domain_models()
        if not issubclass(model, TenantModel) and model._meta.label not in NOT_TENANT_MODELS
    ]
    assert outside == []


def test_no_tenant_model_has_a_many_to_many_field() -> None:
    # Its through table would carry no org_id and no policy: link through a tenant model.
    found = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if issubclass(model, TenantModel)
        for field in model._meta.local_many_to_many
    ]
    assert found == []


def test_every_table_has_a_forced_policy_or_is_listed_as_no_tenants() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'p') "
            "AND c.relnamespace = 'public'::regnamespace "
            "AND NOT (c.relrowsecurity AND c.relforcerowsecurity "
            "         AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname))"
        )
        unprotected = {name for (name,) in cursor.fetchall()}
    assert unprotected - NOT_TENANT_TABLES == set()
    assert NOT_TENANT_TABLES - unprotected == set(), "a listed table is protected: unlist it"
