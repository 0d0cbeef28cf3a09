"""Reads of contacts and companies: the records a member may see, and the Trash."""

from typing import Any, cast

from django.db.models import Prefetch, QuerySet

from contacts.models import Company, CompanyTag, Contact, ContactTag
from crm.models import Membership


def contact_list(membership: Membership) -> QuerySet[Contact]:
    """The contacts this member may see, with what a row of the list shows."""
    tags = Prefetch("tag_links", queryset=ContactTag.objects.select_related("tag"))
    found = Contact.objects.alive().visible_to(membership)
    return cast(QuerySet[Contact], found.select_related("company", "owner").prefetch_related(tags))


def company_list(membership: Membership) -> QuerySet[Company]:
    """The companies this member may see, with what a row of the list shows."""
    tags = Prefetch("tag_links", queryset=CompanyTag.objects.select_related("tag"))
    found = Company.objects.alive().visible_to(membership)
    return cast(QuerySet[Company], found.select_related("owner").prefetch_related(tags))


def trashed(model: type[Contact] | type[Company], membership: Membership) -> list[Any]:
    """A member's view of the Trash for one kind of record, most recently deleted first."""
    found = model.objects.trashed().visible_to(membership).select_related("owner")
    return list(found.order_by("-deleted_at", "-id")[:200])
