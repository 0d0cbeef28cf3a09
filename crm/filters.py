"""django-filter FilterSets for the platform's list pages."""

from typing import Any

import django_filters
from django.apps import apps
from django.db.models import QuerySet

from crm.audit import VERBS
from crm.models import AuditEvent, Membership
from crm.selectors import BY_NAME


def _type_label(label_lower: str) -> str:
    """'crm.team' -> 'Team': the model's own name for itself."""
    try:
        return str(apps.get_model(label_lower)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return label_lower


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        queryset=lambda request: Membership.objects.none(),
        method="filter_actor",
        label="Who",
        empty_label="Anyone",
    )
    action = django_filters.ChoiceFilter(
        choices=[], method="filter_action", label="What", empty_label="Anything"
    )
    object_type = django_filters.ChoiceFilter(
        choices=[], label="Record type", empty_label="Any type"
    )
    at = django_filters.DateFromToRangeFilter(
        label="Between", widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def __init__(self, data: Any = None, queryset: QuerySet[AuditEvent] | None = None, **kw: Any):
        super().__init__(data, queryset=queryset or AuditEvent.objects.all(), **kw)
        # Choices from the scoped managers: only this organisation's people and record types.
        self.filters["actor"].queryset = Membership.objects.select_related("user").order_by(
            *BY_NAME
        )
        types = AuditEvent.objects.values_list("object_type", flat=True).distinct()
        what = {**VERBS, "merged": "Merged", "exported": "Exported"}
        self.filters["action"].extra["choices"] = sorted(what.items(), key=lambda c: c[1])
        self.filters["object_type"].extra["choices"] = sorted(
            ((t, _type_label(t)) for t in types if t), key=lambda choice: choice[1]
        )

    def filter_actor(self, queryset: QuerySet[AuditEvent], name: str, value: Membership):
        return queryset.filter(actor_id=value.user_id)

    def filter_action(self, queryset: QuerySet[AuditEvent], name: str, value: str):
        return queryset.filter(action__endswith=f".{value}")

    @property
    def qs(self) -> QuerySet[AuditEvent]:
        return super().qs.select_related("actor").order_by("-at", "-id")
