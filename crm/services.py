"""Writes to organisations, memberships, invitations and teams. Every one is audited."""

from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from crm import people, tasks
from crm.audit import audit_record, diff
from crm.models import (
    Invitation,
    Membership,
    Organization,
    Role,
    Team,
    TeamMember,
    User,
)
from crm.permissions import CONFIGURABLE
from crm.tenancy import activate

INVITATION_DAYS = 14
INVITATION_SALT = "crm.invitation"
# Slugs that would read as product URLs rather than an organisation's name.
RESERVED_SLUGS = {"admin", "accounts", "api", "new", "settings", "static", "www", "o"}


# --- Accounts ----------------------------------------------------------------------------


@transaction.atomic
def user_set_up(*, email: str, password: str = "", password_hash: str = "", name: str = "") -> User:
    """A user with this address (created if new), this password (or this hash of one, made
    once for several users), this name when given, and the address confirmed: for system
    use (demo logins, operators), where nobody clicks a confirmation link."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first() or User.objects.create_user(email)
    user.password = password_hash or make_password(password)
    if name:
        user.first_name, user.last_name = people.split_name(name)
    user.save(update_fields=["password", "first_name", "last_name"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def user_rename(*, user: User, name: str) -> User:
    """Set what colleagues see a person called: their whole name, stored as first and last."""
    user.first_name, user.last_name = people.split_name(name)
    user.save(update_fields=["first_name", "last_name"])
    return user


# --- Organisations -----------------------------------------------------------------------


def _free_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def validate_slug(slug: str, *, org: Organization | None = None) -> None:
    if slug.lower() in RESERVED_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is reserved; choose another address."})
    taken = Organization.objects.filter(slug__iexact=slug)
    if org is not None:
        taken = taken.exclude(pk=org.pk)
    if taken.exists():
        raise ValidationError({"slug": f"The address “{slug}” is taken; choose another."})


@transaction.atomic
def org_create(*, name: str, owner: User, slug: str | None = None) -> Organization:
    """Create an organisation with `owner` as its first member, in the owner role."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organisation a name."})
    if slug:
        slug = slug.lower()
        validate_slug(slug)
    org = Organization.objects.create(name=name, slug=slug or _free_slug(name))
    with activate(org):
        Membership.objects.create(org=org, user=owner, role=Role.OWNER)
        audit_record(org=org, actor=owner, action="org.created", target=org)
    return org


@transaction.atomic
def org_update(*, org: Organization, by: User, **fields: Any) -> Organization:
    """Change the organisation's profile (name, address, currency, time zone, fiscal year)."""
    if "slug" in fields:
        fields["slug"] = fields["slug"].lower()
        if fields["slug"] != org.slug:
            validate_slug(fields["slug"], org=org)
    before = {field: getattr(org, field) for field in fields}
    for field, value in fields.items():
        setattr(org, field, value)
    org.full_clean()
    org.save(update_fields=list(fields))
    audit_record(org=org, actor=by, action="org.updated", target=org, changes=diff(before, fields))
    return org


@transaction.atomic
def org_set_security(*, org: Organization, by: User, require_mfa: bool) -> Organization:
    """Require two-factor authentication of every member, or not. Whoever requires it must
    have it already: the next page would send them to set it up, the organisation's
    settings included."""
    if require_mfa and not org.require_mfa and not is_mfa_enabled(by):
        raise ValidationError(
            {"require_mfa": "Set up two-factor authentication for yourself first "
                            "(Account → Two-factor authentication), then require it."}
        )  # fmt: skip
    before = org.require_mfa
    org.require_mfa = require_mfa
    org.save(update_fields=["require_mfa"])
    changes = {"require_mfa": [before, require_mfa]} if before != require_mfa else {}
    audit_record(org=org, actor=by, action="org.security_updated", target=org, changes=changes)
    return org


@transaction.atomic
def org_set_visibility(*, org: Organization, by: User, visibility: dict[str, str]) -> Organization:
    """Set which records each role sees: all, its teams' or its own."""
    allowed = set(Organization.Visibility.values)
    for role, scope in visibility.items():
        if role not in Role.values or scope not in allowed:
            raise ValidationError(f"“{scope}” is not a visibility for {role}.")
    # Owners and admins always see everything: they manage the organisation.
    cleaned = {r: s for r, s in visibility.items() if r not in (Role.OWNER, Role.ADMIN)}
    before = dict(org.record_visibility)
    org.record_visibility = cleaned
    org.save(update_fields=["record_visibility"])
    audit_record(
        org=org,
        actor=by,
        action="org.visibility_updated",
        target=org,
        changes=diff(before, cleaned),
    )
    return org


@transaction.atomic
def org_set_permissions(
    *, org: Organization, by: User | None, permissions: dict[str, list[str]]
) -> Organization:
    """Choose which roles may do the configurable actions (crm.permissions.CONFIGURABLE):
    {action: [role, ...]}. Owners and admins always may; an action left out keeps its
    current choice."""
    chosen = dict(org.role_permissions)
    for action, roles in permissions.items():
        if action not in CONFIGURABLE:
            raise ValidationError(f"“{action}” is not a permission an organisation chooses.")
        if unknown := set(roles) - set(Role.values):
            raise ValidationError(f"“{sorted(unknown)[0]}” is not a role.")
        chosen[action] = sorted(set(roles) - {Role.OWNER, Role.ADMIN})
    before = dict(org.role_permissions)
    org.role_permissions = chosen
    org.save(update_fields=["role_permissions"])
    audit_record(
        org=org, actor=by, action="org.permissions_updated", target=org,
        changes=diff(before, chosen),
    )  # fmt: skip
    return org


# --- Members -----------------------------------------------------------------------------


def _owner_count(org: Organization) -> int:
    return Membership.objects.filter(role=Role.OWNER).count()


def _check_owner_change(*, membership: Membership, by: Membership, new_role: str | None) -> None:
    touches_owner = membership.role == Role.OWNER or new_role == Role.OWNER
    if touches_owner and by.role != Role.OWNER:
        raise ValidationError("Only an owner can give or take away the owner role.")
    if (
        membership.role == Role.OWNER
        and new_role != Role.OWNER
        and _owner_count(membership.org) == 1
    ):
        raise ValidationError(
            "This is the organisation's last owner: make someone else an owner first."
        )


@transaction.atomic
def membership_change_role(
    *, org: Organization, membership: Membership, role: str, by: Membership
) -> Membership:
    """Give a member another role; the last owner keeps theirs."""
    if role not in Role.values:
        raise ValidationError(f"“{role}” is not a role.")
    if role == membership.role:
        return membership
    # Lock the owners so two demotions at once cannot both pass the last-owner check.
    list(Membership.objects.select_for_update().filter(role=Role.OWNER))
    _check_owner_change(membership=membership, by=by, new_role=role)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        org=org, actor=by.user, action="member.role_changed", target=membership,
        changes={"role": [before, role]},
    )  # fmt: skip
    return membership


@transaction.atomic
def membership_remove(*, org: Organization, membership: Membership, by: Membership) -> None:
    """Take a person out of the organisation; the last owner cannot be removed."""
    list(Membership.objects.select_for_update().filter(role=Role.OWNER))
    _check_owner_change(membership=membership, by=by, new_role=None)
    audit_record(
        org=org, actor=by.user, action="member.removed", target=membership,
        changes={"user": [membership.user.email, None], "role": [membership.role, None]},
    )  # fmt: skip
    TeamMember.objects.filter(membership=membership).delete()
    membership.delete()


@transaction.atomic
def membership_set(*, org: Organization, user: User, role: str, by: User | None) -> Membership:
    """Make `user` a member with `role` (system use: seeding, operators); idempotent."""
    membership, created = Membership.objects.get_or_create(
        user=user, defaults={"org": org, "role": role}
    )
    changes: dict[str, list[str | None]]
    if not created and membership.role != role:
        before, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        changes = {"role": [before, role]}
    elif created:
        changes = {"user": [None, user.email], "role": [None, role]}
    else:
        return membership
    audit_record(org=org, actor=by, action="member.set", target=membership, changes=changes)
    return membership


# --- Invitations -------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"o": invitation.org_id, "i": invitation.pk}, salt=INVITATION_SALT)


def invitation_from_token(token: str) -> tuple[Organization, int]:
    """The organisation and invitation id a token names; ValidationError if it was tampered with."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT)
        org = Organization.objects.get(pk=data["o"])
    except (signing.BadSignature, KeyError, TypeError, Organization.DoesNotExist) as error:
        raise ValidationError("This invitation link is not valid.") from error
    return org, int(data["i"])


@transaction.atomic
def invitation_create(
    *, org: Organization, email: str, role: str, by: Membership, accept_url_for: Any
) -> Invitation:
    """Invite an address to join with a role, and mail it the link (after commit)."""
    email = email.strip().lower()
    if role == Role.OWNER and by.role != Role.OWNER:
        raise ValidationError({"role": "Only an owner can invite another owner."})
    if Membership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member."})
    open_invites = Invitation.objects.annotate(lower_email=Lower("email")).filter(
        lower_email=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    open_invites.filter(expires_at__lte=timezone.now()).update(revoked_at=timezone.now())
    if open_invites.exists():
        raise ValidationError({"email": f"{email} already has an open invitation."})
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                org=org, email=email, role=role, invited_by=by.user,
                expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
            )  # fmt: skip
    except IntegrityError as error:  # a second invitation raced this one in
        raise ValidationError({"email": f"{email} already has an open invitation."}) from error
    audit_record(
        org=org, actor=by.user, action="invitation.created", target=invitation,
        changes={"email": [None, email], "role": [None, role]},
    )  # fmt: skip
    tasks.invitation_send.delay_on_commit(
        org_id=org.pk, invitation_id=invitation.pk, accept_url=accept_url_for(invitation)
    )
    return invitation


def invitation_send_mail(*, invitation_id: int, accept_url: str) -> None:
    """Mail an open invitation its link; sending it twice only sends the same link again."""
    invitation = Invitation.objects.select_related("invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != "open":
        return
    org = Organization.objects.get(pk=invitation.org_id)
    inviter = invitation.invited_by.display_name if invitation.invited_by else "A colleague"
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to {org.name}",
        message=(
            f"{inviter} invited you to join {org.name} on {settings.PRODUCT_NAME} as "
            f"{invitation.get_role_display()}.\n\nAccept the invitation: {accept_url}\n\n"
            f"The link works until {invitation.expires_at:%d %B %Y}."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, org: Organization, invitation: Invitation, by: Membership) -> Invitation:
    if invitation.status in ("accepted", "revoked"):
        raise ValidationError(f"This invitation is {invitation.status} and cannot be withdrawn.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(org=org, actor=by.user, action="invitation.revoked", target=invitation)
    return invitation


def invitation_check(*, invitation_id: int, email: str, lock: bool = False) -> Invitation:
    """The invitation, if `email` may still accept it; else a ValidationError saying why."""
    invitations = Invitation.objects.select_for_update() if lock else Invitation.objects
    invitation = invitations.filter(pk=invitation_id).first()
    if invitation is None or invitation.status == "revoked":
        raise ValidationError("This invitation was withdrawn. Ask for a new one.")
    if invitation.status == "accepted":
        raise ValidationError("This invitation has already been used.")
    if invitation.status == "expired":
        raise ValidationError("This invitation has expired. Ask for a new one.")
    # The link is only as safe as the mailbox it was sent to: it works for that address.
    if email.strip().lower() != invitation.email.lower():
        raise ValidationError(
            f"This invitation is for {invitation.email}. Sign up or log in with that address, "
            "or ask for an invitation to yours."
        )
    return invitation


@transaction.atomic
def invitation_accept(*, org: Organization, invitation_id: int, user: User) -> Membership:
    """Join `user` to the organisation with the invited role; the link then stops working."""
    invitation = invitation_check(invitation_id=invitation_id, email=user.email, lock=True)
    if Membership.objects.filter(user=user).exists():
        raise ValidationError(f"You are already a member of {org.name}.")
    membership = Membership.objects.create(org=org, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        org=org, actor=user, action="invitation.accepted", target=invitation,
        changes={"role": [None, membership.role]},
    )  # fmt: skip
    return membership


# --- Teams -------------------------------------------------------------------------------


@transaction.atomic
def team_save(
    *,
    org: Organization,
    by: User,
    name: str,
    lead: Membership | None,
    members: list[Membership],
    team: Team | None = None,
) -> Team:
    """Create a team, or update one: its name, its lead and who is in it."""
    name = name.strip()
    clash = Team.objects.annotate(lower_name=Lower("name")).filter(lower_name=name.lower())
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise ValidationError({"name": f"There is already a team called “{name}”."})
    current: set[int] = set()
    before: dict[str, Any] = {}
    if team is not None:
        current = set(TeamMember.objects.filter(team=team).values_list("membership_id", flat=True))
        before = {"name": team.name, "lead": team.lead_id, "members": current}
    member_ids = {m.pk for m in members} | ({lead.pk} if lead else set())
    if team is None:
        team = Team.objects.create(org=org, name=name, lead=lead)
    else:
        team.name, team.lead = name, lead
        team.save(update_fields=["name", "lead"])
    TeamMember.objects.filter(team=team).exclude(membership_id__in=member_ids).delete()
    TeamMember.objects.bulk_create(
        [TeamMember(org=org, team=team, membership_id=pk) for pk in member_ids - current]
    )
    # People by email in the audit log: ids mean nothing to whoever reads it.
    ids = member_ids | current | ({before.get("lead")} - {None})
    email = dict(Membership.objects.filter(pk__in=ids).values_list("pk", "user__email"))
    after = {"name": name, "lead": lead.pk if lead else None, "members": member_ids}
    changes = diff(
        {k: _emails(v, email) for k, v in before.items()},
        {k: _emails(v, email) for k, v in after.items()},
    )
    audit_record(
        org=org, actor=by, action="team.updated" if before else "team.created", target=team,
        changes=changes,
    )  # fmt: skip
    return team


def _emails(value: Any, email: dict[int, str]) -> Any:
    """A membership id, or a set of them, as the people's email addresses."""
    if isinstance(value, set):
        return sorted(email.get(pk, str(pk)) for pk in value)
    if isinstance(value, int):
        return email.get(value, str(value))
    return value


@transaction.atomic
def team_delete(*, org: Organization, team: Team, by: User) -> None:
    audit_record(org=org, actor=by, action="team.deleted", target=team)
    TeamMember.objects.filter(team=team).delete()
    team.delete()
