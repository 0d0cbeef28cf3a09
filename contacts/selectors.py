"""Reads of contacts and companies: search, the lists, a record's page."""

import re
from typing import Any, cast

from django.db import connection
from django.db.models import F, Lookup, Prefetch, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from contacts.models import Company, CompanyTag, Contact, ContactTag
from crm.models import Membership, User
from crm.paging import COUNT_CAP

_WORD = re.compile(r"\w+", re.UNICODE)
# How alike a mistyped word must be to a word of the records (pg_trgm's word similarity).
# pg_trgm's default, 0.6, misses "nortwind" (0.58) and "jonh" for John (0.4); the test runs
# only after nothing matched as typed, so a lower bar costs little and finds the near misses
# people make. Contacts are matched against their organisation's table of words, closest
# spelling first (contacts migration 0010); companies, fewer, row by row.
NEAR_MISS_THRESHOLD = 0.3
SEARCH_MAX_LENGTH = 200
# The most matches a search looks through: for a list narrowed by visibility or filters,
# for an export and for a bulk action. Past it, they ask for a narrower search.
SEARCH_MAX_ROWS = 10_000


def search(queryset: QuerySet[Any], term: str, *, limit: int = COUNT_CAP + 1) -> QuerySet[Any]:
    """Rows matching `term` as typed: a part of a name, address or number, or every word as
    a prefix. When nothing matches, near misses instead ("jonhson", "nortwind").

    The matching ids come from crm_search_ids (contacts migrations 0002 and 0010), which can
    use the GIN indexes where a query under row-level security cannot; the rows are then
    read through the policy as usual. At most `limit` ids are taken: a list page takes
    COUNT_CAP + 1 and says "more than 1,000"; bulk actions and exports ask for more.
    """
    ids = search_ids(queryset.model, term, limit=limit)
    return queryset if ids is None else among(queryset, ids)


class _AnyOf(Lookup):
    """`id = ANY(%s::bigint[])`: the ids as one parameter, where `pk__in` makes one each."""

    lookup_name = "any_of"

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*params, self.rhs]


def among(queryset: QuerySet[Any], ids: list[int]) -> QuerySet[Any]:
    """The rows of `queryset` with these ids. A thousand search matches as a thousand
    parameters would be parsed anew by the driver for every query that carries them."""
    return queryset.filter(_AnyOf(F("pk"), ids))


def search_ids(model: type[Any], term: str, *, limit: int) -> list[int] | None:
    """The ids of at most `limit` rows of `model` matching `term`; None for an empty term."""
    # Nobody searches with more than a line of text; a longer term would only cost trigrams.
    term = term.strip().lower()[:SEARCH_MAX_LENGTH]
    if not term:
        return None
    table = model._meta.db_table
    words = _WORD.findall(term)
    # One word's beginning is already a part of the text; word prefixes add what a part
    # cannot: several words in any order ("ada nor").
    prefixes = " & ".join(f"{word}:*" for word in words) if len(words) > 1 else ""
    # A national number loses its trunk 0 in E.164: "020 7946 0958" is +44 20 7946 0958.
    digits = re.sub(r"\D", "", term).lstrip("0")
    digits = digits if len(digits) >= 4 and digits != term else ""
    ids = _search_ids(table, term, prefixes, digits, fuzzy=False, limit=limit)
    return ids or _search_ids(table, term, "", "", fuzzy=True, limit=limit)


def _search_ids(
    table: str, term: str, prefixes: str, digits: str, *, fuzzy: bool, limit: int
) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT crm_search_ids(%s, %s, %s, %s, %s, %s, %s)",
            [table, term, prefixes, digits, fuzzy, NEAR_MISS_THRESHOLD, limit],
        )
        return [row[0] for row in cursor.fetchall()]


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
