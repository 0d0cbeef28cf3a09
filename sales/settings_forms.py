"""Input for Settings → Pipelines, Lost reasons and Exchange rates. The services check
again (names taken, the last open stage, the base currency); these turn text into values."""

from typing import Any

from django import forms
from django.utils import timezone

from sales import currencies
from sales.models import Stage

_WHOLE = {"autocomplete": "off", "inputmode": "numeric"}


def _name(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, max_length=100, help_text=help_text,
        error_messages={"required": "Give it a name.",
                        "max_length": "Keep the name to 100 characters."},
    )  # fmt: skip


class PipelineForm(forms.Form):
    name = _name("Name", "Such as New business or Renewals.")
    stale_days = forms.IntegerField(
        label="Stale after", min_value=1, max_value=365, initial=14,
        help_text="Days without activity before an open deal is marked stale on the board.",
        widget=forms.NumberInput(attrs=_WHOLE),
        error_messages={
            "required": "Give a whole number of days, from 1 to 365.",
            "invalid": "Give a whole number of days, from 1 to 365.",
            "min_value": "Give a whole number of days, from 1 to 365.",
            "max_value": "Give a whole number of days, from 1 to 365.",
        },
    )  # fmt: skip


class StageForm(forms.Form):
    name = _name("Name")
    probability = forms.IntegerField(
        label="Probability (%)", min_value=0, max_value=100, initial=10,
        help_text="The chance that a deal in this stage is won: the forecast weighs it by this.",
        widget=forms.NumberInput(attrs=_WHOLE),
        error_messages={
            "required": "Give a whole number from 0 to 100.",
            "invalid": "Give a whole number from 0 to 100.",
            "min_value": "Give a whole number from 0 to 100.",
            "max_value": "Give a whole number from 0 to 100.",
        },
    )  # fmt: skip
    kind = forms.ChoiceField(
        choices=Stage.Kind.choices, initial=Stage.Kind.OPEN,
        help_text="A deal moved into a won or lost stage is closed.",
        error_messages={"invalid_choice": "Choose open, won or lost."},
    )  # fmt: skip


class LostReasonForm(forms.Form):
    name = _name("Reason", "Offered when a deal is marked lost.")


class RateForm(forms.Form):
    """One rate: what one unit of `currency` is worth in the base currency, from a date."""

    currency = forms.ChoiceField(
        error_messages={"invalid_choice": "Choose a currency from the list.",
                        "required": "Choose a currency."},
    )  # fmt: skip
    rate = forms.DecimalField(
        max_digits=18, decimal_places=8,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "autocomplete": "off"}),
        error_messages={
            "required": "Give the rate as a number, such as 1.08.",
            "invalid": "Give the rate as a number, such as 1.08.",
            "max_digits": "That rate is too large: check the digits.",
            "max_decimal_places": "Give at most 8 decimal places.",
            "max_whole_digits": "That rate is too large: check the digits.",
        },
    )  # fmt: skip
    valid_from = forms.DateField(
        label="Valid from", widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the date the rate applies from.",
                        "invalid": "Give a date, such as 2026-01-31."},
    )  # fmt: skip

    def __init__(self, *args: Any, base: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [("", "—"), *(c for c in currencies.CHOICES if c[0] != base)]
        self.fields["rate"].help_text = f"1 unit of the currency is worth this many {base}."
        self.fields["valid_from"].initial = timezone.localdate

    def clean_rate(self) -> Any:
        rate = self.cleaned_data["rate"]
        if rate is not None and rate <= 0:
            raise forms.ValidationError("A rate is more than 0.")
        return rate
