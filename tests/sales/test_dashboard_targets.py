"""/o/<org>/settings/targets/: a month's target for a rep or a team (admins), and the service
behind it."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError

from crm.models import AuditEvent, Team
from crm.tenancy import activate
from sales import dashboard
from sales.models import Target

pytestmark = pytest.mark.django_db
PAGE = "/o/acme/settings/targets/"


def _targets(org) -> list[tuple[str, date, Decimal]]:
    with activate(org):
        return [(str(t.user or t.team), t.month, t.amount) for t in Target.objects.all()]


def test_it_sets_a_reps_target_for_a_month_and_audits_it(client, acme, alice, rita):
    client.force_login(alice)
    response = client.post(PAGE, {"month": "2026-05", "user": rita.pk, "amount": "12000"})
    assert response.status_code == 302
    assert _targets(acme) == [("Rita Reyes", date(2026, 5, 1), Decimal("12000.00"))]
    with activate(acme):
        assert AuditEvent.objects.get(action="target.set").changes == {"amount": [None, "12000"]}


def test_a_second_target_for_the_same_month_replaces_the_first(client, acme, alice, rita):
    client.force_login(alice)
    client.post(PAGE, {"month": "2026-05", "user": rita.pk, "amount": "12000"})
    client.post(PAGE, {"month": "2026-05-17", "user": rita.pk, "amount": "9000"})
    assert _targets(acme) == [("Rita Reyes", date(2026, 5, 1), Decimal("9000.00"))]


def test_no_amount_removes_the_target(client, acme, alice):
    with activate(acme):
        team = Team.objects.create(org=acme, name="Closers")
        dashboard.target_set(org=acme, by=alice, month=date(2026, 5, 1), amount=Decimal(5),
                             team=team)  # fmt: skip
    client.force_login(alice)
    client.post(PAGE, {"month": "2026-05", "team": team.pk, "amount": ""})
    assert _targets(acme) == []


def test_it_wants_a_rep_or_a_team_not_both(client, acme, alice, rita):
    with activate(acme):
        team = Team.objects.create(org=acme, name="Closers")
    client.force_login(alice)
    response = client.post(PAGE, {"month": "2026-05", "user": rita.pk, "team": team.pk,
                                  "amount": "1"})  # fmt: skip
    assert "Choose a rep or a team: one of the two." in response.content.decode()
    assert _targets(acme) == []


def test_it_lists_the_targets_of_the_next_twelve_months(client, acme, alice, rita):
    with activate(acme):
        dashboard.target_set(org=acme, by=alice, month=date.today().replace(day=1),
                             amount=Decimal("7500"), user=rita)  # fmt: skip
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert "Rita Reyes" in body
    assert "$7,500" in body


def test_the_database_refuses_a_target_for_nobody(acme):
    # Outside the organisation's block, which the failed statement rolls back.
    with pytest.raises(IntegrityError), activate(acme):
        Target.objects.create(org=acme, month=date(2026, 5, 1), amount=1)


def test_it_refuses_members_who_do_not_manage_settings(client, acme, bob, rita):
    for person in (bob, rita):
        client.force_login(person)
        assert client.get(PAGE).status_code == 403
        client.post(PAGE, {"month": "2026-05", "user": rita.pk, "amount": "1"})
    assert _targets(acme) == []


def test_it_hides_the_page_from_another_organisation(client, acme, charlie, rita):
    client.force_login(charlie)
    assert client.get(PAGE).status_code == 404
    # Globex's own page offers none of Acme's people.
    assert "Rita" not in client.get("/o/globex/settings/targets/").content.decode()
