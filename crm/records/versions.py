"""Two tabs, one record: a save over a change made meanwhile is refused, not silent.

An edit form carries the version of the record it was opened on (its `updated_at`, which
every write moves on). The service locks the row and compares: a record changed since, or
moved to the Trash since, refuses the save with a message that says who and when, and the
form comes back with the member's input and the current version, to check and save again.
"""

from typing import Any, NoReturn

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format

from crm.selectors import object_history


def version_of(record: Any) -> str:
    """The version a form carries: when the record last changed, to the microsecond."""
    changed = getattr(record, "updated_at", None)
    return changed.isoformat() if changed else ""


def check_version(record: models.Model, expected: str | None, noun: str) -> None:
    """Lock the record's row; ValidationError if it changed or went to the Trash since the
    form showed `expected`. None: the caller does not track versions (an import, a bulk
    action) or "" (a create), and nothing is checked."""
    if not expected:
        return
    row = (
        type(record)._default_manager.select_for_update()
        .filter(pk=record.pk).values("updated_at", "deleted_at").first()
    )  # fmt: skip
    if row is None or row["deleted_at"] is not None:
        _refuse(
            f"This {noun} was moved to the Trash since you opened this form: nothing was saved.",
            "deleted",
        )
    if row["updated_at"].isoformat() != expected:
        _refuse(
            f"{_who_and_when(record)} since you opened this form, so nothing was saved. Your "
            f"changes are still below: compare them with the {noun} as it is now, then save "
            "again.",
            "changed",
        )


def _refuse(message: str, code: str) -> NoReturn:
    raise ValidationError({NON_FIELD_ERRORS: [ValidationError(message, code=code)]})


def _who_and_when(record: models.Model) -> str:
    found = object_history(record, limit=1)
    if not found:
        return "Someone else changed it"
    last = found[0]
    who = last.actor.display_name if last.actor else "An import or a background job"
    when = date_format(timezone.localtime(last.at), "H:i")
    return f"{who} changed it at {when}"


def renew(form: Any, record: models.Model) -> None:
    """After a refused save, let the form carry the record's current version: the member's
    input stays, and saving again, once checked, goes through."""
    manager = type(record)._default_manager
    changed = manager.filter(pk=record.pk).values_list("updated_at", flat=True).first()
    form.data = form.data.copy()
    form.data[form.add_prefix("version")] = changed.isoformat() if changed else ""
