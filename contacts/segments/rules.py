"""A segment's rules: a tree of conditions over contacts, stored as JSON, checked on save and
compiled to one SQL query, user values reaching it only as parameters.

    {"match": "all", "rules": [
        {"field": "lifecycle", "op": "is", "value": "customer"},
        {"match": "any", "rules": [
            {"field": "interactions.count", "op": "gte", "value": 3,
             "params": {"days": 30, "channel": "email"}},
            {"field": "tags", "op": "has", "value": "VIP"}]}]}

A condition names a field of the registry. Contacts declare theirs here (contacts.segments.
fields); interactions, sales and support declare theirs from their AppConfig.ready(), so
that contacts imports none of them. A field is a lookup path from Contact (`path`), whose
operators its type gives, or a function that makes the condition's Q itself (`where`: the
counts of interactions, deals and tickets, as set-based subqueries). `measure` says what a
contact's value is, for "why is this contact here".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

MAX_DEPTH = 4  # groups within groups
MAX_CONDITIONS = 50
MAX_TEXT = 200

# Operators by the type of a field: (key, label, what the value is).
NONE, TEXT, NUMBER, DAYS, DATE, CHOICE = "none", "text", "number", "days", "date", "choice"
OPS: dict[str, list[tuple[str, str, str]]] = {
    "text": [("is", "is", TEXT), ("is_not", "is not", TEXT), ("contains", "contains", TEXT),
             ("not_contains", "does not contain", TEXT), ("is_empty", "is empty", NONE),
             ("is_not_empty", "is not empty", NONE)],
    "choice": [("is", "is", CHOICE), ("is_not", "is not", CHOICE),
               ("is_empty", "is empty", NONE), ("is_not_empty", "is not empty", NONE)],
    "number": [("gte", "is at least", NUMBER), ("lte", "is at most", NUMBER),
               ("eq", "is", NUMBER), ("ne", "is not", NUMBER), ("gt", "is more than", NUMBER),
               ("lt", "is less than", NUMBER), ("is_empty", "is empty", NONE),
               ("is_not_empty", "is not empty", NONE)],
    "count": [("gte", "at least", NUMBER), ("lte", "at most", NUMBER), ("eq", "exactly", NUMBER),
              ("gt", "more than", NUMBER), ("lt", "fewer than", NUMBER)],
    "date": [("in_last", "in the last … days", DAYS),
             ("not_in_last", "not in the last … days", DAYS), ("after", "after", DATE),
             ("before", "before", DATE), ("is_empty", "is empty", NONE),
             ("is_not_empty", "is not empty", NONE)],
    "bool": [("is_true", "is yes", NONE), ("is_false", "is no", NONE)],
    "set": [("has", "has", CHOICE), ("has_not", "does not have", CHOICE)],
    "presence": [("has", "has", NONE), ("has_not", "has none", NONE)],
    "segment": [("in", "is in", CHOICE), ("not_in", "is not in", CHOICE)],
    "amount": [("gte", "is at least", NUMBER), ("lte", "is at most", NUMBER),
               ("gt", "is more than", NUMBER), ("lt", "is less than", NUMBER)],
}  # fmt: skip


@dataclass(frozen=True)
class Param:
    """Something a condition takes besides its value: a number of days, a channel."""

    key: str
    label: str
    kind: str  # NUMBER or CHOICE
    choices: Callable[[], list[tuple[str, str]]] | None = None
    required: bool = False
    lowest: int = 1
    highest: int = 3650
    # The words around a number's box in the builder: "in the last [30] days".
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Field:
    key: str  # "lifecycle", "company.industry", "interactions.count"
    label: str
    group: str  # where the builder lists it: "Contact", "Company", "Interactions", …
    type: str  # a key of OPS
    path: str = ""  # a lookup from Contact, for a field kept in a column
    choices: Callable[[], list[tuple[str, str]]] | None = None
    params: tuple[Param, ...] = ()
    # (op, value, params) -> Q over contacts, for a field with no path.
    where: Callable[[str, Any, dict[str, Any]], Q] | None = None
    # params -> the contact's value as an expression, for the explanations.
    measure: Callable[[dict[str, Any]], Any] | None = None
    # The value a JSON key holds, for the custom fields: "int", "decimal", "date" or "".
    stored: str = ""
    # The least a number compared with it may be (days since, a score), when there is one.
    lowest: int | None = None

    def op_choices(self) -> list[tuple[str, str]]:
        return [(key, label) for key, label, _ in OPS[self.type]]

    def value_kind(self, op: str) -> str:
        return next((kind for key, _, kind in OPS[self.type] if key == op), NONE)


_fields: dict[str, Field] = {}
# Fields that depend on the organisation's own data (custom fields), made when asked.
_providers: list[Callable[[], list[Field]]] = []


def register(new: Field) -> None:
    _fields[new.key] = new


def register_provider(provider: Callable[[], list[Field]]) -> None:
    _providers.append(provider)


def fields() -> dict[str, Field]:
    """Every field a condition may name in the active organisation."""
    found = dict(_fields)
    for provider in _providers:
        found.update({made.key: made for made in provider()})
    return found


# --- Checking --------------------------------------------------------------------------------


def empty() -> dict[str, Any]:
    return {"match": "all", "rules": []}


def validate(tree: Any, *, known: dict[str, Field] | None = None) -> dict[str, Any]:
    """The tree checked and normalised (numbers as numbers, dates as ISO text), or a
    ValidationError whose messages name each unknown field, operator or value."""
    known = known if known is not None else fields()
    errors: list[str] = []
    count = [0]
    cleaned = _group(tree, known, errors, count, depth=0)
    if count[0] > MAX_CONDITIONS:
        errors.append(f"A segment takes at most {MAX_CONDITIONS} conditions; this has {count[0]}.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _group(
    tree: Any, known: dict[str, Field], errors: list[str], count: list[int], depth: int
) -> dict[str, Any]:
    if not isinstance(tree, dict) or not isinstance(tree.get("rules", []), list):
        errors.append('The rules must be a group: {"match": "all", "rules": [...]}.')
        return empty()
    match = tree.get("match", "all")
    if match not in ("all", "any"):
        errors.append(f"A group matches “all” or “any” of its rules, not “{match}”.")
    if depth > MAX_DEPTH:
        errors.append(f"Groups go at most {MAX_DEPTH} deep.")
        return empty()
    rules = []
    for rule in tree.get("rules", []):
        if isinstance(rule, dict) and "rules" in rule:
            rules.append(_group(rule, known, errors, count, depth + 1))
        else:
            count[0] += 1
            rules.append(_condition(rule, known, errors))
    return {"match": match if match in ("all", "any") else "all", "rules": rules}


def _condition(rule: Any, known: dict[str, Field], errors: list[str]) -> dict[str, Any]:
    if not isinstance(rule, dict):
        errors.append("A condition must name a field, an operator and a value.")
        return {}
    key = rule.get("field")
    found = known.get(key) if isinstance(key, str) else None
    if found is None:
        errors.append(f"Unknown field “{key}”.")
        return dict(rule)
    op = rule.get("op")
    if op not in {k for k, _, _ in OPS[found.type]}:
        errors.append(f"{found.label}: “{op}” is not one of its operators "
                      f"({', '.join(k for k, _, _ in OPS[found.type])}).")  # fmt: skip
        return dict(rule)
    cleaned: dict[str, Any] = {"field": key, "op": op}
    kind = found.value_kind(op)
    if kind != NONE:
        value = _value(found, kind, rule.get("value"), errors)
        cleaned["value"] = value
    params = rule.get("params") or {}
    if not isinstance(params, dict):
        errors.append(f"{found.label}: its parameters must be an object.")
        params = {}
    unknown = set(params) - {p.key for p in found.params}
    if unknown:
        errors.append(f"{found.label}: unknown parameter “{sorted(unknown)[0]}”.")
    kept = {}
    for param in found.params:
        raw = params.get(param.key)
        if raw in (None, ""):
            if param.required:
                errors.append(f"{found.label}: {param.label.lower()} is required.")
            continue
        kept[param.key] = _param(found, param, raw, errors)
    if kept:
        cleaned["params"] = kept
    return cleaned


def _value(found: Field, kind: str, value: Any, errors: list[str]) -> Any:
    label = found.label
    if kind in (NUMBER, DAYS):
        number = _number(value)
        if number is None:
            errors.append(f"{label}: “{value}” is not a number.")
            return value
        if kind == DAYS and (number != int(number) or not 1 <= number <= 36500):
            errors.append(f"{label}: the days must be a whole number from 1 to 36500.")
        if found.type == "count" and (number != int(number) or number < 0):
            errors.append(f"{label}: a count is a whole number, 0 or more.")
        elif found.lowest is not None and number < found.lowest:
            errors.append(f"{label}: “{value}” is below its least, {found.lowest}.")
        return int(number) if number == int(number) else str(number)
    if kind == DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            errors.append(f"{label}: “{value}” is not a date (YYYY-MM-DD).")
            return value
    if kind == CHOICE:
        text = str(value if value is not None else "")
        choices = dict(found.choices()) if found.choices else {}
        if text not in choices:
            shown = ", ".join(list(choices)[:8]) + ("…" if len(choices) > 8 else "")
            errors.append(f"{label}: “{text}” is not one of its values ({shown}).")
        return text
    text = str(value if value is not None else "").strip()
    if not text or len(text) > MAX_TEXT or "\x00" in text:
        errors.append(f"{label}: give a text of 1 to {MAX_TEXT} characters.")
    return text


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and abs(number) < Decimal(10) ** 15 else None


def _param(found: Field, param: Param, raw: Any, errors: list[str]) -> Any:
    if param.kind == NUMBER:
        number = _number(raw)
        if number is None or number != int(number) or not param.lowest <= number <= param.highest:
            errors.append(f"{found.label}: {param.label.lower()} must be a whole number from "
                          f"{param.lowest} to {param.highest}.")  # fmt: skip
            return raw
        return int(number)
    text = str(raw)
    if param.choices and text not in dict(param.choices()):
        errors.append(f"{found.label}: “{text}” is not a {param.label.lower()}.")
    return text


def conditions(tree: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every condition of a tree, depth first."""
    for rule in tree.get("rules", []):
        if "rules" in rule:
            yield from conditions(rule)
        else:
            yield rule


# --- Compiling -------------------------------------------------------------------------------


def compile_rules(tree: dict[str, Any], *, known: dict[str, Field] | None = None) -> Q:
    """The Q over contacts of a checked tree. An empty group matches every contact."""
    known = known if known is not None else fields()
    parts = [
        compile_rules(rule, known=known) if "rules" in rule else condition_q(rule, known)
        for rule in tree.get("rules", [])
    ]
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part if tree.get("match") == "any" else combined & part
    return combined


def condition_q(rule: dict[str, Any], known: dict[str, Field]) -> Q:
    found = known[rule["field"]]
    op, value, params = rule["op"], rule.get("value"), rule.get("params", {})
    if found.where is not None:
        return found.where(op, value, params)
    return path_q(found, op, value)


def path_q(found: Field, op: str, value: Any) -> Q:
    """A condition on a column (or a custom field's JSON key), as Django lookups: the value
    is a parameter; a negation keeps the contacts with no value (Django's exclude)."""
    path = found.path
    value = _stored(found, value)
    match op:
        case "is" | "eq":
            return Q(**{f"{path}__exact": value})
        case "is_not" | "ne":
            return ~Q(**{f"{path}__exact": value})
        case "contains":
            return Q(**{f"{path}__icontains": value})
        case "not_contains":
            return ~Q(**{f"{path}__icontains": value})
        case "gt" | "gte" | "lt" | "lte":
            return Q(**{f"{path}__{op}": value})
        case "is_empty":
            return _blank(found)
        case "is_not_empty":
            return ~_blank(found)
        case "is_true":
            return Q(**{f"{path}__exact": True})
        case "is_false":
            return ~Q(**{f"{path}__exact": True})
        case "in_last" | "not_in_last":
            since = _since(found, int(value))
            within = Q(**{f"{path}__gte": since})
            return within if op == "in_last" else ~within
        case "after":
            return Q(**{f"{path}__gt": _day_end(found, value)})
        case "before":
            return Q(**{f"{path}__lt": _day_start(found, value)})
    raise ValueError(f"No operator {op} for {found.key}")  # validate() refuses it first


def _stored(found: Field, value: Any) -> Any:
    if found.stored == "int" and value is not None:
        return int(Decimal(str(value)))
    if found.stored == "decimal" and value is not None:
        return Decimal(str(value))
    return value


def _blank(found: Field) -> Q:
    if found.path.startswith("custom__"):
        return Q(**{f"{found.path}__isnull": True}) | Q(**{f"{found.path}__exact": ""})
    if found.type in ("text", "choice"):
        return Q(**{found.path: ""})
    return Q(**{f"{found.path}__isnull": True})


def _since(found: Field, days: int) -> Any:
    if found.stored == "date":  # an ISO date in a JSON key
        return (timezone.localdate() - timedelta(days=days)).isoformat()
    return timezone.now() - timedelta(days=days)


def _midnight(day: date) -> datetime:
    """The day's first moment in the active time zone (the organisation's)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_start(found: Field, value: str) -> Any:
    if found.stored == "date":
        return value
    return _midnight(date.fromisoformat(value))


def _day_end(found: Field, value: str) -> Any:
    """ "After" a day: from the next day's midnight on."""
    if found.stored == "date":
        return value
    return _midnight(date.fromisoformat(value) + timedelta(days=1)) - timedelta(microseconds=1)


# --- Conditions on other tables, for the apps' fields ------------------------------------------


def aggregate_q(rows: QuerySet[Any], column: str, aggregate: Any, op: str, value: Any, *,
                none_is_zero: bool = True) -> Q:  # fmt: skip
    """A condition on an aggregate of a contact's rows in another table (how many
    interactions, the sum of open deals), as a semi-join on `column` (the rows' contact):
    one GROUP BY over the rows, never a subquery per contact. With `none_is_zero`, a contact
    with no rows counts as 0 (fewer than 3 interactions includes none)."""
    rows = rows.filter(**{f"{column}__isnull": False}).order_by()

    def having(lookup: str, bound: Any) -> Q:
        grouped = rows.values(column).annotate(agg=aggregate).filter(**{f"agg__{lookup}": bound})
        return Q(pk__in=grouped.values(column))

    bound = Decimal(str(value))
    nobody = Q(pk__in=[])
    if not none_is_zero:
        return having("exact" if op == "eq" else op, bound)
    match op:
        case "gte":
            return Q() if bound <= 0 else having("gte", bound)
        case "gt":
            return Q() if bound < 0 else having("gt", bound)
        case "lte":
            return nobody if bound < 0 else ~having("gt", bound)
        case "lt":
            return nobody if bound <= 0 else ~having("gte", bound)
        case "eq":
            return ~Q(pk__in=rows.values(column)) if bound == 0 else having("exact", bound)
    raise ValueError(f"No operator {op} for an aggregate")


def count_q(rows: QuerySet[Any], column: str, op: str, value: Any) -> Q:
    """How many rows a contact has. At least one (or none) is a plain semi-join, which
    PostgreSQL hashes without grouping the rows."""
    bound = Decimal(str(value))
    if (op, bound) in (("gte", 1), ("gt", 0)):
        return presence_q(rows, column, "has")
    if (op, bound) in (("lt", 1), ("lte", 0), ("eq", 0)):
        return presence_q(rows, column, "has_not")
    return aggregate_q(rows, column, Count("*"), op, value)


def presence_q(rows: QuerySet[Any], column: str, op: str) -> Q:
    """Has at least one of the rows, or none."""
    inside = Q(pk__in=rows.filter(**{f"{column}__isnull": False}).order_by().values(column))
    return inside if op == "has" else ~inside


def aggregate_measure(rows: QuerySet[Any], column: str, aggregate: Any, default: Any = 0) -> Any:
    """A contact's aggregate of `rows`, for the explanations: a subquery for one contact."""
    mine = rows.filter(**{column: OuterRef("pk")}).order_by().values(column)
    # A float, whatever the aggregate: a count and a sum of amounts coalesce alike.
    found = Subquery(mine.annotate(agg=aggregate).values("agg")[:1], output_field=FloatField())
    return Coalesce(found, default, output_field=FloatField()) if default is not None else found


# --- Explaining ------------------------------------------------------------------------------


@dataclass
class Line:
    """One condition or group of a tree, as it went for one contact."""

    depth: int
    text: str  # "Lifecycle is Customer"
    matched: bool
    value: Any = None  # the contact's value, for a condition that can say it
    is_group: bool = False
    first_failure: bool = False
    children: list[Line] = field(default_factory=list)


def describe(rule: dict[str, Any], known: dict[str, Field]) -> str:
    """A condition in words: "Interactions (last 30 days, email) at least 3"."""
    found = known.get(rule.get("field", ""))
    if found is None:
        return f"Unknown field “{rule.get('field')}”"
    op = dict((k, label) for k, label, _ in OPS[found.type]).get(rule.get("op", ""), "?")
    value = rule.get("value")
    if found.choices and value is not None and found.value_kind(rule["op"]) == CHOICE:
        value = dict(found.choices()).get(str(value), value)
    elif isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:,}"  # 10,000
    params = rule.get("params") or {}
    extra = []
    for param in found.params:
        if param.key in params:
            shown = params[param.key]
            if param.choices:
                shown = dict(param.choices()).get(str(shown), shown)
            extra.append(f"last {shown} days" if param.key == "days" else str(shown))
    name = found.label + (f" ({', '.join(extra)})" if extra else "")
    if "…" in op:
        return f"{name} {op.replace('…', str(value))}"
    return f"{name} {op}" + (f" {value}" if value is not None else "")


def explain(contact_queryset: Any, tree: dict[str, Any], *, keeps_out: bool = True) -> Line | None:
    """The tree as it went for the one contact of `contact_queryset` (filtered to it): each
    condition matched or not, with the contact's value where the field can say it, in one
    query; the first condition it fails is marked when the rules are what `keeps_out` a
    contact (not for a static segment's, which filled it once). None when there is no such
    contact."""
    known = fields()
    rules = list(conditions(tree))
    annotations: dict[str, Any] = {}
    for i, rule in enumerate(rules):
        annotations[f"m{i}"] = ExpressionWrapper(condition_q(rule, known), BooleanField())
        found = known[rule["field"]]
        if found.measure is not None:
            annotations[f"v{i}"] = found.measure(rule.get("params", {}))
        elif found.path and not found.path.endswith("__name"):
            annotations[f"v{i}"] = F(found.path)
    row = contact_queryset.annotate(**annotations).values(*annotations).first() if rules else {}
    if row is None:
        return None
    numbered = iter(range(len(rules)))
    line = _explain_group(tree, known, row, numbered, depth=0)
    if keeps_out:
        _mark_first_failure(line)
    return line


def _explain_group(
    tree: dict[str, Any], known: dict[str, Field], row: dict[str, Any], numbered: Iterator[int],
    depth: int,
) -> Line:  # fmt: skip
    children = []
    for rule in tree.get("rules", []):
        if "rules" in rule:
            children.append(_explain_group(rule, known, row, numbered, depth + 1))
        else:
            i = next(numbered)
            value = row.get(f"v{i}")
            found = known[rule["field"]]
            if found.type == "choice" and found.choices and value is not None:
                value = dict(found.choices()).get(str(value), value)  # "Customer", not "customer"
            children.append(Line(depth + 1, describe(rule, known), bool(row.get(f"m{i}")), value))
    every = tree.get("match") != "any"
    matched = all(c.matched for c in children) if every else any(c.matched for c in children)
    if not children:
        matched = True
    text = "All of these" if every else "Any of these"
    return Line(depth, text, matched, is_group=True, children=children)


def _mark_first_failure(line: Line) -> bool:
    """Mark the first condition (depth first) that keeps the contact out."""
    if line.matched:
        return False
    if not line.is_group:
        line.first_failure = True
        return True
    for child in line.children:
        if not child.matched and _mark_first_failure(child):
            return True
    line.first_failure = True
    return True


def segment_ids(tree: dict[str, Any]) -> set[int]:
    """The segments a tree's conditions name."""
    found = set()
    for rule in conditions(tree):
        if rule.get("field") == "segment" and re.fullmatch(r"\d+", str(rule.get("value", ""))):
            found.add(int(rule["value"]))
    return found
