"""Reads of contacts and companies: search, the lists, a record's page."""

import re
from typing import Any, cast

from django.contrib.postgres.search import SearchQuery
from django.db.models import Prefetch, Q, QuerySet

from contacts.models import Company, CompanyTag, Contact, ContactTag
from crm.models import Membership, User

_WORD = re.compile(r"\w+", re.UNICODE)


def search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """Rows matching `term`: every word as a prefix, a part of a name, address or number,
    or a near miss ("jonh smtih"). Each branch uses one of the GIN indexes."""
    term = term.strip().lower()
    if not term:
        return queryset
    words = _WORD.findall(term)
    match = Q(search_text__contains=term) | Q(search_text__trigram_word_similar=term)
    if words and queryset.model is Contact:
        prefixes = " & ".join(f"{word}:*" for word in words)  # only \w characters: safe
        match |= Q(search_vector=SearchQuery(prefixes, search_type="raw", config="simple"))
    digits = re.sub(r"\D", "", term)
    if queryset.model is Contact and len(digits) >= 4:
        match |= Q(phone__contains=digits)
    return queryset.filter(match)


def contact_list(membership: Membership) -> QuerySet[Contact]:
    """The contacts this member may see, with what a row of the list shows."""
    tags = Prefetch("tag_links", queryset=ContactTag.objects.select_related("tag"))
    found = Contact.objects.alive().visible_to(membership)
    return cast(QuerySet[Contact], found.select_related("company", "owner").prefetch_related(tags))


def company_list(membership: Membership) -> QuerySet[Company]:
    tags = Prefetch("tag_links", queryset=CompanyTag.objects.select_related("tag"))
    found = Company.objects.alive().visible_to(membership)
    return cast(QuerySet[Company], found.select_related("owner").prefetch_related(tags))


def trashed(model: type[Contact] | type[Company], membership: Membership) -> list[Any]:
    """A member's view of the Trash for one kind of record, most recently deleted first."""
    found = model.objects.trashed().visible_to(membership).select_related("owner")
    return list(found.order_by("-deleted_at", "-id")[:200])


def org_users() -> QuerySet[User]:
    """The people of the active organisation, for owner choices."""
    return User.objects.filter(pk__in=Membership.objects.values("user_id")).order_by("email")
