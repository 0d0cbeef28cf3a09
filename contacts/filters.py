"""django-filter FilterSets for the contact and company lists."""

from typing import Any, ClassVar

import django_filters
from django.db.models import QuerySet
from django.forms import BoundField

from contacts import selectors
from contacts.models import Company, ConsentEvent, Contact, Tag
from crm.models import User

DATE = django_filters.widgets.DateRangeWidget(attrs={"type": "date"})


class _RecordFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search")
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.none(), label="Owner", empty_label="Anyone"
    )
    tag = django_filters.ModelChoiceFilter(
        queryset=Tag.unscoped.none(), method="filter_tag", label="Tag", empty_label="Any tag"
    )
    country = django_filters.CharFilter(method="filter_country", label="Country (ISO code)")
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at", label="Created", widget=DATE
    )

    # Shown above the list; the others fold into "More filters".
    primary: ClassVar[tuple[str, ...]] = ("q", "owner", "tag", "sort")

    def __init__(self, data: Any = None, queryset: QuerySet[Any] | None = None, **kw: Any) -> None:
        super().__init__(data, queryset=queryset, **kw)
        # Choices from the scoped managers: this organisation's people and tags only.
        self.filters["owner"].queryset = selectors.org_users()
        self.filters["tag"].queryset = Tag.objects.all()

    def primary_fields(self) -> list[BoundField]:
        return [self.form[name] for name in self.form.fields if name in self.primary]

    def more_fields(self) -> list[BoundField]:
        return [self.form[name] for name in self.form.fields if name not in self.primary]

    def more_in_use(self) -> bool:
        """Whether a folded filter has a value (then the fold opens)."""
        folded = [name for name in self.filters if name not in self.primary]
        return any(
            value for key, value in (self.data or {}).items()
            if any(key == name or key.startswith(f"{name}_") for name in folded)
        )  # fmt: skip

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return selectors.search(queryset, value)

    def filter_country(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Stored upper-case by the services: an exact match, which its index serves.
        return queryset.filter(country=value.strip().upper())

    def filter_tag(self, queryset: QuerySet[Any], name: str, value: Tag) -> QuerySet[Any]:
        return queryset.filter(tag_links__tag=value)


class ContactFilter(_RecordFilter):
    primary = ("q", "lifecycle", "owner", "tag", "sort")

    lifecycle = django_filters.ChoiceFilter(
        choices=Contact.Lifecycle.choices, empty_label="Any stage"
    )
    company = django_filters.CharFilter(field_name="company_name", lookup_expr="icontains")
    source = django_filters.CharFilter(lookup_expr="icontains")
    last_interaction = django_filters.DateFromToRangeFilter(
        field_name="last_interaction_at", label="Last interaction", widget=DATE
    )
    consent = django_filters.ChoiceFilter(
        choices=ConsentEvent.Purpose.choices, method="filter_consent",
        label="Consented to", empty_label="Any",
    )  # fmt: skip
    sort = django_filters.OrderingFilter(
        fields=(
            ("last_name", "name"), ("email", "email"), ("company_name", "company"),
            ("lifecycle", "lifecycle"), ("created_at", "created"),
            ("last_interaction_at", "last_interaction"),
        ),
        label="Sort by", empty_label="Name (default)",
    )  # fmt: skip

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_consent(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{f"consent__{value}__granted": True})


class CompanyFilter(_RecordFilter):
    industry = django_filters.CharFilter(lookup_expr="icontains")
    size = django_filters.ChoiceFilter(choices=Company.Size.choices, empty_label="Any size")
    sort = django_filters.OrderingFilter(
        fields=(("name", "name"), ("domain", "domain"), ("industry", "industry"),
                ("created_at", "created")),
        label="Sort by", empty_label="Name (default)",
    )  # fmt: skip

    class Meta:
        model = Company
        fields: list[str] = []
