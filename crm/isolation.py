"""The platform's isolation seeder: one row of each of its tenant models in an organisation,
written through the services, for the tests that prove organisations stay apart."""

from typing import Any

from django.db import models

from crm import services
from crm.models import AuditEvent, Invitation, Membership, Organization, Team, TeamMember, User

# URL keyword -> the model whose id it takes.
URL_KWARGS: dict[str, type[models.Model]] = {
    "membership_id": Membership,
    "invitation_id": Invitation,
    "team_id": Team,
    "event_id": AuditEvent,
}


def seed(org: Organization, admin: User) -> dict[type[models.Model], Any]:
    """Run with `org` active; `admin` is one of its admins."""
    membership = Membership.objects.get(user=admin)
    team = services.team_save(
        org=org, by=admin, name=f"{org.name} Secret Team", lead=membership, members=[]
    )
    invitation = services.invitation_create(
        org=org, email=f"invitee@{org.slug}.test", role="rep", by=membership,
        accept_url_for=lambda invitation: "http://testserver/",
    )  # fmt: skip
    return {
        Membership: membership,
        Team: team,
        TeamMember: TeamMember.objects.get(team=team),
        Invitation: invitation,
        AuditEvent: AuditEvent.objects.first(),
    }
