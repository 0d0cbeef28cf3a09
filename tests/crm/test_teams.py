"""Settings → Teams: create one with a lead and members, edit it, delete it."""

import html
import re

import pytest
from django.test import Client

from crm import services
from crm.models import AuditEvent, Membership, Organization, Team, TeamMember, User
from crm.tenancy import activate

pytestmark = pytest.mark.django_db


def _ids(org: Organization, *users: User) -> list[int]:
    with activate(org):
        return [Membership.objects.get(user=user).pk for user in users]


def _team(org: Organization, by: User, name: str, lead: User, *members: User) -> Team:
    with activate(org):
        people = {m.user_id: m for m in Membership.objects.filter(user__in=[lead, *members])}
        return services.team_save(
            org=org, by=by, name=name, lead=people[lead.pk],
            members=[people[user.pk] for user in members],
        )  # fmt: skip


def _people_in(org: Organization, team: Team) -> set[str]:
    with activate(org):
        links = TeamMember.objects.filter(team=team)
        return set(links.values_list("membership__user__email", flat=True))


def _error_for(response, field: str) -> str:
    """The error shown under a form field, as the person reads it."""
    pattern = rf'<p class="field__error" id="id_{field}_error_1">(.*?)</p>'
    match = re.search(pattern, response.content.decode())
    return html.unescape(match[1]) if match else ""


def test_it_creates_a_team_with_a_lead_and_members(client: Client, acme, alice, rita, bob):
    rita_id, bob_id = _ids(acme, rita, bob)
    client.force_login(alice)
    response = client.post(
        "/o/acme/settings/teams/new/", {"name": " Closers ", "lead": rita_id, "members": [bob_id]}
    )
    assert response["Location"] == "/o/acme/settings/teams/"
    with activate(acme):
        team = Team.objects.get()
    assert (team.name, team.lead_id) == ("Closers", rita_id)
    assert _people_in(acme, team) == {"rita@acme.test", "bob@acme.test"}  # the lead is in it


def test_it_audits_a_new_team(client: Client, acme, alice, rita) -> None:
    (rita_id,) = _ids(acme, rita)
    client.force_login(alice)
    client.post("/o/acme/settings/teams/new/", {"name": "Closers", "lead": rita_id})
    with activate(acme):
        event = AuditEvent.objects.get(action="team.created")
    assert event.actor == alice
    assert event.changes["name"] == [None, "Closers"]


def test_it_lists_the_teams(client: Client, acme, alice, rita, bob) -> None:
    _team(acme, alice, "Closers", rita, bob)
    client.force_login(alice)
    page = client.get("/o/acme/settings/teams/").content.decode()
    assert "Closers" in page
    assert "Rita Reyes" in page  # the lead


def test_it_renames_a_team_and_changes_its_members(client: Client, acme, alice, rita, bob, sam):
    team = _team(acme, alice, "Closers", rita, bob)
    (sam_id,) = _ids(acme, sam)
    client.force_login(alice)
    response = client.post(
        f"/o/acme/settings/teams/{team.pk}/", {"name": "Hunters", "lead": "", "members": [sam_id]}
    )
    assert response["Location"] == "/o/acme/settings/teams/"
    with activate(acme):
        team.refresh_from_db()
    assert (team.name, team.lead) == ("Hunters", None)
    assert _people_in(acme, team) == {"sam@acme.test"}


def test_it_shows_a_teams_current_members_when_editing(client: Client, acme, alice, rita, bob):
    team = _team(acme, alice, "Closers", rita, bob)
    client.force_login(alice)
    form = client.get(f"/o/acme/settings/teams/{team.pk}/").context["form"]
    assert form.initial["name"] == "Closers"
    assert sorted(form.initial["members"]) == sorted(_ids(acme, rita, bob))


def test_it_refuses_a_name_taken_in_other_capitals(client: Client, acme, alice, rita) -> None:
    _team(acme, alice, "Closers", rita)
    client.force_login(alice)
    response = client.post("/o/acme/settings/teams/new/", {"name": "CLOSERS"})
    assert _error_for(response, "name") == "There is already a team called “CLOSERS”."
    with activate(acme):
        assert list(Team.objects.values_list("name", flat=True)) == ["Closers"]


def test_it_keeps_a_teams_own_name_when_saving_it(client: Client, acme, alice, rita) -> None:
    team = _team(acme, alice, "Closers", rita)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/teams/{team.pk}/", {"name": "closers"})
    assert response["Location"] == "/o/acme/settings/teams/"
    with activate(acme):
        assert Team.objects.get().name == "closers"


def test_it_asks_before_deleting_a_team(client: Client, acme, alice, rita) -> None:
    team = _team(acme, alice, "Closers", rita)
    client.force_login(alice)
    page = client.get(f"/o/acme/settings/teams/{team.pk}/delete/").content.decode()
    assert "Delete the team <strong>Closers</strong>?" in page
    assert '<form method="post"' in page
    with activate(acme):
        assert Team.objects.filter(pk=team.pk).exists()


def test_it_deletes_a_team_and_keeps_its_people(client: Client, acme, alice, rita, bob):
    team = _team(acme, alice, "Closers", rita, bob)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/teams/{team.pk}/delete/")
    assert response["Location"] == "/o/acme/settings/teams/"
    with activate(acme):
        assert not Team.objects.exists()
        assert not TeamMember.objects.exists()
        assert Membership.objects.filter(user__in=[rita, bob]).count() == 2
        assert AuditEvent.objects.filter(action="team.deleted", object_id=str(team.pk)).exists()


def test_it_offers_only_acmes_members_as_lead_and_members(client: Client, acme, alice, charlie):
    client.force_login(alice)
    page = client.get("/o/acme/settings/teams/new/").content.decode()
    assert "Alice Archer (Admin)" in page
    assert "Charlie Chen" not in page


def test_it_refuses_another_organisations_member(client: Client, acme, alice, globex, charlie):
    (charlie_id,) = _ids(globex, charlie)
    client.force_login(alice)
    response = client.post(
        "/o/acme/settings/teams/new/",
        {"name": "Spies", "lead": charlie_id, "members": [charlie_id]},
    )
    assert "Select a valid choice" in _error_for(response, "lead")
    assert "Select a valid choice" in _error_for(response, "members")
    with activate(acme):
        assert not Team.objects.exists()


def test_it_refuses_a_rep_the_teams(client: Client, acme, alice, rita) -> None:
    team = _team(acme, alice, "Closers", rita)
    client.force_login(rita)
    response = client.post(f"/o/acme/settings/teams/{team.pk}/delete/")
    assert response.status_code == 403
    with activate(acme):
        assert Team.objects.filter(pk=team.pk).exists()


@pytest.mark.parametrize("teams", [1, 15])
def test_it_lists_teams_in_a_fixed_number_of_queries(
    client: Client, acme, alice, rita, bob, django_assert_max_num_queries, teams: int
) -> None:
    for n in range(teams):
        _team(acme, alice, f"Team {n}", rita, bob)
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        response = client.get("/o/acme/settings/teams/")
    assert f"Team {teams - 1}" in response.content.decode()
