"""Input validation for deals: the add and edit form (also cut to one fact on the deal's
page), and the won and lost forms."""

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from contacts import selectors as contact_selectors
from contacts.models import Contact
from crm.forms import apply_errors
from crm.models import Membership, Organization, User
from crm.records import versions
from crm.records.custom_field_forms import CustomValuesMixin
from crm.records.versions import version_of
from crm.selectors import org_users
from sales import currencies, services
from sales.models import Deal, LostReason, Stage

_ADDRESS = re.compile(r"[^\s<>,;]+@[^\s<>,;]+")
DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _Names(forms.CharField):
    """Several values in one box, comma-separated."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _stage_label(stage: Stage) -> str:
    return f"{stage.pipeline.name} · {stage.name}"


class DealForm(CustomValuesMixin, forms.Form):
    custom_kind = "deal"

    title = forms.CharField(max_length=200)
    stage = forms.ModelChoiceField(queryset=Stage.unscoped.none(), help_text="Pipeline and stage.")
    amount = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2,
        error_messages={"min_value": "An amount cannot be negative."},
    )  # fmt: skip
    currency = forms.ChoiceField(choices=currencies.CHOICES)
    close_date = forms.DateField(required=False, label="Expected close", widget=DAY)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    contact = forms.CharField(
        max_length=300, required=False, label="Primary contact",
        help_text="Their name or email address, as suggested while you type.",
        widget=forms.TextInput(attrs={"list": "contact-suggestions", "autocomplete": "off"}),
    )  # fmt: skip
    contacts = _Names(
        required=False, label="Other contacts",
        help_text="Email addresses, comma-separated.",
    )  # fmt: skip
    company = forms.CharField(
        max_length=200, required=False,
        help_text="An existing company's name, or a new one to create.",
        widget=forms.TextInput(attrs={"list": "company-suggestions", "autocomplete": "off"}),
    )  # fmt: skip
    source = forms.CharField(max_length=100, required=False)
    tags = _Names(required=False, help_text="Comma-separated; new tags are created.")
    lost_reason = forms.ModelChoiceField(queryset=LostReason.unscoped.none(), required=False)
    lost_note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # The version of the deal the form was opened on (crm.records.versions); "" on create.
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, membership: Membership | None = None, deal: Deal | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.membership = membership
        # Choices from the scoped managers: this organisation's own.
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ModelChoiceField)
        stage.queryset = Stage.objects.filter(is_archived=False, pipeline__is_archived=False)
        stage.queryset = stage.queryset.select_related("pipeline").order_by(
            "pipeline__position", "pipeline_id", "position", "id"
        )
        stage.label_from_instance = _stage_label  # type: ignore[method-assign,assignment]
        if membership is not None:  # the full form, not a fact's: a deal closes by Won or Lost
            # A lost deal says why on its own form; a new one, or an open one, is not lost.
            kinds = [Stage.Kind.OPEN, Stage.Kind.WON]
            current = deal.stage_id if deal is not None else None
            stage.queryset = stage.queryset.filter(Q(kind__in=kinds) | Q(pk=current))
            if deal is None or deal.stage.kind != Stage.Kind.LOST:
                del self.fields["lost_reason"], self.fields["lost_note"]
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = org_users()
        if "lost_reason" in self.fields:
            reason = self.fields["lost_reason"]
            assert isinstance(reason, forms.ModelChoiceField)
            reason.queryset = LostReason.objects.filter(is_archived=False)

    def clean_contact(self) -> Contact | None:
        text = self.cleaned_data["contact"].strip()
        if not text:
            return None
        return self._contact(text)

    def clean_contacts(self) -> list[Contact]:
        return [self._contact(text) for text in self.cleaned_data["contacts"]]

    def _contact(self, text: str) -> Contact:
        found = _ADDRESS.search(text)
        if found is None:
            raise ValidationError(f"“{text}”: give the contact's email address.")
        email = found.group(0).strip().lower()
        # Among those the member may see; a form made without one (a fact edited in place,
        # whose view checked the deal) looks among the organisation's.
        people = (
            contact_selectors.contact_list(self.membership)
            if self.membership
            else Contact.objects.alive()
        )
        contact = cast(Contact | None, people.filter(email=email).first())
        if contact is None:
            raise ValidationError(f"No contact has the address {email}: add them first.")
        return contact


def contact_text(contact: Contact | None) -> str:
    """A contact as the contact box shows and reads it: "Ada Lovelace <ada@example.com>"."""
    if contact is None:
        return ""
    return f"{contact.name} <{contact.email}>" if contact.name else contact.email


def initial_for(deal: Deal, form_class: type[forms.Form] = DealForm) -> dict[str, Any]:
    """A deal's values as its edit form shows them."""
    others = [link.contact for link in deal.contact_links.select_related("contact")]
    return {
        "title": deal.title, "stage": deal.stage_id, "amount": deal.amount,
        "currency": deal.currency, "close_date": deal.close_date, "owner": deal.owner_id,
        "contact": contact_text(deal.contact),
        "contacts": ", ".join(c.email for c in others if c.email),
        "company": deal.company.name if deal.company else "", "source": deal.source,
        "tags": ", ".join(link.tag.name for link in deal.tag_links.select_related("tag")),
        "lost_reason": deal.lost_reason_id, "lost_note": deal.lost_note,
        "version": version_of(deal),
        **{f"custom_{key}": value for key, value in deal.custom.items()},
    }  # fmt: skip


def deal_form_save(
    form: DealForm, *, org: Organization, by: User, record: Deal | None
) -> Deal | None:
    """Save what the deal form gives, whole or cut to one fact, through the service; None
    when refused, the reasons on the form (and, for an edit, the deal's current version)."""
    data = dict(form.cleaned_data)
    custom = form.pop_custom(data, record)
    if custom is not None:
        data["custom"] = custom
    for name, service_name in (("company", "company_name"), ("tags", "tag_names")):
        if name in data:
            data[service_name] = data.pop(name)
    try:
        return services.deal_save(org=org, by=by, deal=record, **data)
    except ValidationError as error:
        apply_errors(form, error)
        if record is not None:
            versions.renew(form, record)
        return None


class LostForm(forms.Form):
    """Why a deal was lost: a reason from the organisation's list, and a note."""

    stage = forms.ModelChoiceField(queryset=Stage.unscoped.none(), label="Lost stage")
    lost_reason = forms.ModelChoiceField(
        queryset=LostReason.unscoped.none(), label="Reason",
        error_messages={"required": "Say why the deal was lost."},
    )  # fmt: skip
    lost_note = forms.CharField(
        required=False, label="Note", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What would have changed their mind, who won it…",
    )  # fmt: skip

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ModelChoiceField)
        stage.queryset = Stage.objects.filter(
            pipeline_id=deal.pipeline_id, kind=Stage.Kind.LOST, is_archived=False
        )
        stage.empty_label = None
        reason = self.fields["lost_reason"]
        assert isinstance(reason, forms.ModelChoiceField)
        reason.queryset = LostReason.objects.filter(is_archived=False)


class WonForm(forms.Form):
    """Why the deal was won, and which won stage when a pipeline has several."""

    stage = forms.ModelChoiceField(queryset=Stage.unscoped.none(), label="Won stage")
    reason = forms.CharField(
        label="Why did they choose us?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept as a note on the deal's timeline: the price, a feature, who championed it…",
        error_messages={"required": "Say why they chose us."},
    )  # fmt: skip

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ModelChoiceField)
        stage.queryset = Stage.objects.filter(
            pipeline_id=deal.pipeline_id, kind=Stage.Kind.WON, is_archived=False
        )
        stage.empty_label = None
