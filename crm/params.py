"""Values a view reads from the request itself, outside a form: checked as a form's text field
checks its value, so that what PostgreSQL cannot keep never reaches a query.

    term = text_param(request.GET, "q")           # 400 for a NUL character or a huge value
    value = checked_text(raw, label="Tag")        # ValidationError, for a message in place
"""

from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme

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


# The most digits of an id PostgreSQL's bigint keeps (9,223,372,036,854,775,807 has 19).
_ID_DIGITS = 18


def id_param(value: str | None) -> int | None:
    """A record's id as a query or a form gives it: ASCII digits within a bigint ("²" is a
    digit to isdigit(), and a longer number fails in PostgreSQL); None for anything else."""
    value = value or ""
    if value.isascii() and value.isdigit() and len(value) <= _ID_DIGITS:
        return int(value)
    return None


def local_next(request: HttpRequest) -> str:
    """The page to go back to (?next= or a posted "next"), when it is a path of this site;
    "" otherwise: never a view's name, another host, or a scheme-relative "//host"."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if not wanted.startswith("/") or wanted.startswith("//"):
        return ""
    safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure())
    return wanted if safe else ""
