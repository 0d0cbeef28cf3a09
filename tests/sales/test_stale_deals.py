"""sales.stale: the stale-deal follow-up rule, run by beat every hour."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.tenancy import activate
from interactions import followups
from interactions.models import Task
from sales import services
from sales.models import Deal
from sales.stale import stale_deals_run
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def _rule_on(org, by, days=14):
    with activate(org):
        rule = {"enabled": True, "days": days, "task_title": "Revive {subject}"}
        followups.followup_rules_save(org=org, by=by, values={"stale_deal": rule})


def _silent_for(org, deal, days):
    with activate(org):
        Deal.objects.filter(pk=deal.pk).update(touched_at=timezone.now() - timedelta(days=days))


def _run(org, **options):
    with activate(org):
        return stale_deals_run(org=org, **options)


def _tasks(org):
    with activate(org):
        return list(Task.objects.values_list("title", "assignee_id", "deal_id"))


def test_it_does_nothing_while_the_rule_is_off(acme, rita) -> None:
    deal = DealFactory(org=acme, owner=rita)
    _silent_for(acme, deal, 30)
    assert _run(acme) == 0
    assert _tasks(acme) == []


def test_a_deal_silent_too_long_gets_one_task_for_its_owner(acme, alice, rita) -> None:
    _rule_on(acme, alice)
    stale = DealFactory(org=acme, owner=rita, title="Quiet one")
    DealFactory(org=acme, owner=rita, title="Busy one")
    _silent_for(acme, stale, 15)
    assert _run(acme) == 1
    assert _run(acme) == 0  # the next hour: still silent, but already asked
    assert _tasks(acme) == [("Revive Quiet one", rita.pk, stale.pk)]


def test_activity_starts_the_clock_again(acme, alice, rita) -> None:
    _rule_on(acme, alice, days=7)
    deal = DealFactory(org=acme, owner=rita, title="On and off")
    _silent_for(acme, deal, 8)
    _run(acme)
    with activate(acme):
        services.deal_update(org=acme, deal=Deal.objects.get(pk=deal.pk), by=rita, source="Call")
    assert _run(acme) == 0  # touched just now
    _silent_for(acme, deal, 8)  # silent again, since the task too
    with activate(acme):
        Task.objects.update(created_at=timezone.now() - timedelta(days=9))
    assert _run(acme) == 1
    assert len(_tasks(acme)) == 2


def test_closed_deals_and_deals_without_an_owner_are_left_alone(acme, alice) -> None:
    _rule_on(acme, alice)
    nobodys = DealFactory(org=acme, title="Nobody's")
    _silent_for(acme, nobodys, 30)
    assert _run(acme) == 0


def test_another_organisations_rule_makes_nothing_here(acme, globex, alice, charlie, rita):
    _rule_on(globex, charlie)
    deal = DealFactory(org=acme, owner=rita)
    _silent_for(acme, deal, 30)
    assert _run(acme) == 0
    assert _run(globex) == 0
