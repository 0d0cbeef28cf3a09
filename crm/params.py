"""Values a view reads from the request itself, outside a form: checked as a form's text field
checks its value, so that what PostgreSQL cannot keep never reaches a query.

    term = text_param(request.GET, "q")           # 400 for a NUL character or a huge value
    value = checked_text(raw, label="Tag")        # ValidationError, for a message in place
"""

from django.core.exceptions import BadRequest, ValidationError
from django.http import QueryDict

# Longer than anything typed into a box; a query string kept in a form field is shorter.
MAX_LENGTH = 10_000


def checked_text(value: str, *, label: str = "This value", max_length: int = MAX_LENGTH) -> str:
    """`value` when a text column could keep it; otherwise ValidationError saying why."""
    if "\x00" in value:
        raise ValidationError(
            f"{label} contains a null character, which cannot be kept.", code="null_character"
        )
    if len(value) > max_length:
        raise ValidationError(
            f"{label} is too long (at most {max_length:,} characters).", code="too_long"
        )
    return value


def text_param(
    data: QueryDict, name: str, default: str = "", *, max_length: int = MAX_LENGTH
) -> str:
    """data[name] (or `default`), checked; a value no form would take answers 400."""
    return _param(name, data.get(name, default), max_length)


def text_params(data: QueryDict, name: str, *, max_length: int = MAX_LENGTH) -> list[str]:
    """Every value of data[name], each checked as text_param checks one."""
    return [_param(name, value, max_length) for value in data.getlist(name)]


def _param(name: str, value: str, max_length: int) -> str:
    try:
        return checked_text(value, max_length=max_length)
    except ValidationError as error:
        raise BadRequest(f"{name}: {error.messages[0]}") from error
