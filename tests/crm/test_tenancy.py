"""crm.tenancy's pieces: activate, the cache key, visible_to, and the tenant task base."""

import re

import pytest
from django.db import connection

from crm import tasks
from crm.models import AuditEvent, Invitation, Membership, Organization, Role
from crm.services import org_set_visibility, team_save
from crm.tenancy import NoActiveOrg, activate, cache_key, current_org
from tests.conftest import member

pytestmark = pytest.mark.django_db


def _setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.org_id', true)")
        return cursor.fetchone()[0]


def test_it_sets_and_restores_both_walls(acme, globex) -> None:
    with activate(acme):
        assert (current_org(), _setting()) == (acme, str(acme.pk))
        with activate(globex):
            assert (current_org(), _setting()) == (globex, str(globex.pk))
        assert (current_org(), _setting()) == (acme, str(acme.pk))
    assert current_org() is None
    assert _setting() in ("", None)


def test_it_restores_the_previous_organisation_when_the_block_fails(acme, globex) -> None:
    with activate(acme):
        with pytest.raises(ZeroDivisionError), activate(globex):
            1 / 0  # noqa: B018
        assert (current_org(), _setting()) == (acme, str(acme.pk))


def test_its_cache_keys_carry_the_organisation_and_refuse_without_one(acme) -> None:
    with activate(acme):
        assert cache_key("pipeline", 3) == f"org:{acme.pk}:pipeline:3"
    with pytest.raises(NoActiveOrg):
        cache_key("pipeline", 3)


class _Owned(AuditEvent):
    """AuditEvent read as if `actor` were an owner: visible_to only needs the column name."""

    owner_field = "actor"

    class Meta:
        proxy = True
        app_label = "crm"


def test_visible_to_limits_roles_to_own_or_team_records(acme, alice, rita, sam) -> None:
    teammate = member(acme, "tess@acme.test", Role.REP)
    with activate(acme):
        for user in (alice, rita, sam, teammate):
            AuditEvent.objects.create(org=acme, actor=user, action="made")
        rep = Membership.objects.get(user=rita)
        team_save(org=acme, by=alice, name="East", lead=rep,
                  members=[Membership.objects.get(user=teammate)])  # fmt: skip
        made = _Owned.objects.filter(action="made")
        assert made.visible_to(rep).count() == 4  # default: all records
        org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
        assert {e.actor for e in made.visible_to(rep)} == {rita}
        org_set_visibility(org=acme, by=alice, visibility={"rep": "team"})
        assert {e.actor for e in made.visible_to(rep)} == {rita, teammate}
        admin = Membership.objects.get(user=alice)
        assert made.visible_to(admin).count() == 4  # admins always see all


def test_a_tenant_task_refuses_to_run_without_an_organisation() -> None:
    with pytest.raises(TypeError, match="tenant task"):
        tasks.invitation_send.apply(kwargs={"invitation_id": 1, "accept_url": "x"}).get()


def test_a_tenant_task_runs_inside_its_organisation(acme, alice, mailoutbox) -> None:
    from tests.isolation.registry import seed_rows

    invitation = seed_rows(acme, alice)[Invitation]
    tasks.invitation_send.apply(
        kwargs={"org_id": acme.pk, "invitation_id": invitation.pk, "accept_url": "http://x/i/"}
    ).get()
    assert [m.to for m in mailoutbox] == [["invitee@acme.test"]]
    assert "http://x/i/" in mailoutbox[0].body


def test_beat_fans_a_job_out_to_every_organisation(acme, globex) -> None:
    import tests.crm.worker_tasks  # noqa: F401 - registers tests.note_org

    assert tasks.fan_out.apply(args=("tests.note_org",)).get() == Organization.objects.count()
    for org in (acme, globex):
        with activate(org):
            assert AuditEvent.objects.filter(action="test.fanned_out").count() == 1


def test_a_request_inside_a_tests_transaction_leaves_the_setting_as_it_was(
    client, acme, alice
) -> None:
    client.force_login(alice)
    assert client.get("/o/acme/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.org_id', true)")
        assert cursor.fetchone()[0] in ("", None)


def test_a_non_member_gets_the_same_404_as_for_a_missing_organisation(
    client, acme, alice, charlie
) -> None:
    client.force_login(charlie)  # a member of Globex only
    member_of_none = client.get("/o/acme/")
    missing = client.get("/o/no-such-org/")
    assert member_of_none.status_code == missing.status_code == 404

    def page(response) -> str:  # the CSRF token is masked anew on every response
        return re.sub(r"[A-Za-z0-9]{64}", "token", response.content.decode())

    assert page(member_of_none) == page(missing)
