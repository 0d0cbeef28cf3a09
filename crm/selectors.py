"""Reads that combine platform models into what a page shows."""

from django.db import models

from crm.models import AuditEvent, Invitation, Membership, Team, TeamMember, User

# Members in the order their names show (a nameless one's address stands in for the name).
BY_NAME = ("user__first_name", "user__last_name", "user__email")


def my_memberships(user: User) -> list[Membership]:
    """The user's memberships in every organisation, for the organisation switcher."""
    # Unscoped on purpose: the rows span organisations. Row-level security still applies,
    # and lets a transaction read only the memberships of the user set in app.user_id.
    return list(Membership.unscoped.filter(user=user).select_related("org").order_by("org__name"))


def member_list() -> list[Membership]:
    """The active organisation's members with their teams, in one query each."""
    teams = models.Prefetch(
        "teams_link", queryset=TeamMember.objects.select_related("team").order_by("team__name")
    )
    return list(
        Membership.objects.select_related("user").prefetch_related(teams).order_by(*BY_NAME)
    )


def open_invitations() -> list[Invitation]:
    invitations = Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    return list(invitations.select_related("invited_by").order_by("-created_at"))


def team_list() -> models.QuerySet[Team]:
    return Team.objects.select_related("lead__user").annotate(
        size=models.Count("teammember", distinct=True)
    )


def object_history(obj: models.Model, limit: int = 50) -> list[AuditEvent]:
    """A record's History tab: what was done to it, newest first."""
    events = AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return list(events.select_related("actor")[:limit])


def person_fields_unshown(relation: str) -> list[str]:
    """The fields of a related user that no page shows, to defer when rows select it: a list
    of fifty rows would read and parse each one's password hash and dates for nothing."""
    unshown = ("password", "last_login", "is_superuser", "is_staff", "is_active", "date_joined")
    return [f"{relation}__{name}" for name in unshown]


def org_users() -> models.QuerySet[User]:
    """The people of the active organisation, for owner choices, by name."""
    people = User.objects.filter(pk__in=Membership.objects.values("user_id"))
    return people.order_by(*(name.removeprefix("user__") for name in BY_NAME))
