"""The rule builder's form: a rule tree as the fields of a plain form, and back.

Each node of the tree has a path: "r" the top group, "r.0" its first rule, "r.1.2" the
third rule of its second (a group). A group posts g-<path>-match; a condition posts
c-<path>-field, c-<path>-op, c-<path>-value and c-<path>-p-<param>. The form's buttons post
`do`: "add:<group path>", "group:<group path>", "remove:<path>", "update" (read the form
again, after a field was changed without JavaScript) or "save". With htmx, a change posts
the form and the builder comes back with the operators and values of the fields chosen,
and the live count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from contacts.segments import rules
from contacts.segments.rules import CHOICE, DATE, DAYS, NONE, NUMBER, Field

MAX_NODES = 200  # what a posted form may hold, valid or not


def tree_from_post(data: QueryDict) -> dict[str, Any]:
    """The tree the form's fields describe, as typed (not yet checked)."""
    budget = [MAX_NODES]
    return _group(data, "r", budget)


def _group(data: QueryDict, path: str, budget: list[int]) -> dict[str, Any]:
    match = data.get(f"g-{path}-match", "all")
    children: list[dict[str, Any]] = []
    i = 0
    while budget[0] > 0 and path.count(".") <= rules.MAX_DEPTH:
        child = f"{path}.{i}"
        if f"g-{child}-match" in data:
            budget[0] -= 1
            children.append(_group(data, child, budget))
        elif f"c-{child}-field" in data:
            budget[0] -= 1
            children.append(_condition(data, child))
        else:
            break
        i += 1
    return {"match": match if match in ("all", "any") else "all", "rules": children}


def _condition(data: QueryDict, path: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"field": data.get(f"c-{path}-field", ""),
                            "op": data.get(f"c-{path}-op", "")}  # fmt: skip
    if data.get(f"c-{path}-was", rule["field"]) != rule["field"]:
        return rule  # the field was changed: its operator and value start afresh
    if f"c-{path}-value" in data:
        rule["value"] = data.get(f"c-{path}-value", "")
    prefix = f"c-{path}-p-"
    params = {name.removeprefix(prefix): value for name, value in data.items()
              if name.startswith(prefix) and value != ""}  # fmt: skip
    if params:
        rule["params"] = params
    return rule


def _node(tree: dict[str, Any], path: str) -> dict[str, Any] | None:
    node: Any = tree
    for part in path.split(".")[1:]:
        if not part.isdigit() or "rules" not in node or int(part) >= len(node["rules"]):
            return None
        node = node["rules"][int(part)]
    return node if isinstance(node, dict) else None


def apply(tree: dict[str, Any], action: str, known: dict[str, Field]) -> dict[str, Any]:
    """The tree after one of the form's buttons: a condition or a group added to a group,
    or a rule removed. Anything else leaves it as it is."""
    verb, _, path = action.partition(":")
    target = _node(tree, path) if path else None
    if verb in ("add", "group") and target is not None and "rules" in target:
        if len(list(rules.conditions(tree))) < rules.MAX_CONDITIONS:
            first = next(iter(known.values()))
            new = _blank(first)
            target["rules"].append(new if verb == "add" else {"match": "all", "rules": [new]})
    elif verb == "remove" and path.count(".") >= 1:
        parent = _node(tree, path.rsplit(".", 1)[0])
        index = int(path.rsplit(".", 1)[1]) if path.rsplit(".", 1)[1].isdigit() else -1
        if parent is not None and 0 <= index < len(parent.get("rules", [])):
            parent["rules"].pop(index)
    return tree


def _blank(found: Field) -> dict[str, Any]:
    op = found.op_choices()[0][0]
    return {"field": found.key, "op": op}


def _default_value(found: Field, kind: str) -> Any:
    """What a new condition's value box starts with: the first choice, one, or today."""
    if kind == CHOICE and found.choices:
        first = next(iter(found.choices()), None)
        return first[0] if first else None
    if kind == NUMBER:
        return 1
    if kind == DAYS:
        return 30
    if kind == DATE:
        return timezone.localdate().isoformat()
    return None


# --- What the template draws ------------------------------------------------------------------


@dataclass
class Node:
    path: str
    depth: int
    is_group: bool
    match: str = "all"
    chosen: Field | None = None
    rule: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    value_kind: str = NONE
    value_choices: list[tuple[str, str]] = field(default_factory=list)
    params: list[dict[str, Any]] = field(default_factory=list)
    is_end: bool = False  # after a group's rules: where its Add buttons go

    @property
    def input_type(self) -> str:
        return INPUT_TYPES.get(self.value_kind, "text")


def nodes(
    tree: dict[str, Any], known: dict[str, Field], *, check: bool, saving: bool = False
) -> list[Node]:
    """The tree's nodes in the form's order, each with what its inputs offer; with `check`,
    each condition with its own errors (an empty value's only when `saving`: a condition
    just added is no time to scold)."""
    found: list[Node] = []
    _walk(tree, "r", 0, known, check, saving, found)
    return found


def _walk(tree: dict[str, Any], path: str, depth: int, known: dict[str, Field], check: bool,
          saving: bool, found: list[Node]) -> None:  # fmt: skip
    found.append(Node(path, depth, True, match=tree.get("match", "all")))
    for i, rule in enumerate(tree.get("rules", [])):
        child = f"{path}.{i}"
        if "rules" in rule:
            _walk(rule, child, depth + 1, known, check, saving, found)
        else:
            found.append(_condition_node(rule, child, depth + 1, known, check, saving))
    found.append(Node(path, depth, True, is_end=True))


def _condition_node(rule: dict[str, Any], path: str, depth: int, known: dict[str, Field],
                    check: bool, saving: bool) -> Node:  # fmt: skip
    chosen = known.get(rule.get("field", ""))
    node = Node(path, depth, False, chosen=chosen, rule=rule)
    if chosen is None:
        node.errors = [f"Unknown field “{rule.get('field')}”: choose another."]
        return node
    if rule.get("op") not in dict(chosen.op_choices()):
        rule["op"] = chosen.op_choices()[0][0]  # the field changed: its first operator
    node.value_kind = chosen.value_kind(rule["op"])
    if node.value_kind != NONE and "value" not in rule:
        default = _default_value(chosen, node.value_kind)
        if default is not None:
            rule["value"] = default
    if node.value_kind == CHOICE and chosen.choices:
        node.value_choices = chosen.choices()
    given = rule.get("params") or {}
    for param in chosen.params:
        node.params.append({
            "key": param.key, "label": param.label, "kind": param.kind,
            "before": param.before, "after": param.after,
            "choices": param.choices() if param.choices else [],
            "value": given.get(param.key, ""), "required": param.required,
        })  # fmt: skip
    if check and (saving or rule.get("value") not in ("", None) or node.value_kind == NONE):
        try:
            rules.validate({"match": "all", "rules": [rule]}, known=known)
        except ValidationError as error:
            node.errors = list(error.messages)
    return node


def field_groups(known: dict[str, Field]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields for the builder's select, by group, in the order they were declared."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for made in known.values():
        groups.setdefault(made.group, []).append((made.key, made.label))
    return list(groups.items())


INPUT_TYPES = {NUMBER: "number", DAYS: "number", DATE: "date"}
