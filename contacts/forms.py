"""Input validation for contacts and companies."""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError

from contacts import services
from contacts.models import Company, Contact
from crm.forms import apply_errors
from crm.models import Organization, User
from crm.records import versions
from crm.records.custom_field_forms import CustomValuesMixin
from crm.records.versions import version_of
from crm.selectors import org_users

R = TypeVar("R")


class _TagsField(forms.CharField):
    """Tags as the user types them: comma-separated names."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return [name.strip() for name in str(value or "").split(",") if name.strip()]


class _ListField(forms.CharField):
    """Several values in one box, one per line or comma-separated."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return [v.strip() for v in str(value or "").replace("\n", ",").split(",") if v.strip()]


class _OwnerMixin(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    # The version of the record the form was opened on (crm.records.versions); "" on create.
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = org_users()  # this organisation's people only


class ContactForm(CustomValuesMixin, _OwnerMixin):
    custom_kind = "contact"

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(required=False, label="Email")
    other_emails = _ListField(required=False, label="Other emails", help_text="Comma-separated.")
    phone = forms.CharField(
        max_length=40, required=False, help_text="With the country code, or set the country."
    )
    other_phones = _ListField(required=False, label="Other phones", help_text="Comma-separated.")
    job_title = forms.CharField(max_length=150, required=False)
    company = forms.CharField(
        max_length=200, required=False,
        help_text="An existing company's name, or a new one to create.",
        widget=forms.TextInput(attrs={"list": "company-suggestions", "autocomplete": "off"}),
    )  # fmt: skip
    lifecycle = forms.ChoiceField(choices=Contact.Lifecycle.choices, initial=Contact.Lifecycle.LEAD)
    source = forms.CharField(max_length=100, required=False)
    tags = _TagsField(required=False, help_text="Comma-separated; new tags are created.")
    preferred_channel = forms.ChoiceField(
        choices=[("", "—"), *Contact.Channel.choices], required=False
    )
    language = forms.CharField(max_length=10, required=False)
    street = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.CharField(max_length=2, required=False, help_text="Two letters: FR, GB, US…")

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).lower()

    def _country(self) -> str:
        if "country" not in self.fields:  # a form for the phone numbers alone: the contact's
            return str(self.initial.get("country") or "")
        return str(self.data.get(self.add_prefix("country"), "") or "")

    def clean_phone(self) -> str:
        # Checked here too, so a bad number shows beside its field with any other error.
        return services.normalise_phone(self.cleaned_data["phone"], country=self._country())

    def clean_other_phones(self) -> list[str]:
        phones = self.cleaned_data["other_phones"]
        return [services.normalise_phone(p, country=self._country()) for p in phones]

    def clean_other_emails(self) -> list[str]:
        emails = self.cleaned_data["other_emails"]
        field = forms.EmailField()
        return [field.clean(email).lower() for email in emails]


class CompanyForm(CustomValuesMixin, _OwnerMixin):
    custom_kind = "company"

    name = forms.CharField(max_length=200)
    domain = forms.CharField(max_length=253, required=False, help_text="e.g. example.com")
    industry = forms.CharField(max_length=100, required=False)
    size = forms.ChoiceField(choices=[("", "—"), *Company.Size.choices], required=False)
    tags = _TagsField(required=False, help_text="Comma-separated; new tags are created.")
    street = forms.CharField(max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.CharField(max_length=2, required=False, help_text="Two letters: FR, GB, US…")


def initial_for(record: Contact | Company, form_class: type[forms.Form]) -> dict[str, Any]:
    """A record's values as its edit form shows them: names for tags and company, lists
    as comma-separated text, the owner by id, custom values as "custom_<key>"."""
    initial: dict[str, Any] = {}
    for name in form_class.base_fields:
        value = getattr(record, name, None)
        if name == "owner":
            value = record.owner_id
        elif name == "version":
            value = version_of(record)
        elif name == "tags":
            value = ", ".join(link.tag.name for link in record.tag_links.all())
        elif name == "company":  # the contact's copy of its company's name, kept in step
            value = record.company_name if isinstance(record, Contact) and record.company_id else ""
        elif isinstance(value, list):
            value = ", ".join(value)
        initial[name] = value
    # The custom fields are added per organisation in __init__, so not in base_fields.
    initial.update({f"custom_{key}": value for key, value in record.custom.items()})
    return initial


def contact_form_save(
    form: ContactForm, *, org: Organization, by: User, record: Contact | None
) -> Contact | None:
    """Save what the contact form gives, whole or cut to one fact, through the service; None
    when refused, the reasons on the form with the contact's current version."""
    return _form_save(
        form, record, {"company": "company_name", "tags": "tag_names"},
        lambda data: services.contact_save(org=org, by=by, contact=record, **data),
    )  # fmt: skip


def company_form_save(
    form: CompanyForm, *, org: Organization, by: User, record: Company | None
) -> Company | None:
    """The same for the company form."""
    return _form_save(
        form, record, {"tags": "tag_names"},
        lambda data: services.company_save(org=org, by=by, company=record, **data),
    )  # fmt: skip


def _form_save(
    form: Any, record: Any, renames: dict[str, str], save: Callable[[dict[str, Any]], R]
) -> R | None:
    """The form's values as the service takes them (custom values merged into the stored
    ones, fields named as the service names them), saved; None with the reasons on the form."""
    data = dict(form.cleaned_data)
    custom = form.pop_custom(data, record)
    if custom is not None:
        data["custom"] = custom
    for name, service_name in renames.items():
        if name in data:
            data[service_name] = data.pop(name)
    try:
        return save(data)
    except ValidationError as error:
        _refused(form, error, record)
        return None


def _refused(form: forms.Form, error: ValidationError, record: Contact | Company | None) -> None:
    apply_errors(form, error)
    if record is not None:
        versions.renew(form, record)


class ContactEraseForm(forms.Form):
    """Erasure cannot be undone: the person types who they mean to erase."""

    confirmation = forms.CharField(
        max_length=300, label="Type the contact's email address or full name to confirm"
    )

    def __init__(self, *args: Any, contact: Contact, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contact = contact

    def clean_confirmation(self) -> str:
        typed = " ".join(str(self.cleaned_data["confirmation"]).split()).casefold()
        accepted = {self.contact.email.casefold(), self.contact.name.casefold()} - {""}
        if typed not in accepted:
            raise forms.ValidationError("That is not this contact's email address or name.")
        return typed
