"""Saved views of a list: a named search, filters and columns, per person or shared."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict

from crm.audit import audit_record, diff
from crm.models import Membership, Organization, User
from crm.permissions import ADMINS, can
from crm.records import registry
from crm.records.columns import chosen_keys
from crm.records.custom_fields import definitions
from crm.records.models import SavedView

# Never saved with a view: the page is where one was, the columns are kept on their own.
_NOT_SAVED = ("page", "columns", "csrfmiddlewaretoken")


def saved_view_list(user: User, record_kind: str | None = None) -> QuerySet[SavedView]:
    """The views (of one list) that `user` may use: their own and those shared with everyone."""
    found = SavedView.objects.filter(Q(owner=user) | Q(shared=True))
    return found.filter(record_kind=record_kind) if record_kind else found


def saved_view_may_change(membership: Membership, view: SavedView) -> bool:
    return view.owner_id == membership.user_id or membership.role in ADMINS


def saved_view_query(view: SavedView) -> str:
    """The list's query string that restores the view: its filters, then its columns."""
    query = QueryDict(view.query, mutable=True)
    if view.columns:
        query["columns"] = ",".join(view.columns)
    return query.urlencode()


def _clean_query(query: str) -> str:
    params = QueryDict(query, mutable=True)
    for key in _NOT_SAVED:
        params.pop(key, None)
    return params.urlencode()


@transaction.atomic
def saved_view_save(
    *,
    org: Organization,
    by: User,
    view: SavedView | None = None,
    name: str,
    shared: bool,
    record_kind: str = "",
    query: str = "",
    columns: list[str] | None = None,
) -> SavedView:
    """Save a new view for `by`, or rename and (un)share `view`; names are unique per owner.
    Only a member who may (saved_view.share: not a viewer) shares a view."""
    name = name.strip()
    membership = Membership.objects.filter(user=by).first()
    if shared and not can(membership, "saved_view.share"):
        raise ValidationError(
            {"shared": "Viewers keep their views to themselves: a manager or admin can share one."}
        )
    if view is None:
        registry.validate_kind(record_kind)
        view = SavedView(org=org, owner=by, record_kind=record_kind, query=_clean_query(query))
        view.columns = chosen_keys(registry.kind(record_kind), columns, definitions(record_kind))
    before = {"name": view.name, "shared": view.shared}
    taken = SavedView.objects.filter(
        owner_id=view.owner_id, record_kind=view.record_kind, name__iexact=name
    )
    if taken.exclude(pk=view.pk).exists():
        raise ValidationError({"name": f"There is already a view called “{name}”."})
    created = view.pk is None
    view.name, view.shared = name, shared
    try:
        with transaction.atomic():  # a savepoint: a concurrent save of the same name
            view.save()
    except IntegrityError as error:
        raise ValidationError({"name": f"There is already a view called “{name}”."}) from error
    changes = diff({} if created else before, {"name": name, "shared": shared})
    action = "saved_view.created" if created else "saved_view.updated"
    audit_record(org=org, actor=by, action=action, target=view, changes=changes)
    return view


@transaction.atomic
def saved_view_delete(*, org: Organization, view: SavedView, by: User) -> None:
    """Delete a saved view (the records it finds are untouched)."""
    audit_record(
        org=org, actor=by, action="saved_view.deleted", target=view,
        changes={"name": [view.name, None]},
    )  # fmt: skip
    view.delete()
