"""Template helpers for contact and company pages."""

from dataclasses import dataclass

from django import template

from contacts import custom_fields
from contacts.models import Company, Contact

register = template.Library()


@dataclass(frozen=True)
class CustomFact:
    label: str
    kind: str
    text: str  # as people read it; "" when not given


@register.simple_tag
def custom_facts(record: Contact | Company) -> list[CustomFact]:
    """The record's custom values for its profile, one per current definition (a deleted
    definition's value stays stored but is not shown)."""
    return [
        CustomFact(
            field.label, field.kind, custom_fields.display(field, record.custom.get(field.key))
        )
        for field in custom_fields.definitions(custom_fields.entity_of(record))
    ]
