"""Input for Settings → Queues, SLA policies, Business hours, Canned replies and Support.
These turn text into values (times of day, durations, dates); the services check again what
spans rows (names taken, who may work tickets)."""

import re
import zoneinfo
from datetime import date
from typing import Any, cast

from django import forms
from django.contrib.auth.base_user import BaseUserManager

from crm.models import Membership, User
from crm.permissions import ACTIONS
from crm.selectors import org_users
from support.models import BusinessCalendar, Priority, Queue, SlaPolicy

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PLACEHOLDERS = ("{{ contact.first_name }}", "{{ contact.last_name }}", "{{ ticket.number }}",
                "{{ ticket.subject }}", "{{ agent.name }}")  # fmt: skip
_CLOCK = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
# 1:30, 8:00, 90m, 2h, 1h 30m: hours and minutes of business time.
_DURATION = re.compile(
    r"^\s*(?:(\d{1,4})\s*:\s*([0-5]\d)|(?:(\d{1,4})\s*h)?\s*(?:(\d{1,6})\s*m)?)\s*$"
)
_TEXT = {"autocomplete": "off"}


def _name(label: str = "Name", help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, max_length=100, help_text=help_text,
        error_messages={"required": "Give it a name.",
                        "max_length": "Keep the name to 100 characters."},
    )  # fmt: skip


def clock(minutes: int) -> str:
    """Minutes of the day as HH:MM (1440 is 24:00, the end of the day)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def duration(minutes: int) -> str:
    """Business minutes as h:mm, as the policy form takes them."""
    return f"{minutes // 60}:{minutes % 60:02d}"


class ClockField(forms.CharField):
    """A time of day as HH:MM, to minutes from midnight; 24:00 is the end of the day."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = _TEXT | {"inputmode": "numeric", "placeholder": "09:00", "size": "5"}
        super().__init__(max_length=5, required=False, widget=forms.TextInput(attrs), **kwargs)

    def clean(self, value: Any) -> int | None:
        text = str(super().clean(value) or "")
        if not text:
            return None
        found = _CLOCK.match(text)
        hours, minutes = (int(found[1]), int(found[2])) if found else (99, 99)
        if minutes > 59 or hours * 60 + minutes > 24 * 60:
            raise forms.ValidationError("Give a time as HH:MM, such as 09:00 or 17:30.")
        return hours * 60 + minutes


class DurationField(forms.CharField):
    """Business time as hours and minutes (1:30, 8:00, 2h, 45m, 1h 30m), to minutes."""

    def __init__(self, **kwargs: Any) -> None:
        attrs = _TEXT | {"placeholder": "h:mm", "size": "7"}
        super().__init__(max_length=20, required=False, widget=forms.TextInput(attrs), **kwargs)

    def clean(self, value: Any) -> int | None:
        text = str(super().clean(value) or "").lower()
        if not text:
            return None
        found = _DURATION.match(text)
        if not found or not any(found.groups()):
            raise forms.ValidationError("Give hours and minutes, such as 1:30, 8:00, 2h or 45m.")
        hours = int(found[1] or found[3] or 0)
        minutes = int(found[2] or found[4] or 0)
        total = hours * 60 + minutes
        if total < 1:
            raise forms.ValidationError("Give at least one minute.")
        if total > 365 * 24 * 60:
            raise forms.ValidationError("Give less than a year.")
        return total


class _MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class _MembersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


def _ticket_workers() -> Any:
    """The active organisation's people who may work tickets, by name."""
    roles = ACTIONS["ticket.edit"]
    return org_users().filter(pk__in=Membership.objects.filter(role__in=roles).values("user_id"))


class QueueForm(forms.Form):
    name = _name(help_text="Such as Billing or Technical. Agents see it on every ticket.")
    email = forms.EmailField(
        label="Reply address", required=False,
        help_text="Replies to this queue's tickets go from it. Empty: the CRM's own address.",
        error_messages={"invalid": "Give an email address, such as billing@example.com."},
    )  # fmt: skip
    # Placeholders that match nothing; __init__ puts in the scoped querysets.
    lead = _MemberChoice(
        queryset=User.objects.none(), required=False, empty_label="No lead",
        help_text="Told when a ticket here misses its target, if the policy says so.",
        error_messages={"invalid_choice": "Choose a member of this organisation."},
    )  # fmt: skip
    policy = forms.ModelChoiceField(
        label="SLA policy", queryset=SlaPolicy.unscoped.none(), required=False,
        empty_label="The default policy",
        error_messages={"invalid_choice": "Choose a policy from the list."},
    )  # fmt: skip
    assignment = forms.ChoiceField(
        choices=Queue.Assignment.choices, initial=Queue.Assignment.MANUAL,
        help_text="Round robin and fewest open give new tickets to the agents below who are "
        "available; manual leaves them unassigned.",
        error_messages={"invalid_choice": "Choose how tickets are assigned."},
    )  # fmt: skip
    agents = _MembersChoice(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Members who work tickets: support agents, managers and admins.",
        error_messages={"invalid_choice": "Choose members who work tickets."},
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built from scoped managers: another organisation's people and policies are no choice.
        cast(forms.ModelChoiceField, self.fields["lead"]).queryset = org_users()
        cast(forms.ModelChoiceField, self.fields["policy"]).queryset = SlaPolicy.objects.all()
        cast(forms.ModelChoiceField, self.fields["agents"]).queryset = _ticket_workers()

    def clean_email(self) -> str:
        # The domain's case means nothing; the mailbox's may, to some servers.
        return BaseUserManager.normalize_email(str(self.cleaned_data.get("email") or "").strip())


_PERCENT = {
    key: "Give a whole percentage from 1 to 99."
    for key in ("required", "invalid", "min_value", "max_value")
}


class PolicyForm(forms.Form):
    name = _name(help_text="Such as Standard or Enterprise.")
    calendar = forms.ModelChoiceField(
        label="Business hours", queryset=BusinessCalendar.unscoped.none(), empty_label=None,
        help_text="The targets count only the time inside these hours.",
        error_messages={"required": "Choose business hours.",
                        "invalid_choice": "Choose business hours from the list."},
    )  # fmt: skip
    near_breach_percent = forms.IntegerField(
        label="Warn at (% of the target used)", min_value=1, max_value=99, initial=80,
        widget=forms.NumberInput(attrs=_TEXT | {"inputmode": "numeric"}),
        help_text="The assignee is warned when this share of a target's time is gone.",
        error_messages=_PERCENT,
    )  # fmt: skip
    notify_lead = forms.BooleanField(
        label="On a breach, tell the queue's lead", required=False, initial=True
    )
    notify_managers = forms.BooleanField(label="On a breach, tell the managers", required=False)
    raise_priority = forms.BooleanField(
        label="On a breach, raise the ticket's priority one step", required=False
    )
    reassign_to_queue = forms.BooleanField(
        label="On a breach, unassign the ticket, back to its queue", required=False
    )
    is_default = forms.BooleanField(
        label="The default policy", required=False,
        help_text="For queues that name no policy. Only one policy is the default.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        calendars = BusinessCalendar.objects.all()
        cast(forms.ModelChoiceField, self.fields["calendar"]).queryset = calendars
        for value, label in Priority.choices:
            self.fields[f"{value}_first_response"] = DurationField(
                label=f"{label}: first response within"
            )
            self.fields[f"{value}_resolution"] = DurationField(label=f"{label}: solved within")

    def target_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """(priority label, first response field, resolution field), for the table."""
        return [(label, self[f"{value}_first_response"], self[f"{value}_resolution"])
                for value, label in Priority.choices]  # fmt: skip

    def main_fields(self) -> list[forms.BoundField]:
        targets = ("_first_response", "_resolution")
        return [self[name] for name in self.fields if not name.endswith(targets)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        targets: dict[str, tuple[int, int]] = {}
        for value, label in Priority.choices:
            first = cleaned.get(f"{value}_first_response")
            resolution = cleaned.get(f"{value}_resolution")
            if f"{value}_first_response" in self.errors or f"{value}_resolution" in self.errors:
                continue
            if first is None and resolution is None:
                continue  # no target for this priority
            if first is None:
                self.add_error(f"{value}_first_response", f"Give {label.lower()}'s first response "
                               "target too, or leave both empty.")  # fmt: skip
            elif resolution is None:
                self.add_error(f"{value}_resolution", f"Give {label.lower()}'s resolution "
                               "target too, or leave both empty.")  # fmt: skip
            elif resolution < first:
                self.add_error(f"{value}_resolution", "Solving cannot be due before the first "
                               "response.")  # fmt: skip
            else:
                targets[value] = (first, resolution)
        cleaned["targets"] = targets
        return cleaned

    def values(self) -> dict[str, Any]:
        """What policy_save takes."""
        names = ("name", "calendar", "near_breach_percent", "notify_lead", "notify_managers",
                 "raise_priority", "reassign_to_queue", "is_default", "targets")  # fmt: skip
        return {name: self.cleaned_data[name] for name in names}


def policy_initial(policy: SlaPolicy) -> dict[str, Any]:
    initial: dict[str, Any] = {
        name: getattr(policy, name)
        for name in ("name", "near_breach_percent", "notify_lead", "notify_managers",
                     "raise_priority", "reassign_to_queue", "is_default")
    }  # fmt: skip
    initial["calendar"] = policy.calendar_id
    for target in policy.targets.all():
        initial[f"{target.priority}_first_response"] = duration(target.first_response_minutes)
        initial[f"{target.priority}_resolution"] = duration(target.resolution_minutes)
    return initial


def _time_zones() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class CalendarForm(forms.Form):
    """A calendar's zone, one span of hours per weekday (or closed), and its days off."""

    name = _name(help_text="Such as Office hours or 24/7.")
    zone = forms.ChoiceField(
        label="Time zone", choices=_time_zones, initial="UTC",
        error_messages={"invalid_choice": "Choose a time zone from the list.",
                        "required": "Choose a time zone."},
    )  # fmt: skip
    holidays = forms.CharField(
        label="Days off", required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "2026-12-25"}),
        help_text="One date a line, as YYYY-MM-DD: the clock stands still all that day.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, day in enumerate(WEEKDAYS):
            self.fields[f"open_{index}"] = forms.BooleanField(label="Open", required=False)
            self.fields[f"start_{index}"] = ClockField(label=f"{day} from")
            self.fields[f"end_{index}"] = ClockField(label=f"{day} until")

    def days(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        """(weekday, open box, start, end), for the week's table."""
        return [(day, self[f"open_{i}"], self[f"start_{i}"], self[f"end_{i}"])
                for i, day in enumerate(WEEKDAYS)]  # fmt: skip

    def clean_holidays(self) -> list[date]:
        found, errors = [], []
        for number, line in enumerate(str(self.cleaned_data["holidays"]).splitlines(), start=1):
            text = line.strip()
            if not text:
                continue
            try:
                found.append(date.fromisoformat(text))
            except ValueError:
                shown = text if len(text) <= 40 else text[:40] + "…"
                errors.append(f"Line {number}: “{shown}” is not a date; write it as 2026-12-25.")
        if errors:
            raise forms.ValidationError(errors)
        return sorted(set(found))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        weekly: list[list[list[int]]] = []
        for index, day in enumerate(WEEKDAYS):
            start, end = cleaned.get(f"start_{index}"), cleaned.get(f"end_{index}")
            failed = f"start_{index}" in self.errors or f"end_{index}" in self.errors
            if not cleaned.get(f"open_{index}") or failed:
                weekly.append([])
            elif start is None or end is None:
                field = f"start_{index}" if start is None else f"end_{index}"
                self.add_error(field, f"Give {day}'s opening and closing times, or untick Open.")
            elif end <= start:
                self.add_error(f"end_{index}", f"{day} closes after it opens: give a later time.")
            else:
                weekly.append([[start, end]])
        cleaned["weekly"] = weekly
        return cleaned

    def values(self) -> dict[str, Any]:
        """What calendar_save takes."""
        data = self.cleaned_data
        return {"name": data["name"], "zone": data["zone"], "weekly": data["weekly"],
                "holidays": data["holidays"]}  # fmt: skip


def calendar_initial(calendar: BusinessCalendar) -> dict[str, Any]:
    """The form's values for a calendar: each day's first span (the form edits one a day)."""
    initial: dict[str, Any] = {
        "name": calendar.name, "zone": calendar.zone,
        "holidays": "\n".join(str(day) for day in sorted(calendar.holidays or [])),
    }  # fmt: skip
    for index, spans in enumerate(calendar.weekly):
        if spans:
            first = sorted(spans)[0]
            initial |= {f"open_{index}": True, f"start_{index}": clock(first[0]),
                        f"end_{index}": clock(first[1])}  # fmt: skip
    return initial


def several_spans(calendar: BusinessCalendar) -> list[str]:
    """The weekdays with more than one span of hours, which the form shows only the first of."""
    return [WEEKDAYS[i] for i, spans in enumerate(calendar.weekly) if len(spans) > 1]


class CannedReplyForm(forms.Form):
    name = _name(help_text="What agents pick it by, such as Password reset.")
    body = forms.CharField(
        label="Reply", widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Placeholders filled in when an agent inserts it: " + ", ".join(PLACEHOLDERS),
        error_messages={"required": "Write the reply."},
    )  # fmt: skip


class SupportSettingsForm(forms.Form):
    csat_enabled = forms.BooleanField(
        label="Ask for a rating when a ticket is solved", required=False,
        help_text="The requester is asked to rate the help they had, from 1 to 5.",
    )  # fmt: skip
