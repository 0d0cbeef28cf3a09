"""The platform's URLs under /o/<org_slug>/ (namespace "crm")."""

from django.urls import path

from crm.views import find, members, organization, teams

app_name = "crm"

urlpatterns = [
    path("", organization.org_home, name="home"),
    path("find/", find.find, name="find"),
    path("settings/", organization.org_profile, name="profile"),
    path("settings/security/", organization.org_security, name="security"),
    path("settings/visibility/", organization.org_visibility, name="visibility"),
    path("settings/permissions/", organization.org_permissions, name="permissions"),
    path("settings/audit/", organization.audit_log, name="audit"),
    path("settings/members/", members.members, name="members"),
    path("settings/members/invite/", members.member_invite, name="member_invite"),
    path("settings/members/<int:membership_id>/role/", members.member_role, name="member_role"),
    path(
        "settings/members/<int:membership_id>/remove/", members.member_remove, name="member_remove"
    ),
    path(
        "settings/invitations/<int:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation_revoke",
    ),
    path("settings/teams/", teams.teams, name="teams"),
    path("settings/teams/new/", teams.team_edit, name="team_new"),
    path("settings/teams/<int:team_id>/", teams.team_edit, name="team_edit"),
    path("settings/teams/<int:team_id>/delete/", teams.team_delete, name="team_delete"),
]
