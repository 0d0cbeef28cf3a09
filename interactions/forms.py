"""The quick log on a contact's or company's page, which also edits an entry; a task's
form."""

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from crm.models import User
from crm.selectors import org_users
from interactions import followups
from interactions.models import FollowUpRule, Interaction, Task

# What a browser's datetime-local box sends, in the organisation's time zone (the
# middleware activates it).
_LOCAL = "%Y-%m-%dT%H:%M"


SOCIAL_NETWORKS = [
    ("linkedin", "LinkedIn"), ("x", "X"), ("facebook", "Facebook"), ("instagram", "Instagram"),
    ("whatsapp", "WhatsApp"), ("other", "Other"),
]  # fmt: skip


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
    attendees = forms.CharField(
        required=False, max_length=1000, help_text="For a meeting: who was there, by commas.",
    )  # fmt: skip
    network = forms.ChoiceField(
        label="Network", choices=[("", "—"), *SOCIAL_NETWORKS], required=False,
    )  # fmt: skip
    handle = forms.CharField(
        required=False, max_length=100, help_text="For a social message: @ada or a profile URL.",
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") and data.get("channel") != Interaction.Channel.CALL:
            self.add_error("outcome", "Only a call has an outcome.")
        if data.get("attendees") and data.get("channel") != Interaction.Channel.MEETING:
            self.add_error("attendees", "Only a meeting has attendees.")
        social = data.get("channel") == Interaction.Channel.SOCIAL
        for name in ("network", "handle"):
            if data.get(name) and not social:
                self.add_error(name, "Only a social message has a network and a handle.")
        if not (data.get("subject") or data.get("body")) and not self.errors:
            self.add_error("subject", "Say what it was about: a subject or some notes.")
        return data

    def service_fields(self, keep: dict[str, Any] | None = None) -> dict[str, Any]:
        """The cleaned values as the services take them (a duration in seconds; a meeting's
        attendees and a social message's network and handle in its details, beside what
        the details `keep` hold otherwise: an email's headers, say)."""
        data = dict(self.cleaned_data)
        minutes = data.pop("duration")
        data["duration"] = None if minutes is None else minutes * 60
        attendees = [name.strip() for name in data.pop("attendees", "").split(",")]
        details = {
            "attendees": [name for name in attendees if name],
            "network": data.pop("network", ""), "handle": data.pop("handle", "").strip(),
        }  # fmt: skip
        kept = {key: value for key, value in (keep or {}).items() if key not in details}
        data["details"] = {**kept, **{key: value for key, value in details.items() if value}}
        return data


def blank_form(channel: str) -> InteractionForm:
    """The quick log, empty: the member's last channel, now in the organisation's zone."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    return InteractionForm(initial={"channel": channel, "occurred_at": now})


def form_for(interaction: Interaction) -> InteractionForm:
    duration = interaction.duration
    details = interaction.details if isinstance(interaction.details, dict) else {}
    return InteractionForm(
        initial={
            "channel": interaction.channel, "direction": interaction.direction,
            "occurred_at": timezone.localtime(interaction.occurred_at),
            "subject": interaction.subject, "body": interaction.body,
            "outcome": interaction.outcome,
            "duration": None if duration is None else round(duration / 60),
            "attendees": ", ".join(details.get("attendees") or []),
            "network": details.get("network", ""), "handle": details.get("handle", ""),
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


def _moment(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False,
        input_formats=[_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL),
    )  # fmt: skip


class MemberChoiceField(forms.ModelChoiceField):
    """A member, by name."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class TaskForm(forms.Form):
    """A task's fields as a member edits them; the assignee among the organisation's
    members (a scoped query: dropdowns are where data leaks)."""

    title = forms.CharField(max_length=200)
    due_at = _moment("Due")
    assignee = MemberChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody")
    priority = forms.ChoiceField(choices=Task.Priority.choices, initial=Task.Priority.NORMAL)
    reminder_at = _moment("Remind me at")
    notes = forms.CharField(
        required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = org_users()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        due, reminder = data.get("due_at"), data.get("reminder_at")
        if due and reminder and reminder > due + timedelta(days=1):
            self.add_error("reminder_at", "A reminder comes before the task is due, not after.")
        return data


def task_form_for(task: Task) -> TaskForm:
    local = timezone.localtime
    return TaskForm(
        initial={
            "title": task.title, "notes": task.notes, "priority": task.priority,
            "assignee": task.assignee_id,
            "due_at": local(task.due_at) if task.due_at else None,
            "reminder_at": local(task.reminder_at) if task.reminder_at else None,
        }
    )  # fmt: skip


# Per rule: what its number of days means, what it does, and what its title fills in.
_RULE_TEXT: dict[str, tuple[str, str, str]] = {
    FollowUpRule.Kind.NO_REPLY: (
        "Working days to wait for a reply",
        "When an email sent to a contact has had no reply after this many working days, the"
        " contact's owner (or the email's author) gets a task to follow up.",
        "{subject} becomes the email's subject, {days} the number of days.",
    ),
    FollowUpRule.Kind.AFTER_MEETING: (
        "Working days until the notes are due",
        "After a meeting with a contact or a company, whoever logged it gets a task to send"
        " the notes, due at 9:00 this many working days later.",
        "{subject} becomes the meeting's subject, {days} the number of days.",
    ),
    FollowUpRule.Kind.STALE_DEAL: (
        "Days without activity",
        "When an open deal has had no activity for this many days (no call, email or note"
        " logged on it, no move, no edit), its owner gets a task, once until someone acts.",
        "{subject} becomes the deal's title, {days} the number of days.",
    ),
}


class FollowUpRulesForm(forms.Form):
    """The organisation's follow-up rules in one form: each on or off, after how many days,
    and its task's title. A rule the product cannot check yet (stale deals) shows, disabled."""

    def __init__(self, *args: Any, rules: dict[str, FollowUpRule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low, high = followups.DAYS
        days_error = f"Give a whole number of days, from {low} to {high}."
        for kind, rule in rules.items():
            off = kind not in followups.AVAILABLE
            self.fields[f"{kind}_enabled"] = forms.BooleanField(
                label="On", required=False, initial=rule.enabled, disabled=off
            )
            self.fields[f"{kind}_days"] = forms.IntegerField(
                label=_RULE_TEXT[kind][0], min_value=low, max_value=high, initial=rule.days,
                disabled=off, widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={"invalid": days_error, "min_value": days_error,
                                "max_value": days_error, "required": days_error},
            )  # fmt: skip
            self.fields[f"{kind}_task_title"] = forms.CharField(
                label="Task title", max_length=200, initial=rule.task_title, disabled=off,
                help_text=_RULE_TEXT[kind][2],
                error_messages={"required": "Give the task a title."},
            )  # fmt: skip
        self.rules = rules

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for kind in self.rules:
            title = data.get(f"{kind}_task_title") or ""
            unknown = set(re.findall(r"\{[^{}]*\}", title)) - set(followups.PLACEHOLDERS)
            if unknown:
                self.add_error(f"{kind}_task_title", "Only {subject} and {days} are filled in.")
        return data

    def groups(self) -> list[dict[str, Any]]:
        """Per rule, for the page: its name, what it does, whether it can be turned on, and
        its fields."""
        return [
            {"label": rule.get_kind_display(), "text": _RULE_TEXT[kind][1],
             "available": kind in followups.AVAILABLE,
             "fields": [self[f"{kind}_{name}"] for name in followups.EDITABLE]}
            for kind, rule in self.rules.items()
        ]  # fmt: skip

    def values(self) -> dict[str, dict[str, Any]]:
        """{kind: {field: value}} of the rules that can be changed, for the service."""
        return {
            kind: {name: self.cleaned_data[f"{kind}_{name}"] for name in followups.EDITABLE}
            for kind in self.rules if kind in followups.AVAILABLE
        }  # fmt: skip
