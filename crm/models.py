"""Platform models: users, organisations, memberships, invitations, teams, the audit log."""

import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from crm import people
from crm.tenancy import TenantModel


class UserManager(DjangoUserManager["User"]):
    """Creates users identified by email alone."""

    def _create_user_object(
        self, username: str | None, email: str | None, password: str | None, **extra: Any
    ) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        user = self._create_user_object(None, email, password, **extra)
        user.save(using=self._db)
        return user

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in by email; belongs to organisations through memberships."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """What the product calls this person: the full name, else the address's local part
        (never the whole address)."""
        return people.display_name(self.first_name, self.last_name, self.email)

    @property
    def initials(self) -> str:
        return people.initials(self.display_name)


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as Europe/Paris.")


class Organization(models.Model):
    """A customer of the CRM: the tenant every other row belongs to."""

    class Visibility(models.TextChoices):
        ALL = "all", "All records"
        TEAM = "team", "Their teams' records"
        OWN = "own", "Their own records"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    base_currency = models.CharField(max_length=3, default="USD")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[_validate_time_zone])
    fiscal_year_start_month = models.PositiveSmallIntegerField(default=1)
    require_mfa = models.BooleanField(
        default=False, help_text="Members must set up two-factor authentication to get in."
    )
    # Which records each role sees, by role value: "all", "team" or "own" (missing: all).
    record_visibility = models.JSONField(default=dict, blank=True)
    # {action: [role, ...]}: who may do the actions crm.permissions.CONFIGURABLE names, where
    # the organisation chose otherwise than the default (Settings → Permissions).
    role_permissions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__range=(1, 12)),
                name="crm_organization_fiscal_month_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def visibility_for(self, role: str) -> str:
        """Which records members in `role` see; owners and admins always see all."""
        if role in ("owner", "admin"):
            return self.Visibility.ALL
        return str(self.record_visibility.get(role, self.Visibility.ALL))


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    REP = "rep", "Sales rep"
    AGENT = "agent", "Support agent"
    VIEWER = "viewer", "Viewer"


class Membership(TenantModel):
    """A user's place in one organisation, with the role that decides what they may do."""

    user = models.ForeignKey("crm.User", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # A signed-in user may list their own memberships in every organisation (the switcher).
    tenant_readable_by_user = "user"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user"], name="crm_membership_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


class Invitation(TenantModel):
    """An invitation for an email address to join the organisation with a role."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    invited_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "crm.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                "org",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="crm_invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"


class Team(TenantModel):
    """A group of members, with a lead; record visibility can be limited to one's teams."""

    name = models.CharField(max_length=100)
    lead = models.ForeignKey(
        "crm.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint("org", Lower("name"), name="crm_team_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantModel):
    """A membership's place in a team."""

    team = models.ForeignKey("crm.Team", on_delete=models.CASCADE)
    membership = models.ForeignKey(
        "crm.Membership", on_delete=models.CASCADE, related_name="teams_link"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "membership"], name="crm_teammember_once"),
        ]


class AuditEvent(TenantModel):
    """One recorded change: who did what to which record, with the fields before and after."""

    actor = models.ForeignKey("crm.User", on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # {"field": [before, after], ...}; personal values are removed when a contact is erased.
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=False)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["org", "-at"], name="crm_audit_org_at"),
            models.Index(
                fields=["org", "object_type", "object_id", "-at"], name="crm_audit_object"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


# The rows every record kind shares (saved views, custom fields, exports, imports, merges,
# duplicate pairs) are in crm.records.models: imported here so that Django finds them.
class ScheduledRun(models.Model):
    """When one of beat's jobs last went out to every organisation. Platform-wide, holding
    no organisation's data: `crm.catch_up` compares it with the job's schedule, to run a
    night's job that an outage let slip."""

    task = models.CharField(max_length=100, primary_key=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.task} at {self.last_run_at:%Y-%m-%d %H:%M}"


from crm.records import models as _record_models  # noqa: E402, F401
