"""Input validation for tickets: a new ticket, its properties beside the conversation, and
the reply and note composers."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from contacts.models import Contact
from contacts.selectors import contact_by_address
from contacts.services import contact_create
from crm.models import Membership, User
from crm.permissions import ACTIONS
from crm.selectors import org_users
from support.models import Priority, Queue, Status


def _agents() -> Any:
    """Members who work tickets: the assignee choices."""
    working = Membership.objects.filter(role__in=ACTIONS["ticket.edit"]).values("user_id")
    return org_users().filter(pk__in=working)


class TicketForm(forms.Form):
    subject = forms.CharField(max_length=300)
    requester = forms.CharField(
        max_length=254, label="Requester's email",
        help_text="A contact's address; someone new becomes a contact.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip
    requester_name = forms.CharField(
        max_length=200, required=False, label="Requester's name",
        help_text="For someone new.",
    )  # fmt: skip
    queue = forms.ModelChoiceField(queryset=Queue.unscoped.none())
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="The queue decides"
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the customer asked, as an internal note on the ticket.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(is_archived=False)  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = _agents()  # type: ignore[attr-defined]

    def clean_requester(self) -> str:
        address = self.cleaned_data["requester"].strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError("Enter an email address, such as ada@example.com.") from None
        return address

    def requester_contact(self, *, org: Any, by: User) -> Contact:
        """The contact with the requester's address, made when there is none."""
        address = self.cleaned_data["requester"]
        found = contact_by_address(address)
        if found is not None:
            return found
        first, _, last = (self.cleaned_data.get("requester_name") or "").strip().partition(" ")
        with transaction.atomic():
            return contact_create(
                org=org, by=by, email=address, first_name=first[:100], last_name=last[:100]
            )


class PropertiesForm(forms.Form):
    """Status, priority, assignee and queue, beside the conversation."""

    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Unassigned"
    )
    queue = forms.ModelChoiceField(queryset=Queue.unscoped.none())
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _agents()  # type: ignore[attr-defined]
        self.fields["queue"].queryset = Queue.objects.all()  # type: ignore[attr-defined]


# After a reply, the ticket waits on the customer unless the agent says otherwise.
_AFTER_REPLY = [
    (Status.PENDING, "Pending on customer"), (Status.OPEN, "Open"),
    (Status.ON_HOLD, "On hold"), (Status.SOLVED, "Solved"),
]  # fmt: skip


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Reply", max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "Write to the requester…"}),
    )  # fmt: skip
    status = forms.ChoiceField(choices=_AFTER_REPLY, initial=Status.PENDING, label="Then set")


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Internal note", max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "For the team; never emailed."}),
    )  # fmt: skip


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label="Merge into ticket number", min_value=1, max_value=2_147_483_647,
        help_text="The ticket that stays, e.g. 1042.",
        widget=forms.NumberInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip
