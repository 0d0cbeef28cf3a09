"""Custom fields: the definitions an organisation adds to a kind, and the values kept in the
records' `custom`.

Values live in the record's `custom` JSONB under the definition's key, normalised so that
the JSONB lookups of the list filters compare like with like: numbers as integers,
decimals and dates as strings (1.5, 2025-01-31), yes/no as booleans, several choices as a
list. Deleting a definition leaves its values in `custom`; they are no longer shown.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from crm.audit import audit_record, diff
from crm.cache import org_forget, org_rows
from crm.models import Organization, User
from crm.records import registry
from crm.records.models import CustomField

Kind = CustomField.Kind
LIST_KINDS = (Kind.CHOICE, Kind.MULTI_CHOICE)
MAX_LENGTH = {Kind.TEXT: 500, Kind.LONG_TEXT: 10_000, Kind.URL: 2_000}
# A key is a JSONB key and a part of ORM lookups (custom__<key>): no "__", no capitals.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE, _FALSE = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


# Read by every list, record page and form, changed rarely: kept in the cache until the
# services changing them forget them (crm.cache.org_rows).
DEFINITIONS = "custom-fields"


def definitions(record_kind: str) -> list[CustomField]:
    """This organisation's custom fields for one kind of record, in their order."""
    rows = org_rows(
        DEFINITIONS, lambda: list(CustomField.objects.filter(record_kind=record_kind).values()),
        part=record_kind,
    )  # fmt: skip
    # The cache keeps JSON: the one date comes back as text.
    return [CustomField(**{**row, "created_at": _when(row["created_at"])}) for row in rows]


def _when(value: Any) -> Any:
    return parse_datetime(value) if isinstance(value, str) else value


def _forget_definitions() -> None:
    org_forget(DEFINITIONS)


# --- Values -------------------------------------------------------------------------------


def clean_custom(
    record_kind: str, values: dict[str, Any], *, keep: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`values` checked against the kind's definitions and normalised for storage; empty
    values are dropped. A key without a definition is refused, unless it is in `keep` (the
    values already stored) with the same value: a definition deleted meanwhile keeps its
    value. Errors are keyed "custom_<key>", the name of the field in the forms."""
    fields = {field.key: field for field in definitions(record_kind)}
    keep = keep or {}
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            if key in keep and keep[key] == value:
                cleaned[key] = value
            else:
                nouns = registry.kind(record_kind).nouns
                errors.setdefault("custom", []).append(f"“{key}” is not a custom field of {nouns}.")
            continue
        try:
            value = clean_value(field, value)
        except ValidationError as error:
            errors[f"custom_{key}"] = error.messages
            continue
        if value is not None:
            cleaned[key] = value
    for key, field in fields.items():
        if field.required and key not in cleaned and f"custom_{key}" not in errors:
            errors[f"custom_{key}"] = ["This field is required."]
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_value(field: CustomField, value: Any) -> Any:
    """One value as stored, or None when it is empty; ValidationError if it does not fit."""
    if value is None or value == "" or value == [] or value == ():
        return None
    kind = field.kind
    if kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.URL, Kind.CHOICE):
        if not isinstance(value, str):
            raise ValidationError("Enter text.")
        value = value.strip()
        if not value:
            return None
        limit = MAX_LENGTH.get(Kind(kind))
        if limit and len(value) > limit:
            raise ValidationError(f"Keep this to {limit:,} characters or fewer.")
        if kind == Kind.URL:
            URLValidator(message="Enter a web address, such as https://example.com.")(value)
        if kind == Kind.CHOICE and value not in field.choices:
            raise ValidationError(f"“{value}” is not one of the choices.")
        return value
    if kind == Kind.NUMBER:
        return _whole_number(value)
    if kind == Kind.DECIMAL:
        return decimal_text(value)
    if kind == Kind.DATE:
        return _iso_date(value)
    if kind == Kind.BOOLEAN:
        return _yes_no(value)
    if kind == Kind.MULTI_CHOICE:
        chosen = [value] if isinstance(value, str) else value
        if not isinstance(chosen, list | tuple) or not all(isinstance(c, str) for c in chosen):
            raise ValidationError("Choose from the list.")
        unknown = [c for c in chosen if c not in field.choices]
        if unknown:
            raise ValidationError(f"“{unknown[0]}” is not one of the choices.")
        return [c for c in field.choices if c in chosen] or None
    raise ValidationError(f"Unknown kind of field “{kind}”.")


# No figure people keep has more digits than this on either side of the point; a value like
# 1e400000 would also take a worker seconds to write out in full.
MAX_DIGITS = 30


def _decimal(value: Any, message: str) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(message)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(message) from None
    if not number.is_finite():
        raise ValidationError(message)
    if number and abs(number.adjusted()) >= MAX_DIGITS:
        raise ValidationError(f"Enter a number with fewer than {MAX_DIGITS} digits.")
    return number


# A whole number is one PostgreSQL's bigint holds, as sorting and filtering read it.
WHOLE_MIN, WHOLE_MAX = -(2**63), 2**63 - 1


def _whole_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**MAX_DIGITS:
            raise ValidationError(f"Enter a number with fewer than {MAX_DIGITS} digits.")
        number = value
    else:
        found = _decimal(value, "Enter a whole number.")
        if found != found.to_integral_value():
            raise ValidationError("Enter a whole number.")
        number = int(found)
    if not WHOLE_MIN <= number <= WHOLE_MAX:
        raise ValidationError(f"Enter a whole number between {WHOLE_MIN:,} and {WHOLE_MAX:,}.")
    return number


def decimal_text(value: Any) -> str:
    """A decimal as stored and compared: 1.50 and 1.5 are both "1.5", 1E+1 is "10"."""
    return f"{_decimal(value, 'Enter a number.').normalize():f}"


def _iso_date(value: Any) -> str:
    if isinstance(value, date):  # a datetime too: its day
        return (value.date() if hasattr(value, "date") else value).isoformat()
    text = str(value).strip()
    try:
        if not _ISO_DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationError("Enter a date as yyyy-mm-dd.") from None


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValidationError("Enter yes or no.")


def display(field: CustomField, value: Any) -> str:
    """A stored value as people read it (a value that no longer fits its kind, as is)."""
    if value is None or value == "" or value == []:
        return ""
    if field.kind == Kind.BOOLEAN and isinstance(value, bool):
        return "Yes" if value else "No"
    if field.kind == Kind.DATE and isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value).strftime("%-d %b %Y")
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def export_cells(fields: list[CustomField], record: Any) -> list[str]:
    """A record's custom values for an export row: dates ISO, yes/no, lists with "; "."""
    cells = []
    for field in fields:
        value = record.custom.get(field.key)
        if isinstance(value, bool):
            cells.append("Yes" if value else "No")
        elif isinstance(value, list):
            cells.append("; ".join(str(item) for item in value))
        else:
            cells.append("" if value is None else str(value))
    return cells


# --- Definitions ----------------------------------------------------------------------------


def _clean_definition(field: CustomField, choices: list[str]) -> None:
    errors: dict[str, str] = {}
    if not KEY_PATTERN.match(field.key):
        errors["key"] = (
            "Use lower-case letters, digits and single underscores, starting with a letter."
        )
    elif (
        CustomField.objects.filter(record_kind=field.record_kind, key=field.key)
        .exclude(pk=field.pk)
        .exists()
    ):
        errors["key"] = f"Another field of {registry.kind(field.record_kind).nouns} has this key."
    if field.kind in LIST_KINDS:
        field.choices = list(dict.fromkeys(c.strip() for c in choices if c.strip()))
        if not field.choices:
            errors["choices"] = "Give the choices, one per line."
        elif any(len(c) > 100 for c in field.choices):
            errors["choices"] = "Keep each choice to 100 characters or fewer."
    else:
        field.choices = []
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def custom_field_save(
    *, org: Organization, by: User | None, field: CustomField | None = None, record_kind: str,
    key: str, label: str, kind: str, choices: list[str], required: bool = False,
    position: int = 0,
) -> CustomField:  # fmt: skip
    """Add or change a custom field. Its kind and key never change: values live under it."""
    registry.validate_kind(record_kind)
    key = key.strip() or slugify(label).replace("-", "_")[:50]
    if field is not None and (key != field.key or record_kind != field.record_kind):
        raise ValidationError({"key": "The key cannot change: the values are stored under it."})
    before = {} if field is None else {
        "label": field.label, "kind": field.kind, "choices": field.choices,
        "required": field.required, "position": field.position,
    }  # fmt: skip
    field = field or CustomField(org=org, record_kind=record_kind, key=key)
    field.label, field.kind, field.required, field.position = (
        label.strip(),
        kind,
        required,
        position,
    )
    _clean_definition(field, choices)
    field.full_clean(exclude=["org"], validate_constraints=False)
    created = field.pk is None
    field.save()
    _forget_definitions()
    after = {
        name: getattr(field, name) for name in ("label", "kind", "choices", "required", "position")
    }
    changes = diff(before, after)
    if created:
        audit_record(
            org=org, actor=by, action="custom_field.created", target=field, changes=changes
        )
    elif changes:
        audit_record(
            org=org, actor=by, action="custom_field.updated", target=field, changes=changes
        )
    return field


@transaction.atomic
def custom_field_delete(*, org: Organization, field: CustomField, by: User | None) -> None:
    """Delete a definition. Its values stay in the records' `custom`, no longer shown."""
    audit_record(
        org=org, actor=by, action="custom_field.deleted", target=field,
        changes={"key": [field.key, None], "record_kind": [field.record_kind, None]},
    )  # fmt: skip
    field.delete()
    _forget_definitions()
