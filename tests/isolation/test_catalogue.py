"""The database wall, read from PostgreSQL's catalogue as the app role the product runs as."""

from typing import Any

import pytest
from django.db import DatabaseError, connection

from crm.tenancy import TenantModel, activate
from tests.factories import ContactFactory
from tests.isolation.registry import tenant_models

pytestmark = pytest.mark.django_db


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _tenant_tables() -> list[str]:
    return [
        t for (t,) in _rows(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY 1"
        )
    ]  # fmt: skip


def test_it_runs_as_a_role_that_cannot_bypass_row_level_security() -> None:
    ((superuser, bypass, createdb),) = _rows(
        "SELECT rolsuper, rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert (superuser, bypass, createdb) == (False, False, False)


def test_every_table_with_org_id_forces_row_level_security_with_a_policy() -> None:
    tables = _tenant_tables()
    assert {m._meta.db_table for m in tenant_models()} <= set(tables)
    for table in tables:
        ((enabled, forced),) = _rows(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
            [table],
        )
        assert (table, enabled, forced) == (table, True, True)
        policies = _rows(
            "SELECT cmd, qual, with_check FROM pg_policies WHERE tablename = %s", [table]
        )
        writes = [p for p in policies if p[0] == "ALL"]
        assert len(writes) == 1, table
        assert "current_setting('app.org_id'" in writes[0][1]
        assert "current_setting('app.org_id'" in writes[0][2]
        # Any other policy may only widen reading, never writing.
        assert {p[0] for p in policies} <= {"ALL", "SELECT"}, table


def test_the_app_role_owns_no_table_and_cannot_truncate() -> None:
    owned = _rows(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    )
    assert owned == []
    truncatable = _rows(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND has_table_privilege(current_user, format('%%I.%%I', schemaname, tablename), "
        "'TRUNCATE')"
    )
    assert truncatable == []


def test_every_reference_between_tenant_tables_stays_in_one_organisation() -> None:
    for model in tenant_models():
        for field in model._meta.local_fields:
            related = getattr(field, "related_model", None)
            if field.name == "org" or not (
                isinstance(related, type) and issubclass(related, TenantModel)
            ):
                continue
            composite = _rows(
                "SELECT 1 FROM pg_constraint c WHERE c.contype = 'f' "
                "AND c.conrelid = %s::regclass AND c.confrelid = %s::regclass "
                "AND array_length(c.conkey, 1) = 2",
                [model._meta.db_table, related._meta.db_table],
            )
            assert composite, f"{model._meta.label}.{field.name} lacks its (org_id, id) key"


def test_functions_that_read_past_the_policy_apply_it_themselves() -> None:
    definers = _rows(
        "SELECT p.proname, pg_get_userbyid(p.proowner), r.rolcanlogin, p.prosrc, p.proconfig "
        "FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner "
        "WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace"
    )
    assert sorted(name for name, *_ in definers) == [
        "crm_contacts_by_other_email", "crm_search_ids", "crm_search_words_unused",
    ]  # fmt: skip
    for name, owner, can_login, source, config in definers:
        assert not can_login, f"{name} is owned by {owner}, which can log in"
        # Temporary tables, which the app role may create, come last: none stands in for ours.
        assert "search_path=pg_catalog, public, pg_temp" in config, name
        assert "current_setting('app.org_id', true)" in source, name
        assert "IF org IS NULL THEN" in source, name
        if "EXECUTE" not in source:  # a static query: planned for its arguments every call
            assert "plan_cache_mode=force_custom_plan" in config, name


def test_search_past_the_policy_finds_nothing_with_no_organisation_active() -> None:
    for fuzzy in ("false", "true"):
        ids = _rows(f"SELECT crm_search_ids('contacts_contact', 'a', '', '', {fuzzy}, 0.3, 10)")
        assert ids == []


def test_the_words_check_past_the_policy_answers_nothing_with_no_organisation_active() -> None:
    assert _rows("SELECT crm_search_words_unused(ARRAY['secret', 'nowhere'])") == []


def test_the_address_lookup_past_the_policy_finds_nothing_with_no_organisation_active(
    acme, globex
) -> None:
    ContactFactory(org=acme, email="ada@acme.test", other_emails=["ada@home.test"])
    assert _rows("SELECT crm_contacts_by_other_email(ARRAY['ada@home.test'])") == []
    with activate(globex):  # another organisation's: its own contacts only
        assert _rows("SELECT crm_contacts_by_other_email(ARRAY['ada@home.test'])") == []
    with activate(acme):
        assert len(_rows("SELECT crm_contacts_by_other_email(ARRAY['ada@home.test'])")) == 1


def test_the_app_role_is_not_a_member_of_any_role_that_bypasses_the_policy() -> None:
    bypassing = _rows(
        "SELECT r.rolname FROM pg_roles r WHERE r.rolbypassrls "
        "AND pg_has_role(current_user, r.oid, 'MEMBER')"
    )
    assert bypassing == []


def test_search_reads_past_the_policy_only_the_tables_migrations_listed() -> None:
    listed = _rows("SELECT table_name, words_table FROM crm_searchable ORDER BY 1")
    assert ("contacts_contact", "contacts_searchword") in listed
    assert ("contacts_company", None) in listed
    for table, words in listed:
        columns = {c for (c,) in _rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
        )}  # fmt: skip
        assert {"org_id", "search_text"} <= columns, table
        if words:
            assert words in _tenant_tables()


def test_the_app_role_cannot_change_the_list_of_searchable_tables() -> None:
    privileges = _rows(
        "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p "
        "WHERE has_table_privilege(current_user, 'crm_searchable', p)"
    )
    assert privileges == [("SELECT",)]


def test_search_refuses_a_table_not_on_the_list(acme) -> None:
    with pytest.raises(DatabaseError, match="does not search"), activate(acme):
        _rows("SELECT crm_search_ids('crm_membership', 'a', '', '', false, 0.3, 10)")
