"""Reads of contacts and companies: search, the lists, a record's page."""

import re
from typing import Any, cast

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from contacts.models import Company, CompanyTag, Contact, ContactTag
from crm.models import Membership, User

_WORD = re.compile(r"\w+", re.UNICODE)
# How alike a mistyped word must be to a word of the record. pg_trgm's default, 0.6,
# misses "nortwind" (0.58) and "jonh" for John (0.4); the test runs only after nothing
# matched as typed, so a lower bar costs little and finds the near misses people make.
NEAR_MISS_THRESHOLD = 0.3


def search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """Rows matching `term` as typed: a part of a name, address or number, or every word as
    a prefix. When nothing matches, near misses instead ("jonhson", "nortwind").

    Each branch is served by a GIN index; the costly similarity test runs only when the
    cheap ones found nothing, which is when a person has mistyped.
    """
    term = term.strip().lower()
    if not term:
        return queryset
    words = _WORD.findall(term)
    exact = Q(search_text__contains=term)
    if words and queryset.model is Contact:
        prefixes = " & ".join(f"{word}:*" for word in words)  # only \w characters: safe
        exact |= Q(search_vector=SearchQuery(prefixes, search_type="raw", config="simple"))
    # A national number loses its trunk 0 in E.164: "020 7946 0958" is +44 20 7946 0958.
    digits = re.sub(r"\D", "", term).lstrip("0")
    if queryset.model is Contact and len(digits) >= 4 and digits != term:
        # "(212) 555-0123" finds +12125550123: the E.164 number is part of search_text.
        exact |= Q(search_text__contains=digits)
    found = queryset.filter(exact)
    if found.exists():
        return found
    with connection.cursor() as cursor:  # for this transaction only
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(NEAR_MISS_THRESHOLD)],
        )
    return queryset.filter(search_text__trigram_word_similar=term)


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
