"""The quick log on a contact's or company's page, which also edits an entry."""

from typing import Any

from django import forms
from django.utils import timezone

from interactions.models import Interaction

# What a browser's datetime-local box sends, in the organisation's time zone (the
# middleware activates it).
_LOCAL = "%Y-%m-%dT%H:%M"


class InteractionForm(forms.Form):
    channel = forms.ChoiceField(choices=Interaction.Channel.choices)
    direction = forms.ChoiceField(
        choices=Interaction.Direction.choices, initial=Interaction.Direction.OUTBOUND
    )
    occurred_at = forms.DateTimeField(
        label="When",
        input_formats=[_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL),
    )
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(
        label="Notes", required=False, max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    outcome = forms.ChoiceField(
        choices=[("", "—"), *Interaction.Outcome.choices], required=False,
        help_text="For a call.",
    )  # fmt: skip
    duration = forms.IntegerField(
        label="Minutes", min_value=0, max_value=24 * 60, required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") and data.get("channel") != Interaction.Channel.CALL:
            self.add_error("outcome", "Only a call has an outcome.")
        if not (data.get("subject") or data.get("body")) and not self.errors:
            self.add_error("subject", "Say what it was about: a subject or some notes.")
        return data

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values as the services take them (a duration in seconds)."""
        data = dict(self.cleaned_data)
        minutes = data.pop("duration")
        data["duration"] = None if minutes is None else minutes * 60
        return data


def blank_form(channel: str) -> InteractionForm:
    """The quick log, empty: the member's last channel, now in the organisation's zone."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    return InteractionForm(initial={"channel": channel, "occurred_at": now})


def form_for(interaction: Interaction) -> InteractionForm:
    duration = interaction.duration
    return InteractionForm(
        initial={
            "channel": interaction.channel, "direction": interaction.direction,
            "occurred_at": timezone.localtime(interaction.occurred_at),
            "subject": interaction.subject, "body": interaction.body,
            "outcome": interaction.outcome,
            "duration": None if duration is None else round(duration / 60),
        }
    )  # fmt: skip


class MailboxForm(forms.Form):
    create_leads = forms.BooleanField(
        required=False,
        label="Create a lead when the sender is unknown",
        help_text="Not for auto-replies and bounces: those are filed without a contact.",
    )
    reply_to = forms.EmailField(
        required=False, max_length=254, label="Reply-To address",
        help_text=(
            "Where customers' replies to email sent from the CRM go. Have your mail relay "
            "forward this address to the inbound address above, so that replies are logged on "
            "the contact's timeline. Empty: replies go to the member who wrote the email."
        ),
    )  # fmt: skip


class EmailForm(forms.Form):
    """An email to a contact, written on their page: plain text, to their address."""

    subject = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Message", max_length=50_000, strip=False, widget=forms.Textarea(attrs={"rows": 8})
    )

    def clean_subject(self) -> str:
        subject = str(self.cleaned_data["subject"])
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError("A subject is one line.")
        return subject

    def clean_body(self) -> str:
        body = str(self.cleaned_data["body"])
        if not body.strip():
            raise forms.ValidationError("Write the message.")
        return body
