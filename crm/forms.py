"""Input validation for sign-up, a person's name, organisation settings, members and teams."""

import zoneinfo
from typing import Any

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from crm import people, services
from crm.models import Membership, Organization, Role, User
from crm.permissions import ACTIONS, CONFIGURABLE
from crm.selectors import BY_NAME
from crm.tenancy import activate

CURRENCIES = [
    ("USD", "US dollar"), ("EUR", "Euro"), ("GBP", "Pound sterling"), ("CHF", "Swiss franc"),
    ("CAD", "Canadian dollar"), ("AUD", "Australian dollar"), ("JPY", "Japanese yen"),
    ("SEK", "Swedish krona"), ("NOK", "Norwegian krone"), ("DKK", "Danish krone"),
    ("PLN", "Polish złoty"), ("INR", "Indian rupee"), ("BRL", "Brazilian real"),
    ("MXN", "Mexican peso"), ("SGD", "Singapore dollar"), ("NZD", "New Zealand dollar"),
    ("ZAR", "South African rand"),
]  # fmt: skip
MONTHS = [
    (1, "January"), (2, "February"), (3, "March"), (4, "April"), (5, "May"), (6, "June"),
    (7, "July"), (8, "August"), (9, "September"), (10, "October"), (11, "November"),
    (12, "December"),
]  # fmt: skip


def _time_zones() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class NameField(forms.CharField):
    """A person's whole name in one box, as they write it: the product shows it wherever they
    appear (stored split at the first space, see crm.people.split_name)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Your name")
        kwargs.setdefault("help_text", "How colleagues see you on records, lists and History.")
        kwargs.setdefault("error_messages", {"required": "Give your name."})
        # first_name and last_name hold 150 characters each: a whole name that fits fits both.
        super().__init__(max_length=150, widget=forms.TextInput({"autocomplete": "name"}), **kwargs)

    def clean(self, value: Any) -> str:
        name = " ".join(str(super().clean(value)).split())
        if "@" in name:
            # The name is what shows instead of the address: it must not be one.
            raise ValidationError("Give your name rather than an email address.", code="email")
        return name


class SignupForm(AllauthSignupForm):
    """allauth's sign-up, plus the person's name and the organisation it creates (or the
    invitation it accepts)."""

    name = NameField()
    organization_name = forms.CharField(
        label="Organisation name", max_length=200,
        help_text="Your company or team. You can invite colleagues once you are in.",
    )  # fmt: skip
    field_order = ["name", "email", "password1", "password2", "organization_name"]

    def __init__(self, *args: Any, invitation: tuple[Organization, int] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.invitation = invitation
        if invitation:
            del self.fields["organization_name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "name" in cleaned:  # allauth's adapter saves the user with these
            cleaned["first_name"], cleaned["last_name"] = people.split_name(cleaned["name"])
        if self.invitation:
            org, invitation_id = self.invitation
            # Refuse before allauth saves the user: nothing is written for a dead invitation.
            with activate(org):
                try:
                    services.invitation_check(
                        invitation_id=invitation_id, email=cleaned.get("email", "")
                    )
                except ValidationError as error:
                    self.add_error(None, error)
        return cleaned

    def custom_signup(self, request: HttpRequest, user: User) -> None:
        if self.invitation:
            org, invitation_id = self.invitation
            with activate(org):
                services.invitation_accept(org=org, invitation_id=invitation_id, user=user)
        else:
            services.org_create(name=self.cleaned_data["organization_name"], owner=user)


class NameForm(forms.Form):
    """The profile page: what the signed-in person is called."""

    name = NameField()


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        label="Address", max_length=60,
        help_text="Appears in every link: /o/<address>/. Changing it breaks saved links.",
    )  # fmt: skip
    base_currency = forms.ChoiceField(choices=CURRENCIES, help_text="Deal values are in this.")
    time_zone = forms.ChoiceField(choices=_time_zones)
    fiscal_year_start_month = forms.TypedChoiceField(
        label="Fiscal year starts in", choices=MONTHS, coerce=int
    )


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REP)

    def __init__(self, *args: Any, inviter: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if inviter.role != Role.OWNER:
            role = self.fields["role"]
            assert isinstance(role, forms.ChoiceField)
            role.choices = [c for c in Role.choices if c[0] != Role.OWNER]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(forms.Form):
    # Placeholders that match nothing; __init__ puts the scoped querysets in.
    name = forms.CharField(max_length=100)
    lead = forms.ModelChoiceField(queryset=Membership.unscoped.none(), required=False)
    members = forms.ModelMultipleChoiceField(
        queryset=Membership.unscoped.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built from the scoped manager: another organisation's members are not choices.
        members = Membership.objects.select_related("user").order_by(*BY_NAME)
        for name in ("lead", "members"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = members


class VisibilityForm(forms.Form):
    """One choice per role that can be restricted (owners and admins always see all)."""

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for role, label in Role.choices:
            if role in (Role.OWNER, Role.ADMIN):
                continue
            self.fields[role] = forms.ChoiceField(
                label=label, choices=Organization.Visibility.choices,
                initial=org.visibility_for(role),
            )  # fmt: skip


class PermissionsForm(forms.Form):
    """Per configurable action, the roles besides owners and admins that may do it."""

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = [(role, label) for role, label in Role.choices
                 if role not in (Role.OWNER, Role.ADMIN)]  # fmt: skip
        for action, label in CONFIGURABLE.items():
            default = sorted(r for r in ACTIONS[action] if r not in (Role.OWNER, Role.ADMIN))
            self.fields[_field_name(action)] = forms.MultipleChoiceField(
                label=label, choices=roles, required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=org.role_permissions.get(action, default),
            )  # fmt: skip

    def chosen(self) -> dict[str, list[str]]:
        """{action: roles} from the cleaned form."""
        return {action: self.cleaned_data[_field_name(action)] for action in CONFIGURABLE}


def _field_name(action: str) -> str:
    return action.replace(".", "__")  # "records.bulk_delete": an id without a dot


class SecurityForm(forms.Form):
    require_mfa = forms.BooleanField(
        label="Require two-factor authentication for every member", required=False,
        help_text="Members without it are sent to set it up before they can open anything.",
    )  # fmt: skip


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
