"""Reads of contacts and companies: the records a member may see."""

from typing import cast

from django.db.models import QuerySet

from contacts.models import Company, Contact
from crm.models import Membership
from crm.selectors import person_fields_unshown

# Kept by PostgreSQL for search, read by no page: never loaded with the rows.
SEARCH_COLUMNS = ("search_vector", "search_text")


def contact_list(membership: Membership) -> QuerySet[Contact]:
    """The contacts this member may see, with what a row of the list shows (the company's
    name is copied on the contact: its row needs no join; the tags of a page's rows are
    read for all of them at once, crm.records.columns.prepare)."""
    found = Contact.objects.alive().visible_to(membership)
    found = found.select_related("owner").defer(*SEARCH_COLUMNS, *person_fields_unshown("owner"))
    return cast(QuerySet[Contact], found)


def company_list(membership: Membership) -> QuerySet[Company]:
    """The companies this member may see, with what a row of the list shows."""
    found = Company.objects.alive().visible_to(membership)
    found = found.select_related("owner").defer("search_text", *person_fields_unshown("owner"))
    return cast(QuerySet[Company], found)
