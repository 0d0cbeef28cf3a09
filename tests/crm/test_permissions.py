"""The role table of ARCHITECTURE.md, as crm.permissions answers it and as the views enforce it."""

from types import SimpleNamespace

import pytest
from django.test import Client

from crm.models import Membership, Role
from crm.permissions import can
from tests.conftest import member


def _as(role: str, user_id: int = 1) -> Membership:
    return Membership(role=role, user_id=user_id)


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.OWNER, ["org.manage", "audit.view", "deal.edit", "ticket.edit"], []),
        (Role.ADMIN, ["org.manage", "settings.configure", "deal.view_value"], []),
        (Role.MANAGER, ["contact.edit", "deal.edit", "ticket.edit", "dashboard.view_all"],
         ["org.manage", "audit.view"]),
        (Role.REP, ["contact.edit", "company.edit", "interaction.edit", "task.edit", "deal.edit"],
         ["org.manage", "ticket.edit", "dashboard.view_all"]),
        # An agent sees deals, never what they are worth.
        (Role.AGENT, ["ticket.edit", "canned_reply.edit", "contact.edit", "company.edit",
                      "deal.view"], ["deal.view_value", "deal.edit", "org.manage"]),
        (Role.VIEWER, ["contact.view", "deal.view", "ticket.view", "dashboard.view_all"],
         ["contact.edit", "deal.edit", "ticket.edit", "task.edit", "org.manage"]),
    ],
)  # fmt: skip
def test_it_follows_the_role_table(role: str, allowed: list[str], refused: list[str]) -> None:
    membership = _as(role)
    assert [a for a in allowed if not can(membership, a)] == []
    assert [a for a in refused if can(membership, a)] == []


def test_it_lets_a_rep_edit_only_the_deals_they_own() -> None:
    rep = _as(Role.REP, user_id=7)
    assert can(rep, "deal.edit", SimpleNamespace(owner_id=7))
    assert not can(rep, "deal.edit", SimpleNamespace(owner_id=8))
    assert can(_as(Role.MANAGER), "deal.edit", SimpleNamespace(owner_id=8))


def test_it_refuses_an_action_nobody_defined() -> None:
    with pytest.raises(KeyError):
        can(_as(Role.OWNER), "deal.teleport")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.REP, Role.AGENT, Role.VIEWER])
@pytest.mark.parametrize(
    "url", ["/o/acme/settings/", "/o/acme/settings/members/", "/o/acme/settings/audit/",
            "/o/acme/settings/teams/new/"],
)  # fmt: skip
def test_only_admins_open_the_settings(client: Client, acme, role: str, url: str) -> None:
    client.force_login(member(acme, f"{role}@acme.test", role))
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "Hijacked"}).status_code in (403, 405)


def test_a_viewer_sees_no_settings_link_but_an_admin_does(client: Client, alice, bob) -> None:
    client.force_login(bob)
    assert "Organisation settings" not in client.get("/o/acme/").content.decode()
    client.force_login(alice)
    assert "Organisation settings" in client.get("/o/acme/").content.decode()
