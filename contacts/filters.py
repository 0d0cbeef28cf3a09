"""The filters of the contact and company lists, beside those every list has."""

from typing import Any, ClassVar

import django_filters
from django.db.models import QuerySet

from contacts.models import Company, ConsentEvent, Contact, SegmentMember
from contacts.segments.selectors import segment_choices
from crm.records.filters import DATE, RecordFilter


class _AddressFilter(RecordFilter):
    country = django_filters.CharFilter(method="filter_country", label="Country (ISO code)")

    def filter_country(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Stored upper-case by the services: an exact match, which its index serves.
        return queryset.filter(country=value.strip().upper())


class ContactFilter(_AddressFilter):
    primary: ClassVar[tuple[str, ...]] = ("q", "lifecycle", "owner", "tag", "sort")

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
    segment = django_filters.ChoiceFilter(
        choices=segment_choices, method="filter_segment", empty_label="Any segment"
    )
    sort = django_filters.OrderingFilter(
        fields=(
            ("last_name", "name"), ("email", "email"), ("company_name", "company"),
            ("lifecycle", "lifecycle"), ("created_at", "created"),
            ("last_interaction_at", "last_interaction"), ("next_step_at", "next_step"),
        ),
        field_labels={"last_interaction_at": "Last contacted", "next_step_at": "Next step"},
        label="Sort by", empty_label="Name (default)",
    )  # fmt: skip

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_consent(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{f"consent__{value}__granted": True})

    def filter_segment(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        inside = SegmentMember.objects.filter(segment_id=int(value)).values("contact_id")
        return queryset.filter(pk__in=inside)


class CompanyFilter(_AddressFilter):
    industry = django_filters.CharFilter(lookup_expr="icontains")
    size = django_filters.ChoiceFilter(choices=Company.Size.choices, empty_label="Any size")
    sort = django_filters.OrderingFilter(
        fields=(("name", "name"), ("domain", "domain"), ("industry", "industry"),
                ("created_at", "created"), ("last_interaction_at", "last_interaction")),
        field_labels={"last_interaction_at": "Last interaction"},
        label="Sort by", empty_label="Name (default)",
    )  # fmt: skip

    class Meta:
        model = Company
        fields: list[str] = []
