"""crm.fields writes form fields in Python: the same markup as Django's widget templates,
for every widget it knows, and Django's own for the others."""

import re
from typing import Any

import django_filters
import pytest
from django import forms

from crm.fields import field_html, widget_html
from crm.models import Organization, User
from crm.tenancy import activate

GROUPED = [("", "Any"), ("Europe", [("fr", "France"), ("de", "Germany")]), ("us", "USA <&>")]


class Everything(forms.Form):
    name = forms.CharField(max_length=20, help_text="Say it")
    email = forms.EmailField(required=False)
    count = forms.IntegerField(required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, widget=forms.Textarea)
    agreed = forms.BooleanField(required=False)
    colour = forms.ChoiceField(choices=[("", "—"), ("red", "Red"), ("blue", "Blue")])
    place = forms.ChoiceField(choices=GROUPED, required=False)
    places = forms.MultipleChoiceField(choices=GROUPED, required=False)
    maybe = forms.NullBooleanField(required=False)  # NullBooleanSelect: Django's own
    several = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], required=False, widget=forms.CheckboxSelectMultiple
    )


class Filters(django_filters.FilterSet):
    created = django_filters.DateFromToRangeFilter(
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    sort = django_filters.OrderingFilter(fields=(("email", "email"),), empty_label="Default")

    class Meta:
        model = User
        fields: list[str] = []


def _same(html: str) -> str:
    """Markup without the whitespace beside tags, which Django's templates vary."""
    return re.sub(r">\s+|\s+<", lambda m: m.group(0).strip(), html).strip()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "Ada <b>", "email": "x", "count": "2", "day": "2026-01-02", "notes": "a\n<b>",
         "agreed": "on", "colour": "blue", "place": "de", "places": ["fr", "us"],
         "maybe": "true", "several": ["b"]},
        {"name": "x" * 30, "colour": "green", "place": "none"},
    ],
)  # fmt: skip
def test_every_field_reads_as_djangos_own(data: dict[str, Any]) -> None:
    form = Everything(data or None, initial={"colour": "red"})
    if data:
        form.is_valid()
    for bound in form:
        assert _same(widget_html(bound)) == _same(str(bound)), bound.name


@pytest.mark.django_db
def test_model_choices_and_filter_widgets_read_as_djangos_own(acme: Organization, alice) -> None:
    class Owner(forms.Form):
        owner = forms.ModelChoiceField(queryset=User.objects.order_by("email"), required=False)

    with activate(acme):
        for data in (None, {"owner": str(alice.pk)}):
            bound = Owner(data)["owner"]
            assert _same(widget_html(bound)) == _same(str(bound))
            assert (f'value="{alice.pk}" selected' in widget_html(bound)) is bool(data)
    for data in (None, {"created_after": "2026-01-01", "sort": "-email"}):
        form = Filters(data, queryset=User.objects.none()).form
        for bound in form:
            assert _same(widget_html(bound)) == _same(str(bound)), bound.name


def test_it_names_a_ranges_two_inputs_under_one_legend() -> None:
    html = field_html(Filters(None, queryset=User.objects.none()).form["created"])
    # A <label> could name only one of the two inputs: the pair gets a legend, each a name.
    assert html.startswith('<fieldset class="field field--range"><legend class="field__label">')
    assert re.search(r'<input type="date" name="created_after" aria-label="From"', html)
    assert re.search(r'<input type="date" name="created_before" aria-label="To"', html)
    assert "<label" not in html
