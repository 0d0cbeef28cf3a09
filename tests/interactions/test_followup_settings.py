"""/o/<org>/settings/follow-ups/: the organisation's follow-up rules, in one form."""

from typing import Any

import pytest

from crm.models import AuditEvent
from crm.tenancy import activate
from interactions.models import FollowUpRule

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/settings/follow-ups/"


def _form(**values: str) -> dict[str, str]:
    """The form as the page posts it, with the defaults, and `values` over them."""
    form = {
        "no_reply_enabled": "on", "no_reply_days": "3",
        "no_reply_task_title": "Follow up: no reply to “{subject}”",
        "after_meeting_enabled": "on", "after_meeting_days": "1",
        "after_meeting_task_title": "Send notes from “{subject}”",
        "stale_deal_days": "14", "stale_deal_task_title": "Open deal untouched for {days} days",
    }  # fmt: skip
    form.update(values)
    return {name: value for name, value in form.items() if value != "off"}


def _rules(org: Any) -> dict[str, tuple[bool, int, str]]:
    with activate(org):
        return {r.kind: (r.enabled, r.days, r.task_title) for r in FollowUpRule.objects.all()}


def test_it_shows_an_admin_the_three_rules(client, acme, alice):
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert "No reply to an email" in body
    assert "After a meeting" in body
    assert "Open deal untouched" in body
    assert "disabled" not in body  # the sales app checks stale deals: every rule can be on
    assert _rules(acme) == {}  # reading the page writes nothing


def test_it_saves_the_rules_and_audits_the_change(client, acme, alice):
    client.force_login(alice)
    form = _form(
        no_reply_days="5", no_reply_task_title="Chase {subject}", after_meeting_enabled="off"
    )
    assert client.post(PAGE, form).status_code == 302
    rules = _rules(acme)
    assert rules["no_reply"] == (True, 5, "Chase {subject}")
    assert rules["after_meeting"][0] is False
    assert rules["stale_deal"][0] is False
    with activate(acme):
        event = AuditEvent.objects.get(
            action="followup_rule.updated", object_repr="No reply to an email"
        )
    assert event.changes["days"] == [3, 5]


def test_it_turns_the_stale_deal_rule_on(client, acme, alice):
    client.force_login(alice)
    client.post(PAGE, _form(stale_deal_enabled="on", stale_deal_days="10",
                            stale_deal_task_title="Revive {subject}"))  # fmt: skip
    assert _rules(acme)["stale_deal"] == (True, 10, "Revive {subject}")


@pytest.mark.parametrize("days", ["0", "91", "soon", ""])
def test_it_refuses_days_out_of_range_beside_the_field_and_saves_nothing(client, acme, alice, days):
    client.force_login(alice)
    response = client.post(PAGE, _form(no_reply_days=days, after_meeting_enabled="off"))
    assert response.status_code == 200
    assert "Give a whole number of days, from 1 to 90." in response.content.decode()
    assert _rules(acme) == {}


def test_it_names_the_placeholders_it_knows(client, acme, alice):
    client.force_login(alice)
    response = client.post(PAGE, _form(after_meeting_task_title="Notes for {contact}"))
    assert "Only {subject} and {days} are filled in." in response.content.decode()
    assert _rules(acme) == {}


def test_it_refuses_a_rep(client, rita):
    client.force_login(rita)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, _form(no_reply_enabled="off")).status_code == 403


def test_it_hides_the_page_from_outsiders(client, charlie):
    client.force_login(charlie)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, _form(no_reply_enabled="off")).status_code == 404


def test_an_organisations_rules_are_its_own(client, acme, globex, alice, charlie):
    client.force_login(alice)
    client.post(PAGE, _form(no_reply_enabled="off"))
    client.force_login(charlie)
    client.post("/o/globex/settings/follow-ups/", _form(no_reply_days="7"))
    assert _rules(acme)["no_reply"][:2] == (False, 3)
    assert _rules(globex)["no_reply"][:2] == (True, 7)


def test_it_is_in_the_settings_navigation(client, alice):
    client.force_login(alice)
    assert (
        f'<a href="{PAGE}" aria-current="page">Follow-up rules</a>'
        in client.get(PAGE).content.decode()
    )
    assert f'href="{PAGE}"' in client.get("/o/acme/settings/").content.decode()
