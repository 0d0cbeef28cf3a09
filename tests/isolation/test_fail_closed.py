"""With no organisation active nothing is visible, and no write can cross organisations."""

import pytest
from django.db import DatabaseError, connection, transaction

from crm.models import AuditEvent, Membership, Team, TeamMember
from crm.tenancy import NoActiveOrg, activate
from tests.isolation.registry import seed_rows, tenant_models

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(acme, alice, globex, charlie):
    return {"acme": seed_rows(acme, alice), "globex": seed_rows(globex, charlie)}


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return int(cursor.fetchone()[0])


def test_the_registry_makes_a_row_of_every_tenant_model(rows) -> None:
    assert set(rows["acme"]) == set(tenant_models())


def test_raw_sql_sees_no_rows_with_no_organisation_active(rows) -> None:
    for model in tenant_models():
        assert _count(model._meta.db_table) == 0, model._meta.label


def test_raw_sql_sees_only_the_active_organisations_rows(rows, acme) -> None:
    with activate(acme):
        for model in tenant_models():
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT DISTINCT org_id FROM "{model._meta.db_table}"')
                assert cursor.fetchall() == [(acme.pk,)], model._meta.label


def test_the_managers_refuse_to_run_with_no_organisation_active(rows) -> None:
    for model in tenant_models():
        with pytest.raises(NoActiveOrg):
            model._default_manager.count()


def test_the_database_refuses_a_row_written_into_another_organisation(rows, acme, globex) -> None:
    with activate(acme), pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.create(org=globex, action="forged")


def test_the_database_updates_no_row_of_another_organisation(rows, acme, globex) -> None:
    with activate(acme):
        updated = AuditEvent.unscoped.filter(org=globex).update(action="forged")
    assert updated == 0
    with activate(globex):
        assert not AuditEvent.objects.filter(action="forged").exists()


def test_the_database_refuses_a_reference_into_another_organisation(rows, acme) -> None:
    globex_team = rows["globex"][Team]
    membership = rows["acme"][Membership]

    def point_at_globex() -> None:
        with transaction.atomic():
            TeamMember.objects.create(org=acme, team_id=globex_team.pk, membership=membership)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred keys now

    with activate(acme), pytest.raises(DatabaseError):
        point_at_globex()
