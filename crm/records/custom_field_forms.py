"""Forms for custom fields: their definitions, and their values in the record forms."""

from typing import Any, ClassVar

from django import forms

from crm.records import registry
from crm.records.custom_fields import KEY_PATTERN, WHOLE_MAX, WHOLE_MIN, definitions
from crm.records.models import CustomField

Kind = CustomField.Kind


def value_field(field: CustomField) -> forms.Field:
    """The form field for one definition's value, named "custom_<key>" in the forms."""
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    choices = [(choice, choice) for choice in field.choices]
    match field.kind:
        case Kind.LONG_TEXT:
            return forms.CharField(max_length=10_000, widget=forms.Textarea, **common)
        case Kind.NUMBER:
            return forms.IntegerField(min_value=WHOLE_MIN, max_value=WHOLE_MAX, **common)
        case Kind.DECIMAL:
            return forms.DecimalField(**common)
        case Kind.DATE:
            day = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            return forms.DateField(widget=day, input_formats=["%Y-%m-%d"], **common)
        case Kind.BOOLEAN:
            # Yes, no or not given: a required one must be answered (the service checks).
            return forms.NullBooleanField(**common)
        case Kind.URL:
            return forms.URLField(max_length=2_000, assume_scheme="https", **common)
        case Kind.CHOICE:
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        case Kind.MULTI_CHOICE:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
    return forms.CharField(max_length=500, **common)


class CustomValuesMixin(forms.Form):
    """Adds a field per custom field of `custom_kind`, from this organisation's definitions."""

    custom_kind: ClassVar[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_fields = definitions(self.custom_kind)
        for field in self.custom_fields:
            self.fields[f"custom_{field.key}"] = value_field(field)

    def pop_custom(self, data: dict[str, Any], record: Any) -> dict[str, Any] | None:
        """Take the custom values out of `data` (cleaned data), over the record's stored
        ones: the value of a definition deleted meanwhile is kept, and so is each one this
        form was cut without (a form for one fact). None: it has no custom field at all."""
        present = [field for field in self.custom_fields if f"custom_{field.key}" in self.fields]
        if not present:
            return None
        custom = dict(record.custom) if record is not None else {}
        for field in present:
            custom[field.key] = data.pop(f"custom_{field.key}", None)
        return custom


def _kinds_with_custom_fields() -> list[tuple[str, str]]:
    return [(kind.key, kind.label) for kind in registry.kinds() if kind.custom_fields]


class CustomFieldForm(forms.Form):
    record_kind = forms.ChoiceField(choices=_kinds_with_custom_fields, label="Add to")
    label = forms.CharField(max_length=100)
    key = forms.CharField(
        max_length=50, required=False,
        help_text="Its name in imports, exports and filters: lower-case letters, digits and "
        "underscores. Made from the label when left blank. It cannot change later, as the "
        "values are stored under it.",
    )  # fmt: skip
    kind = forms.ChoiceField(choices=CustomField.Kind.choices)
    choices = forms.CharField(
        widget=forms.Textarea, required=False,
        help_text="For “One of a list” and “Several of a list”: one choice per line.",
    )  # fmt: skip
    required = forms.BooleanField(required=False)
    position = forms.IntegerField(
        min_value=0, max_value=32_767, initial=0, help_text="Lower numbers come first."
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # values are stored under the key, for one kind of record
            self.fields["record_kind"].disabled = True
            self.fields["key"].disabled = True

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"]).strip()
        if key and not KEY_PATTERN.match(key):
            raise forms.ValidationError(
                "Use lower-case letters, digits and single underscores, starting with a letter."
            )
        return key

    def clean_choices(self) -> list[str]:
        lines = str(self.cleaned_data["choices"] or "").splitlines()
        return list(dict.fromkeys(line.strip() for line in lines if line.strip()))

    @staticmethod
    def initial_for(field: CustomField) -> dict[str, Any]:
        names = ("record_kind", "label", "key", "kind", "required", "position")
        return {name: getattr(field, name) for name in names} | {
            "choices": "\n".join(field.choices)
        }
