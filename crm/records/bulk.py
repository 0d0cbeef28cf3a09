"""Bulk actions on a list: what a kind declares, and how they reach the selected records (or
every record the list's search and filters match).

An action is an object: its key and label, the value it takes (a member, a tag, one of a
list of choices, or nothing), the permission it needs, and the service that applies it to
the records' ids. The platform offers the common ones; a kind may declare its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict

from crm.audit import audit_record
from crm.models import AuditEvent, Membership, Organization, User
from crm.params import checked_text
from crm.permissions import can
from crm.records import services
from crm.records.filters import list_rows
from crm.records.search import SEARCH_MAX_ROWS
from crm.records.trash import trash_restore
from crm.selectors import org_users

if TYPE_CHECKING:
    from crm.records.registry import Kind

# As many as a search looks through: an action on all matches acts on all of them.
MAX_ROWS = SEARCH_MAX_ROWS

# apply(org=, by=, kind=, ids=, value=) -> how many records changed
Apply = Callable[..., int]


@dataclass(frozen=True)
class BulkAction:
    """One thing a list can do to many records at once."""

    key: str  # "assign_owner": what the form posts
    label: str  # "Assign owner": the menu and the confirmation's title
    apply: Apply
    # The posted field holding the action's value ("" for none), what the toolbar calls it,
    # and what it takes: "member" (a member's user id), "text", or "choice" (of `choices`:
    # the pairs, or what reads them when asked, for choices that are the organisation's).
    field: str = ""
    field_label: str = ""
    value: str = "none"
    choices: Sequence[tuple[str, str]] | Callable[[], Sequence[tuple[str, str]]] = ()
    noun: str = ""  # what the value is, in messages: "tag", "lifecycle stage"
    verb: str = "edit"  # the permission it needs on the kind: kind.action(verb)
    permission: str = ""  # and a platform action it needs besides ("records.bulk_delete")
    destructive: bool = False  # the confirmation's button says so
    note: str = ""  # what the confirmation adds, after "This will change N records."
    none_yet: str = ""  # for choices that are the organisation's: what to do while there are none

    def clean(self, value: str) -> Any:
        """The value as the service takes it; ValidationError with a message otherwise."""
        value = checked_text(value, label=self.field_label or "The value").strip()
        if self.value == "member":
            if not (_is_id(value) and Membership.objects.filter(user_id=int(value)).exists()):
                raise ValidationError("Choose an owner who is a member of this organisation.")
            return int(value)
        noun = self.noun or self.field_label.lower()
        if self.value == "text" and not value:
            raise ValidationError(f"Give the name of the {noun}.")
        if self.value == "choice":
            options = dict(self.options())
            if not options and self.none_yet:
                raise ValidationError(self.none_yet)
            if value not in options:
                raise ValidationError(
                    f"“{value}” is not a {noun}." if value else f"Choose a {noun}."
                )
        return value if self.value != "none" else ""

    def options(self) -> list[tuple[str, str]]:
        """The choices, read now when they are the organisation's."""
        return list(self.choices() if callable(self.choices) else self.choices)

    def allowed(self, kind: Kind, membership: Membership) -> bool:
        """Whether the member may apply it to the kind's records."""
        return can(membership, kind.action(self.verb)) and (
            not self.permission or can(membership, self.permission)
        )

    def describe(self, value: str) -> str:
        """The value as people read it: a member's name, a choice's label, a tag."""
        if self.value == "member" and _is_id(value):
            member = org_users().filter(pk=int(value)).first()
            return member.display_name if member else value
        if self.value == "choice":
            return dict(self.options()).get(value, value)
        return value.strip()


# Not a bulk write: the toolbar's way to the merge page with the selected rows.
MERGE = "merge"


def _is_id(value: str) -> bool:
    # isdigit() alone lets "²" through, which int() refuses.
    return value.isascii() and value.isdigit()


# --- The common actions, for the kinds' declarations ---------------------------------------


def _assign_owner(*, org: Organization, by: User | None, kind: Kind, ids: list[int],
                  value: int) -> int:  # fmt: skip
    assert kind.owner_field
    return services.records_set(
        org=org, by=by, kind=kind, ids=ids, values={f"{kind.owner_field}_id": value}
    )


def _tag(remove: bool) -> Apply:
    def apply(*, org: Organization, by: User | None, kind: Kind, ids: list[int],
              value: str) -> int:  # fmt: skip
        assert kind.tags is not None
        tags = kind.tags.tag_model._default_manager
        if remove:
            tag = tags.filter(name__iexact=value).first()
            return services.records_untag(org=org, by=by, kind=kind, ids=ids, tag=tag) if tag else 0
        (tag,) = kind.tags.by_name(org=org, names=[value], by=by)
        return services.records_tag(org=org, by=by, kind=kind, ids=ids, tag=tag)

    return apply


def _trash(*, org: Organization, by: User | None, kind: Kind, ids: list[int], value: str) -> int:
    return services.records_trash(org=org, by=by, kind=kind, ids=ids)


ASSIGN_OWNER = BulkAction(
    "assign_owner", "Assign owner", _assign_owner, field="owner", field_label="Owner",
    value="member",
)  # fmt: skip
ADD_TAG = BulkAction("add_tag", "Add tag", _tag(remove=False), "tag", "Tag", "text")
REMOVE_TAG = BulkAction("remove_tag", "Remove tag", _tag(remove=True), "tag", "Tag", "text")
TRASH = BulkAction(
    "delete", "Move to the Trash", _trash, destructive=True, permission="records.bulk_delete",
    note=f"They move to the Trash, where you can restore them for {services.TRASH_DAYS} days.",
)  # fmt: skip


def set_field(key: str, label: str, field: str, field_label: str,
              choices: Sequence[tuple[str, str]], noun: str = "") -> BulkAction:  # fmt: skip
    """An action giving every record one of a field's choices: set_field("change_lifecycle",
    "Change stage", "lifecycle", "Stage", Contact.Lifecycle.choices, "lifecycle stage")."""

    def apply(*, org: Organization, by: User | None, kind: Kind, ids: list[int],
              value: str) -> int:  # fmt: skip
        return services.records_set(org=org, by=by, kind=kind, ids=ids, values={field: value})

    return BulkAction(key, label, apply, field, field_label, "choice", tuple(choices), noun)


# --- What a list offers, and doing it ------------------------------------------------------


@dataclass(frozen=True)
class BulkChoices:
    """What a list's bulk toolbar offers: the actions, and one field per value they take."""

    actions: dict[str, str]
    fields: list[dict[str, Any]]
    # Each action's value field ("" for none): the bar shows only the chosen action's.
    action_fields: dict[str, str] = field(default_factory=dict)

    @property
    def menu(self) -> list[tuple[str, str, str]]:
        """(key, label, field) for the bar's action select."""
        return [
            (key, label, self.action_fields.get(key, "")) for key, label in self.actions.items()
        ]


def bulk_choices(kind: Kind, membership: Membership, members: QuerySet[User]) -> BulkChoices:
    """The toolbar's choices; `members` is the list filter's owners, read once for both."""
    allowed = [a for a in kind.bulk_actions if a.allowed(kind, membership)]
    actions = {action.key: action.label for action in allowed}
    if kind.merge and can(membership, kind.action("merge")):
        actions[MERGE] = "Merge the selected…"
    fields: dict[str, dict[str, Any]] = {}
    for action in allowed:
        if action.field and action.field not in fields:
            choices: list[tuple[Any, str]] = (
                [(member.pk, member.display_name) for member in members]
                if action.value == "member" else action.options()
            )  # fmt: skip
            fields[action.field] = {
                "name": action.field, "label": action.field_label,
                "choices": choices if action.value != "text" else None,
                # The empty select says there is nothing to choose yet, and its action why.
                "empty": action.field_label if choices
                else f"No {action.noun or action.field_label.lower()} yet",
            }  # fmt: skip
    action_fields = {action.key: action.field for action in allowed}
    return BulkChoices(actions, list(fields.values()), action_fields)


def bulk_action(kind: Kind, key: str) -> BulkAction:
    for action in kind.bulk_actions:
        if action.key == key:
            return action
    raise ValidationError(f"“{key}” is not a bulk action.")


def _targets(
    kind: Kind, membership: Membership, ids: list[int] | None, filters: QueryDict | None
) -> list[int]:
    """The ids of the records the member may see (and change) among `ids`, or matching
    `filters`."""
    if ids is not None:
        if not ids:
            raise ValidationError(f"Select at least one {kind.noun}, or choose all matching rows.")
        found: QuerySet[Any] = kind.visible(membership).filter(pk__in=ids)
    else:
        # One search match more than an action may change: to know when there are too many.
        filterset, found = list_rows(kind, membership, filters, search_limit=MAX_ROWS + 1)
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError("These filters are not valid: correct them on the list first.")
        if filterset.search_capped:
            raise ValidationError(
                f"The search matches more than {MAX_ROWS:,} {kind.nouns}: narrow it or use "
                "other filters."
            )
    if kind.editable is not None:  # those the member may see but not change are left alone
        found = kind.editable(membership, found)
    found = found.order_by().select_related(None).prefetch_related(None)
    targets = sorted(found.values_list("pk", flat=True).distinct()[: MAX_ROWS + 1])
    if len(targets) > MAX_ROWS:
        raise ValidationError(
            f"A bulk action changes at most {MAX_ROWS:,} {kind.nouns}: narrow the filters."
        )
    return targets


def records_bulk_count(
    *, kind: Kind, membership: Membership, ids: list[int] | None, filters: QueryDict | None,
    action: str, value: str,
) -> int:  # fmt: skip
    """How many records a bulk action would change; ValidationError if it would be refused."""
    bulk_action(kind, action).clean(value)
    return len(_targets(kind, membership, ids, filters))


@dataclass(frozen=True)
class Applied:
    """What a bulk action did: how many records changed, and its event in the audit log
    (which names them all; None when there was nothing to change)."""

    count: int
    event: AuditEvent | None = None


@transaction.atomic
def records_bulk_apply(
    *, kind: Kind, org: Organization, by: User | None, membership: Membership,
    ids: list[int] | None, filters: QueryDict | None, action: str, value: str,
) -> Applied:  # fmt: skip
    """Apply one action to the selected (or all matching) visible records.

    Each changed record gets its own History event from the action's service; the log also
    keeps one event for the action as a whole, with the ids it was applied to."""
    chosen = bulk_action(kind, action)
    cleaned = chosen.clean(value)
    targets = _targets(kind, membership, ids, filters)
    if not targets:
        return Applied(0)
    count = chosen.apply(org=org, by=by, kind=kind, ids=targets, value=cleaned)
    event = audit_record(
        org=org, actor=by, action=f"{kind.key}.bulk_{action}",
        changes={"count": [None, count], "value": [None, value.strip()], "ids": [None, targets]},
    )  # fmt: skip
    return Applied(count, event)


def bulk_delete_undo(
    *, kind: Kind, org: Organization, by: User, membership: Membership, event: AuditEvent
) -> int:
    """Restore from the Trash what one bulk delete of `by` moved there (those of its records
    still there, that they may still see); how many. ValidationError for another event."""
    if event.action != f"{kind.key}.bulk_{TRASH.key}" or event.actor_id != by.pk:
        raise ValidationError("Only your own bulk delete can be undone from here.")
    ids = [int(pk) for pk in (event.changes.get("ids") or [None, []])[1]]
    return trash_restore(org=org, by=by, kind=kind, membership=membership, ids=ids)
