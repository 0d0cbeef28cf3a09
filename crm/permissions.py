"""Who may do what: the role table of ARCHITECTURE.md, in one place for views and templates.

can(membership, "deal.edit", deal)     in Python
{% if perms_for.deal.edit %}           in templates (a button hidden is not a check:
                                       the view calls can() again)
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from crm.models import Membership, Role

ADMINS = frozenset({Role.OWNER, Role.ADMIN})
CRM_WRITERS = ADMINS | {Role.MANAGER}
ALL_ROLES = frozenset(Role)

# action -> roles allowed. Actions on an owned object ("deal.edit") add an ownership rule
# below. A role missing from an action's set is refused it.
ACTIONS: dict[str, frozenset[Role]] = {
    # the organisation itself
    "org.manage": ADMINS,  # profile, members, roles, teams, visibility, security
    "audit.view": ADMINS,
    "settings.configure": ADMINS,  # pipelines, queues, SLA policies, custom fields
    # customer records
    "contact.view": ALL_ROLES,
    "contact.edit": CRM_WRITERS | {Role.REP, Role.AGENT},
    "contact.privacy": CRM_WRITERS,  # export or erase a contact's personal data
    "contact.merge": CRM_WRITERS | {Role.REP, Role.AGENT},  # and undo a merge
    "company.view": ALL_ROLES,
    "company.edit": CRM_WRITERS | {Role.REP, Role.AGENT},
    "company.merge": CRM_WRITERS | {Role.REP, Role.AGENT},
    "interaction.view": ALL_ROLES,
    "interaction.edit": CRM_WRITERS | {Role.REP, Role.AGENT},
    "task.view": ALL_ROLES,
    "task.edit": CRM_WRITERS | {Role.REP, Role.AGENT},
    # sales
    "deal.view": ALL_ROLES - {Role.AGENT},
    "deal.view_value": ALL_ROLES - {Role.AGENT},
    "deal.edit": CRM_WRITERS | {Role.REP},  # a rep: only deals they own
    # support
    "ticket.view": ALL_ROLES,
    "ticket.edit": CRM_WRITERS | {Role.AGENT},
    "canned_reply.edit": CRM_WRITERS | {Role.AGENT},
    # reading across the organisation
    "dashboard.view_all": CRM_WRITERS | {Role.VIEWER},
    "segment.edit": CRM_WRITERS | {Role.REP},
    "import.run": CRM_WRITERS | {Role.REP},
    "import.view_all": CRM_WRITERS,  # others' imports and their reports
    "export.run": CRM_WRITERS | {Role.REP, Role.AGENT, Role.VIEWER},
}


class _Owned(Protocol):
    owner_id: int | None


def can(membership: Membership | None, action: str, obj: Any = None) -> bool:
    """May this member do `action` (on `obj`, when the rule depends on who owns it)?"""
    if membership is None:
        return False
    if action not in ACTIONS:
        raise KeyError(f"Unknown action {action!r}: add it to crm.permissions.ACTIONS.")
    if membership.role not in ACTIONS[action]:
        return False
    if action == "deal.edit" and membership.role == Role.REP and obj is not None:
        return getattr(obj, "owner_id", None) == membership.user_id
    return True


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
