"""Input validation for contacts and companies."""

from typing import Any

from django import forms

from contacts import selectors
from contacts.models import Company, Contact
from crm.models import User


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = selectors.org_users()  # this organisation's people only


class ContactForm(_OwnerMixin):
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

    def clean_other_emails(self) -> list[str]:
        emails = self.cleaned_data["other_emails"]
        field = forms.EmailField()
        return [field.clean(email).lower() for email in emails]


class CompanyForm(_OwnerMixin):
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
