"""Who may do what: the role table of ARCHITECTURE.md, in one place for views and templates.

can(membership, "deal.edit", deal)     in Python
{% if perms_for.deal.edit %}           in templates (a button hidden is not a check:
                                       the view calls can() again)

The platform's own actions are below; each app registers those of its records, and any
rule that also depends on the object (a rep edits only their own deals), from its
AppConfig.ready() with register_actions and register_rule.
"""

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from crm.models import Membership, Role

ADMINS = frozenset({Role.OWNER, Role.ADMIN})
CRM_WRITERS = ADMINS | {Role.MANAGER}
ALL_ROLES = frozenset(Role)

# action -> roles allowed; a role missing from an action's set is refused it. These are the
# platform's; the apps add theirs (register_actions).
ACTIONS: dict[str, frozenset[Role]] = {
    # the organisation itself
    "org.manage": ADMINS,  # profile, members, roles, teams, visibility, security
    "audit.view": ADMINS,
    "settings.configure": ADMINS,  # pipelines, queues, SLA policies, custom fields
    # the records of every kind
    "import.run": CRM_WRITERS | {Role.REP},
    "import.view_all": CRM_WRITERS,  # others' imports and their reports
    "export.run": CRM_WRITERS | {Role.REP, Role.AGENT, Role.VIEWER},
    "records.export_many": CRM_WRITERS,  # an export of more than one page of a list
    "records.bulk_delete": CRM_WRITERS,  # move many records to the Trash at once
    # a saved view everyone in the organisation sees: viewers keep theirs to themselves
    "saved_view.share": ALL_ROLES - {Role.VIEWER},
    # reading across the organisation
    "dashboard.view_all": CRM_WRITERS | {Role.VIEWER},
}

# Actions an organisation may give to more roles, or fewer, than by default (Settings →
# Permissions), with what the page calls them: those that can undo much at once, or take
# much away. Owners and admins always keep them.
CONFIGURABLE: dict[str, str] = {
    "records.bulk_delete": "Move many records to the Trash at once",
    "records.export_many": "Export more than one page of a list",
}

# rule(membership, obj) -> allowed, for an action whose answer also depends on the object.
Rule = Callable[[Membership, Any], bool]
_RULES: dict[str, Rule] = {}


def register_actions(actions: Mapping[str, frozenset[Role]]) -> None:
    """Add an app's actions to the role table; an action registered differently is an error."""
    for action, roles in actions.items():
        if ACTIONS.get(action, roles) != roles:
            raise ValueError(f"The action {action!r} is already registered with other roles.")
        ACTIONS[action] = frozenset(roles)


def register_configurable(actions: Mapping[str, str]) -> None:
    """Let organisations choose which roles may do these registered actions, by label."""
    for action, label in actions.items():
        if action not in ACTIONS:
            raise KeyError(f"Register the action {action!r} before making it configurable.")
        CONFIGURABLE[action] = label


def roles_for(membership: Membership, action: str) -> frozenset[Role]:
    """The roles that may do `action` in the member's organisation: its own choice for a
    configurable action (owners and admins always among them), or the default."""
    if action in CONFIGURABLE:
        chosen = membership.org.role_permissions.get(action)
        if chosen is not None:
            return ADMINS | frozenset(Role(role) for role in chosen if role in Role.values)
    return ACTIONS[action]


def register_rule(action: str, rule: Rule) -> None:
    """Also ask `rule(membership, obj)` when an object is given: "deal.edit" for a rep."""
    if action not in ACTIONS:
        raise KeyError(f"Register the action {action!r} before a rule for it.")
    _RULES[action] = rule


def can(membership: Membership | None, action: str, obj: Any = None) -> bool:
    """May this member do `action` (on `obj`, when the rule depends on it)?"""
    if membership is None:
        return False
    if action not in ACTIONS:
        raise KeyError(
            f"Unknown action {action!r}: register it (crm.permissions.register_actions)."
        )
    if membership.role not in roles_for(membership, action):
        return False
    rule = _RULES.get(action)
    return rule(membership, obj) if rule and obj is not None else True


def org_member(
    action: str | None = None,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """View decorator: 403 unless the request's member may do `action` (any member if None).

    The middleware has already answered 404 to anyone who is not a member.
    """

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = getattr(request, "membership", None)
            if membership is None:
                raise PermissionDenied
            if action is not None and not can(membership, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class _ActionsOf:
    """perms_for.deal.edit in a template: can(membership, "deal.edit")."""

    def __init__(self, membership: Membership | None, noun: str) -> None:
        self.membership, self.noun = membership, noun

    def __getattr__(self, verb: str) -> bool:
        action = f"{self.noun}.{verb}"
        return action in ACTIONS and can(self.membership, action)


class PermsFor:
    def __init__(self, membership: Membership | None) -> None:
        self.membership = membership

    def __getattr__(self, noun: str) -> _ActionsOf:
        return _ActionsOf(self.membership, noun)
