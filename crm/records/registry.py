"""The registry of record kinds: what each kind declares, and how the platform finds it.

A record kind is a tenant model that people list, filter, search, save views of, bulk-edit,
export, and perhaps import and merge. Its app declares it once, from AppConfig.ready():

    registry.register(Kind(key="company", model=Company, noun="company", ...))

Everything the platform does with records (lists, saved views, columns, custom fields,
bulk actions, exports, imports, duplicates and merges) reads the declaration; none of it
names a kind. An unknown key raises UnknownKind: nothing falls through to another kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.urls import reverse

from crm.tenancy import owner_field_of

if TYPE_CHECKING:
    from crm.models import Membership
    from crm.records.bulk import BulkAction
    from crm.records.columns import Column
    from crm.records.duplicates import DuplicateSpec
    from crm.records.facts import Facts
    from crm.records.filters import RecordFilter
    from crm.records.imports.spec import ImportSpec
    from crm.records.merging import MergeSpec


class UnknownKind(LookupError):
    """A kind key that no app declared."""


@dataclass(frozen=True)
class Tags:
    """How a kind's records are tagged: a link model with a foreign key `tag` to the tag, and
    one to the record (`field`) whose related name is "tag_links"; and the service that
    finds tags by name, creating the missing ones: by_name(org=, names=, by=) -> [tags]."""

    link: type[models.Model]
    field: str  # e.g. "contact": the link's foreign key to the record
    by_name: Callable[..., list[Any]]

    @property
    def column(self) -> str:
        return f"{self.field}_id"

    @property
    def tag_model(self) -> type[models.Model]:
        return self.link._meta.get_field("tag").related_model  # type: ignore[return-value]

    def prefetch(self) -> models.Prefetch:
        """A record's tags for its own page: `record.tag_links.all()` with their tags. Lists
        read them otherwise, in one query for a page (crm.records.columns.prepare)."""
        return models.Prefetch(
            "tag_links", queryset=self.link._default_manager.select_related("tag")
        )


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of record, as its app declares it."""

    key: str  # "contact": what generic rows store, and the URL namespace of its lists
    model: type[models.Model]
    noun: str  # "contact"
    nouns: str  # "contacts"
    url_prefix: str  # "contacts": /o/<org>/contacts/
    # The records a member may see, with what a row of the list shows: the only way any
    # view, bulk action, export, import or merge reads rows of this kind.
    visible: Callable[[Membership], models.QuerySet[Any]]
    filterset: type[RecordFilter]
    columns: Sequence[Column]
    default_columns: tuple[str, ...]
    default_order: tuple[str, ...]
    detail_url: str  # the URL name of a record's page, taking (org_slug, pk)
    new_url: str = ""  # the URL name of the page that adds one, taking (org_slug,)
    # What an export of the list with its default columns writes, when that is more than
    # fits the screen (the list's defaults otherwise): an export is also an import's file.
    export_columns: tuple[str, ...] = ()
    empty_text: str = ""  # what the empty list says, under "No <nouns> yet"
    # The fields every row of its list reads besides its columns' (its str(), for one): with
    # them, a page loads only what it shows (crm.records.columns.fields_read).
    row_reads: tuple[str, ...] | None = None
    searchable: bool = False  # its table is registered for crm_search_ids (see search.py)
    # A field set when a record's personal data was erased: such a record is never merged,
    # paired as a duplicate or updated by an import.
    erased_field: str = ""
    custom_fields: bool = False  # its model keeps custom values in a `custom` JSON field
    tags: Tags | None = None
    bulk_actions: Sequence[BulkAction] = ()
    # Deletes these expired ids of the Trash for good, when a kind needs more than deleting
    # the rows: purge(org=, kind=, ids=) (a contact's search words, a company's contacts).
    purge: Callable[..., None] | None = None
    # The records among `found` a member may change, where that is fewer than those they
    # may see (a rep reads colleagues' deals, changes only their own): editable(membership,
    # found) -> QuerySet. Bulk actions apply to these alone.
    editable: Callable[[Membership, models.QuerySet[Any]], models.QuerySet[Any]] | None = None
    # Called after a bulk edit, a move to the Trash or a restore changed these records:
    # changed(org=, ids=), for what the kind keeps elsewhere (a contact's next step).
    changed: Callable[..., None] | None = None
    imports: ImportSpec | None = None
    merge: MergeSpec | None = None
    duplicates: DuplicateSpec | None = None
    # Its page's facts, each edited in place at <prefix>/<id>/field/<name>/ (crm.records.facts).
    facts: Facts | None = None
    # Other ways to show the kind's records besides its list, as (label, URL name taking
    # (org_slug,)): the list's header offers them beside "List" (deals' "Board").
    views: tuple[tuple[str, str], ...] = ()
    # Values a kind's own pages need besides these facts, by name.
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.key

    @property
    def label(self) -> str:
        """How lists and menus name the kind: "Contacts"."""
        return self.nouns[:1].upper() + self.nouns[1:]

    def noun_for(self, count: int) -> str:
        return self.noun if count == 1 else self.nouns

    @property
    def a_noun(self) -> str:
        """ "a contact", "an interaction"."""
        return f"{'an' if self.noun[:1].lower() in 'aeiou' else 'a'} {self.noun}"

    @property
    def owner_field(self) -> str | None:
        return owner_field_of(self.model)

    @property
    def has_trash(self) -> bool:
        """Whether deleting moves a record to the Trash (its model has `deleted_at`)."""
        return any(field.name == "deleted_at" for field in self.model._meta.concrete_fields)

    def action(self, verb: str) -> str:
        """The permission of a verb on this kind, in crm.permissions: "contact.edit"."""
        return f"{self.key}.{verb}"

    def url(self, name: str, org_slug: str, *args: Any) -> str:
        """One of the platform's pages of this kind: url("list", slug) is its list."""
        return reverse(f"{self.key}:{name}", args=[org_slug, *args])

    def detail(self, org_slug: str, pk: int) -> str:
        return reverse(self.detail_url, args=[org_slug, pk])

    def every_visible(self, membership: Membership) -> models.QuerySet[Any]:
        """The member's records of this kind, alive or not (merged, in the Trash): for a
        merged record's old address and a merge's undo."""
        return self.model._default_manager.visible_to(membership)  # type: ignore[attr-defined]


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Declare a kind (from its app's AppConfig.ready()); declaring it again is an error."""
    owner_field_of(kind.model)  # refuses a model that does not say who owns its rows
    if kind.key in _kinds and _kinds[kind.key] is not kind:
        raise ImproperlyConfigured(f"A record kind is already registered as {kind.key!r}.")
    if any(k.model is kind.model and k.key != kind.key for k in _kinds.values()):
        raise ImproperlyConfigured(f"{kind.model.__name__} is already a record kind.")
    link_field = kind.tags.link._meta.get_field(kind.tags.field) if kind.tags else None
    if kind.tags and getattr(link_field, "related_query_name", lambda: "")() != "tag_links":
        raise ImproperlyConfigured(f"{kind.tags.link.__name__}.{kind.tags.field} must have "
                                   'related_name="tag_links".')  # fmt: skip
    _kinds[kind.key] = kind
    return kind


def kind(key: str) -> Kind:
    """The kind declared as `key`; UnknownKind when no app declared it."""
    try:
        return _kinds[key]
    except KeyError:
        raise UnknownKind(f"No record kind is registered as {key!r}.") from None


def kinds() -> list[Kind]:
    """Every declared kind, in the order the apps declared them."""
    return list(_kinds.values())


def for_model(model: type[models.Model]) -> Kind:
    for found in _kinds.values():
        if found.model is model:
            return found
    raise UnknownKind(f"{model.__name__} is not a record kind.")


def validate_kind(value: str) -> None:
    """A model field's validator: the value names a declared kind."""
    if value not in _kinds:
        raise ValidationError(f"“{value}” is not a kind of record.")
