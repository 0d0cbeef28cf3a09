"""A list's filters and rows: the FilterSet every kind's own extends, and the one way pages,
exports and bulk actions read a list."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, cast

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django.forms import BoundField
from django.forms.models import ModelChoiceIterator
from django.http import QueryDict

from crm.models import User
from crm.paging import COUNT_CAP, BoundedPage, bounded_page
from crm.records.columns import fields_read, prepare
from crm.records.custom_fields import decimal_text, definitions
from crm.records.models import CustomField
from crm.records.search import SEARCH_MAX_ROWS, among, search_ids
from crm.selectors import org_users

if TYPE_CHECKING:
    from crm.records.registry import Kind

DATE = django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
FieldKind = CustomField.Kind
DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _custom_filters(fields: list[CustomField]) -> dict[str, django_filters.Filter]:
    """A filter per custom field, named "custom_<key>", on the JSONB value custom -> key."""
    found: dict[str, django_filters.Filter] = {}
    for field in fields:
        at, label = f"custom__{field.key}", field.label
        choices = [(choice, choice) for choice in field.choices]
        match field.kind:
            case FieldKind.NUMBER:
                new: django_filters.Filter = django_filters.NumberFilter(
                    field_name=at, label=label, method=_whole
                )
            case FieldKind.DECIMAL:
                new = django_filters.NumberFilter(field_name=at, label=label, method=_decimal)
            case FieldKind.DATE:
                new = django_filters.DateFilter(
                    field_name=at, label=label, method=_date, widget=DAY
                )
            case FieldKind.BOOLEAN:
                new = django_filters.BooleanFilter(field_name=at, label=label)
            case FieldKind.CHOICE:
                new = django_filters.ChoiceFilter(field_name=at, label=label, choices=choices)
            case FieldKind.MULTI_CHOICE:
                new = django_filters.ChoiceFilter(
                    field_name=at, label=label, choices=choices, method=_includes
                )
            case _:  # text, long text, web address
                new = django_filters.CharFilter(field_name=at, label=label, lookup_expr="icontains")
        found[f"custom_{field.key}"] = new
    return found


# Stored normalised by crm.records.custom_fields: compared in the same form. The lookup is
# always written out, so that a key named like a lookup ("contains") stays a key.
def _whole(queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
    return (
        queryset.filter(**{f"{name}__exact": int(value)})
        if value == int(value)
        else queryset.none()
    )


def _decimal(queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
    return queryset.filter(**{f"{name}__exact": decimal_text(value)})


def _date(queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
    return queryset.filter(**{f"{name}__exact": value.isoformat()})


def _includes(queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
    return queryset.filter(**{f"{name}__contains": [value]})


class _SharedChoices(ModelChoiceIterator):
    """Choices read from the field's queryset itself, in one plain query: once it is
    evaluated, other parts of the page (the bulk toolbar's owners) share it. (Django's
    iterator() opens a server-side cursor: three round trips for a few dozen rows.)"""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _ChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _SharedChoices


class ModelFilter(django_filters.ModelChoiceFilter):
    """A choice of one of the organisation's rows (an owner, a tag, a pipeline), its choices
    read in one plain query (_SharedChoices)."""

    field_class = _ChoiceField


class _FilterForm(forms.Form):
    """A list's filter form, given the fields its filters made for this page: Django's
    Form would deep-copy them first (every widget and choice), and they are already this
    form's own."""

    def __init__(self, data: Any, *, prefix: str | None, fields: dict[str, Any]) -> None:
        super().__init__(data, prefix=prefix)
        self.fields = fields


class RecordFilter(django_filters.FilterSet):
    """The filters every list has, where its kind has what they filter: search, owner, tag,
    creation date, and one per custom field. A kind's FilterSet adds its own."""

    q = django_filters.CharFilter(method="filter_search", label="Search")
    owner = ModelFilter(queryset=User.objects.none(), label="Owner", empty_label="Anyone")
    tag = ModelFilter(
        queryset=User.objects.none(), method="filter_tag", label="Tag", empty_label="Any tag"
    )
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at", label="Created", widget=DATE
    )

    # Shown above the list; the others fold into "More filters".
    primary: ClassVar[tuple[str, ...]] = ("q", "owner", "tag", "sort")

    def __init__(
        self, data: Any = None, queryset: QuerySet[Any] | None = None, *, kind: Kind,
        search_limit: int = COUNT_CAP + 1, membership: Any = None,
    ) -> None:  # fmt: skip
        # django-filter's own __init__, but for the copy of the filters: it deep-copies every
        # filter on every page (a tenth of a list's CPU), where a copy with its own `extra`
        # does, as nothing changes them deeper than their attributes and `extra`.
        assert queryset is not None
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = None
        self.form_prefix = None
        self.filters = {name: _copy(found) for name, found in self.base_filters.items()}
        for found in self.filters.values():
            found.model, found.parent = queryset.model, self
        self.kind = kind
        self.membership = membership  # whose list: a kind may hide filters from some roles
        # Choices from the scoped managers: this organisation's people and tags only.
        if kind.owner_field:
            self.filters["owner"].field_name = kind.owner_field
            self.filters["owner"].queryset = org_users()
        else:
            del self.filters["owner"]
        if kind.tags:
            self.filters["tag"].queryset = kind.tags.tag_model._default_manager.all()
        else:
            del self.filters["tag"]
        if not kind.searchable:
            del self.filters["q"]
        if not _has_field(kind.model, "created_at"):
            del self.filters["created"]
        # This organisation's custom fields, each a filter folded into "More filters"; read
        # once, the list's columns take them from here.
        self.custom_fields = definitions(kind.key) if kind.custom_fields else []
        self.filters.update(_custom_filters(self.custom_fields))
        # A list page takes COUNT_CAP + 1 search matches; bulk actions and exports take more.
        self.search_limit = search_limit
        self.search_capped = False
        # How many ids a search found: the rows are among them (None when nobody searched).
        self.search_matches: int | None = None

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            fields = {name: found.field for name, found in self.filters.items()}
            data = self.data if self.is_bound else None
            self._form = _FilterForm(data, prefix=self.form_prefix, fields=fields)
        return self._form

    def owners(self) -> QuerySet[User]:
        """The owner filter's choices: the organisation's people, read once per page."""
        field = self.form.fields.get("owner")
        if not isinstance(field, forms.ModelChoiceField):
            return org_users()
        return cast(QuerySet[User], field.queryset)

    def panel_fields(self) -> list[BoundField]:
        """The fields of the Filter panel: every filter but the search, which sits in the
        toolbar; the kind's primary ones first."""
        names = [name for name in self.form.fields if name != "q"]
        names.sort(key=lambda name: name not in self.primary)
        return [self.form[name] for name in names]

    def active(self) -> list[ActiveFilter]:
        """The filters in use (the search and the sort aside), each as a removable chip:
        its label, its value as people read it, and the list's query without it."""
        if not self.is_bound:
            return []
        valid = self.form.is_valid()
        found = []
        for name, field in self.form.fields.items():
            keys = [k for k in self.data if k == name or k.startswith(f"{name}_")]
            if name in ("q", "sort") or not any(self.data.get(k) for k in keys):
                continue
            value = self.form.cleaned_data.get(name) if valid else None
            text = _readable(field, value) if valid else ", ".join(
                str(self.data.get(k)) for k in keys if self.data.get(k)
            )  # fmt: skip
            if not text:
                continue
            rest = self.data.copy()
            for key in [*keys, "page"]:
                rest.pop(key, None)
            found.append(ActiveFilter(str(field.label or name), text, rest.urlencode()))
        return found

    def _in_use(self, names: list[str]) -> bool:
        return any(
            value for key, value in (self.data or {}).items()
            if any(key == name or key.startswith(f"{name}_") for name in names)
        )  # fmt: skip

    def narrows(self) -> bool:
        """Whether a search or filter is set: sorting, paging or columns alone narrow nothing."""
        return self._in_use([name for name in self.filters if name != "sort"])

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        ids = search_ids(queryset.model, value, limit=self.search_limit)
        if ids is None:
            return queryset
        # As many matches as the limit: there may be more, so the rows are only a sample.
        self.search_capped = len(ids) >= self.search_limit
        self.search_matches = len(ids)
        return among(queryset, ids)

    def filter_tag(self, queryset: QuerySet[Any], name: str, value: Model) -> QuerySet[Any]:
        return queryset.filter(tag_links__tag=value)


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    value: str
    remove: str  # the list's query string without this filter


def _day(value: Any) -> str:
    """A range's end: a date as "7 Mar 2026", a number (an amount's range) as written."""
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return f"{value.day} {value.strftime('%b %Y')}"
    return f"{value:,}" if isinstance(value, int | Decimal) else str(value)


def _readable(field: forms.Field, value: Any) -> str:
    """A cleaned filter value as a chip shows it: a choice's label, a range's ends."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, slice):  # a range of dates or of numbers
        start, stop = _day(value.start), _day(value.stop)
        return (
            f"{start} – {stop}"
            if start and stop
            else (f"from {start}" if start else f"until {stop}")
        )
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return _day(value)
    if isinstance(value, Model):
        return str(value)
    labels = {str(key): str(label) for key, label in getattr(field, "choices", ()) if key != ""}
    if isinstance(value, list | tuple):
        return ", ".join(labels.get(str(item), str(item)) for item in value)
    return labels.get(str(value), str(value))


def _copy(found: django_filters.Filter) -> django_filters.Filter:
    copied = copy.copy(found)
    copied.extra = dict(found.extra)
    if found.method:  # its FilterMethod looks up the method on the copy's parent
        copied.method = found.method
    return copied


def _has_field(model: type[Model], name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


def list_rows(
    kind: Kind, membership: Any, data: Any, *, search_limit: int = COUNT_CAP + 1
) -> tuple[RecordFilter, QuerySet[Any]]:
    """A list's filters and rows as `membership` sees them, given its query `data`.

    One rule for the pages, exports and bulk actions alike: filters that do not validate
    give no rows, never all of them, and the id breaks ties so paging never repeats or
    skips a row. A search takes at most `search_limit` matches; `filters.search_capped`
    says when it reached them, so that the rows may be only a sample.
    """
    filters = kind.filterset(
        data or None, queryset=kind.visible(membership), kind=kind, search_limit=search_limit,
        membership=membership,
    )  # fmt: skip
    if filters.is_bound and not filters.is_valid():
        return filters, filters.queryset.none()
    found = filters.qs
    return filters, found.order_by(*(found.query.order_by or kind.default_order), "id")


def _reading(queryset: QuerySet[Any], fields: list[str] | None) -> QuerySet[Any]:
    """The rows with only these fields loaded (and only the relations they go through)."""
    if fields is None:
        return queryset
    related = {name.split("__")[0] for name in fields if "__" in name}
    queryset = queryset.select_related(None)
    # select_related() with no names would follow every foreign key: name them, or none.
    return (queryset.select_related(*related) if related else queryset).only(*fields)


def list_page(
    kind: Kind, membership: Any, data: Any, *, columns: Any = None
) -> tuple[RecordFilter, BoundedPage]:
    """A list page's filters and one bounded page of its rows; `columns(filters)`, the
    columns it shows, whose rows then load only the fields they read.

    A search first takes the organisation's first COUNT_CAP + 1 matches. When the member's
    visibility or the other filters keep fewer of them than it found, those matches were
    only a sample, and it looks again among up to SEARCH_MAX_ROWS: a rep who sees only their
    own records still finds them among a common surname. `filters.search_capped` then says
    whether the rows may still be a sample.
    """
    filters, found = list_rows(kind, membership, data)
    fields = fields_read(kind, columns(filters)) if columns else None
    page = bounded_page(_reading(found, fields), data.get("page"), among=filters.search_matches)
    if filters.search_capped and page.count < (filters.search_matches or 0):
        filters, found = list_rows(kind, membership, data, search_limit=SEARCH_MAX_ROWS + 1)
        found = _reading(found, fields)
        page = bounded_page(found, data.get("page"), among=filters.search_matches)
    prepare(kind, page.object_list)
    return filters, page
