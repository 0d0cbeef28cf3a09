"""History and the audit log in words: what was done ("Moved to the Trash", "Merged 2
contacts into this one"), and each change as its field's label with its values before
and after, formatted, instead of action codes and Python reprs."""

from datetime import date, datetime
from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.text import capfirst

from crm.audit import VERBS
from crm.models import AuditEvent
from crm.records import registry
from crm.records.custom_fields import definitions

register = template.Library()

# Kept for the record, but nothing a person reads in a History.
_UNSHOWN = {"search_text", "search_vector", "updated_at", "merged", "merged_into", "import",
            "format", "rows", "ids"}  # fmt: skip
# What a change that is no model field is called.
_LABELS = {"query": "Search and filters", "count": "How many", "value": "Value"}


@register.simple_tag
def event_summary(event: AuditEvent) -> str:
    """What the event did, as a person says it."""
    noun_kind, _, verb = event.action.rpartition(".")
    changes = event.changes or {}
    kind = _kind(noun_kind)
    if verb == "merged" and kind is not None:
        merged = _after(changes.get("merged")) or []
        count = len(merged) if isinstance(merged, list) else 1
        return f"Merged {count} {kind.noun_for(count)} into this one"
    if verb == "merged_into":
        return "Merged into another record"
    if verb == "exported" and kind is not None:
        rows = _after(changes.get("rows")) or 0
        how = str(_after(changes.get("format")) or "").upper()
        return f"Exported {rows:,} {kind.noun_for(int(rows))}" + (f" as {how}" if how else "")
    if verb.startswith("bulk_") and kind is not None:
        count = int(_after(changes.get("count")) or 0)
        label = next((a.label for a in kind.bulk_actions if a.key == verb[5:]), verb[5:])
        return f"{label}: {count:,} {kind.noun_for(count)} at once"
    if verb in ("created", "updated") and "import" in changes:
        return f"{VERBS[verb]} by importing {_after(changes['import'])}"
    return VERBS.get(verb) or capfirst(event.action.replace(".", " ").replace("_", " "))


@register.simple_tag
def event_changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field label, before, after) for each change a person reads, values formatted."""
    model = _model(event.object_type)
    found = []
    for name, values in (event.changes or {}).items():
        if name in _UNSHOWN or not isinstance(values, list | tuple) or len(values) != 2:
            continue
        before, after = values
        if name == "custom" and isinstance(after, dict):
            old = before if isinstance(before, dict) else {}
            for key in sorted(set(old) | set(after)):
                if old.get(key) != after.get(key):
                    found.append((_custom_label(event, key), _shown(old.get(key)),
                                  _shown(after.get(key))))  # fmt: skip
            continue
        found.append((_label(model, name), _shown(before), _shown(after)))
    return found


def _after(values: Any) -> Any:
    return values[1] if isinstance(values, list | tuple) and len(values) == 2 else None


def _kind(key: str) -> registry.Kind | None:
    try:
        return registry.kind(key)
    except registry.UnknownKind:
        return None


def _model(label: str) -> Any:
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def _label(model: Any, name: str) -> str:
    if name in _LABELS:
        return _LABELS[name]
    attribute = name.removesuffix("_id")
    if model is not None:
        try:
            return capfirst(str(model._meta.get_field(attribute).verbose_name))
        except FieldDoesNotExist:
            pass
    return capfirst(attribute.replace("_", " "))


def _custom_label(event: AuditEvent, key: str) -> str:
    kind = _kind(event.action.rpartition(".")[0])
    fields = {f.key: f for f in definitions(kind.key)} if kind and kind.custom_fields else {}
    return fields[key].label if key in fields else capfirst(key.replace("_", " "))


def _shown(value: Any) -> str:
    """A value as a person reads it: "—" for nothing, lists joined, yes and no, dates."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items())
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value else None
        if moment is not None:
            return date_format(moment, "j M Y, H:i")
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return date_format(day, "j M Y")
    if isinstance(value, datetime):
        return date_format(value, "j M Y, H:i")
    if isinstance(value, date):
        return date_format(value, "j M Y")
    return str(value)
