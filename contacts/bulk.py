"""Bulk actions on the contact and company lists: one set-based write and one audit event
per action, on the selected rows or on every row the list's search and filters match."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone

from contacts import selectors, services
from contacts.filters import list_rows
from contacts.models import Company, CompanyTag, Contact, ContactTag, Tag
from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.permissions import can

# As many as a search looks through: an action on all matches acts on all of them.
MAX_ROWS = selectors.SEARCH_MAX_ROWS

# action -> what the confirmation page calls it.
ACTIONS: dict[str, str] = {
    "assign_owner": "Assign owner",
    "add_tag": "Add tag",
    "remove_tag": "Remove tag",
    "change_lifecycle": "Change stage",
    "delete": "Move to the Trash",
}
# action -> the form field holding its value (the toolbar has one field per kind of value).
VALUE_FIELDS: dict[str, str] = {
    "assign_owner": "owner",
    "add_tag": "tag",
    "remove_tag": "tag",
    "change_lifecycle": "lifecycle",
}


@dataclass(frozen=True)
class _Kind:
    """What differs between the contact and the company list's bulk actions."""

    model: type[Contact] | type[Company]
    visible: Callable[[Membership], QuerySet[Any]]  # the records a member may see
    tag_link: type[ContactTag] | type[CompanyTag]
    link_field: str  # the tag link's column naming the record
    actions: tuple[str, ...]
    one: str
    many: str

    def noun(self, count: int) -> str:
        return self.one if count == 1 else self.many


KINDS: dict[str, _Kind] = {
    "contact": _Kind(
        Contact, selectors.contact_list, ContactTag, "contact_id", tuple(ACTIONS),
        "contact", "contacts",
    ),
    # Companies have no lifecycle stage.
    "company": _Kind(
        Company, selectors.company_list, CompanyTag, "company_id",
        tuple(action for action in ACTIONS if action != "change_lifecycle"),
        "company", "companies",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class BulkChoices:
    """What a list's bulk toolbar offers."""

    actions: dict[str, str]
    members: QuerySet[User]
    lifecycles: list[tuple[str, str]]


# Not a bulk write: the toolbar's way to the merge page with the selected rows.
MERGE = "merge"


def bulk_choices(kind: str, membership: Membership, members: QuerySet[User]) -> BulkChoices:
    """The toolbar's choices; `members` is the list filter's owners, read once for both."""
    actions = {action: ACTIONS[action] for action in KINDS[kind].actions}
    if can(membership, f"{kind}.merge"):
        actions[MERGE] = "Merge the selected…"
    lifecycles = list(Contact.Lifecycle.choices) if "change_lifecycle" in actions else []
    return BulkChoices(actions, members, lifecycles)


def _is_id(value: str) -> bool:
    # isdigit() alone lets "²" through, which int() refuses.
    return value.isascii() and value.isdigit()


def _clean_value(kind: str, action: str, value: str) -> str:
    if action not in KINDS[kind].actions:
        raise ValidationError(f"“{action}” is not a bulk action.")
    value = value.strip()
    if action == "assign_owner" and not (
        _is_id(value) and Membership.objects.filter(user_id=int(value)).exists()
    ):
        raise ValidationError("Choose an owner who is a member of this organisation.")
    if action in ("add_tag", "remove_tag") and not value:
        raise ValidationError("Give the name of the tag.")
    if action == "change_lifecycle" and value not in Contact.Lifecycle.values:
        raise ValidationError(f"“{value}” is not a lifecycle stage.")
    return "" if action == "delete" else value


def _targets(
    kind: str, membership: Membership, ids: list[int] | None, filters: QueryDict | None
) -> list[int]:
    """The ids of the records the member may see among `ids`, or matching `filters`."""
    noun = KINDS[kind].many
    if ids is not None:
        if not ids:
            raise ValidationError(
                f"Select at least one {KINDS[kind].one}, or choose all matching rows."
            )
        found: QuerySet[Any] = KINDS[kind].visible(membership).filter(pk__in=ids)
    else:
        # One search match more than an action may change: to know when there are too many.
        filterset, found = list_rows(kind, membership, filters, search_limit=MAX_ROWS + 1)
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError("These filters are not valid: correct them on the list first.")
        if filterset.search_capped:
            raise ValidationError(
                f"The search matches more than {MAX_ROWS:,} {noun}: narrow it or use other filters."
            )
    found = found.order_by().select_related(None).prefetch_related(None)
    targets = list(found.values_list("pk", flat=True).distinct()[: MAX_ROWS + 1])
    if len(targets) > MAX_ROWS:
        raise ValidationError(
            f"A bulk action changes at most {MAX_ROWS:,} {noun}: narrow the filters."
        )
    return targets


def records_bulk_count(
    *, kind: str, membership: Membership, ids: list[int] | None, filters: QueryDict | None,
    action: str, value: str,
) -> int:  # fmt: skip
    """How many records a bulk action would change; ValidationError if it would be refused."""
    _clean_value(kind, action, value)
    return len(_targets(kind, membership, ids, filters))


def value_label(action: str, value: str) -> str:
    """The value of a bulk action as people read it: an email, a stage's name, a tag."""
    if action == "assign_owner" and _is_id(value):
        owner = selectors.org_users().filter(pk=int(value)).first()
        return owner.email if owner else value
    if action == "change_lifecycle":
        return dict(Contact.Lifecycle.choices).get(value, value)
    return value.strip()


@transaction.atomic
def records_bulk_apply(
    *, kind: str, org: Organization, by: User | None, membership: Membership,
    ids: list[int] | None, filters: QueryDict | None, action: str, value: str,
) -> int:  # fmt: skip
    """Apply one action to the selected (or all matching) visible records; the number changed."""
    value = _clean_value(kind, action, value)
    targets = _targets(kind, membership, ids, filters)
    if not targets:
        return 0
    model = KINDS[kind].model
    rows, now = selectors.among(model.objects.all(), targets), timezone.now()
    if action == "assign_owner":
        count = rows.update(owner_id=int(value), updated_at=now)
    elif action == "change_lifecycle":
        count = rows.update(lifecycle=value, updated_at=now)
    elif action == "delete":  # records_trash's semantics, as one UPDATE
        count = rows.filter(deleted_at__isnull=True).update(deleted_at=now, updated_at=now)
    else:
        changed = (_tag_add if action == "add_tag" else _tag_remove)(kind, org, by, targets, value)
        count = (
            selectors.among(model.objects.all(), changed).update(updated_at=now) if changed else 0
        )
    audit_record(
        org=org, actor=by, action=f"{kind}.bulk_{action}",
        changes={"count": [None, count], "value": [None, value]},
    )  # fmt: skip
    return count


def _tag_add(
    kind: str, org: Organization, by: User | None, targets: list[int], name: str
) -> list[int]:
    link, field = KINDS[kind].tag_link, KINDS[kind].link_field
    (tag,) = services.tags_by_name(org=org, names=[name], by=by)
    tagged = link.objects.filter(tag=tag, **{f"{field}__in": targets})
    have = set(tagged.values_list(field, flat=True))
    new: list[Model] = [link(org=org, tag=tag, **{field: pk}) for pk in targets if pk not in have]
    link.objects.bulk_create(new, ignore_conflicts=True)  # type: ignore[arg-type]
    return [getattr(row, field) for row in new]


def _tag_remove(
    kind: str, org: Organization, by: User | None, targets: list[int], name: str
) -> list[int]:
    tag = cast(Tag | None, Tag.objects.filter(name__iexact=name).first())
    if tag is None:
        return []
    link, field = KINDS[kind].tag_link, KINDS[kind].link_field
    links = link.objects.filter(tag=tag, **{f"{field}__in": targets})
    changed = list(links.values_list(field, flat=True))
    links.delete()
    return changed
