"""Search over a kind's records, through the reviewed function that can use the indexes.

Under row-level security PostgreSQL uses an index only for leakproof operators, and LIKE,
@@ and %> are not: searched under the policy, every search would read the whole
organisation. `crm_search_ids` finds the matching ids instead (see docs/tenancy.md): it
applies the policy's rule itself, returns ids only, and searches only the tables declared
searchable. The rows are then read through the policy as usual.
"""

import re
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Lookup, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from crm.paging import COUNT_CAP

_WORD = re.compile(r"\w+", re.UNICODE)
# How alike a mistyped word must be to a word of the records (pg_trgm's word similarity).
# pg_trgm's default, 0.6, misses "nortwind" (0.58) and "jonh" for John (0.4); the test runs
# only after nothing matched as typed, so a lower bar costs little and finds the near misses
# people make.
NEAR_MISS_THRESHOLD = 0.3
SEARCH_MAX_LENGTH = 200
# The most matches a search looks through: for a list narrowed by visibility or filters,
# for an export and for a bulk action. Past it, they ask for a narrower search.
SEARCH_MAX_ROWS = 10_000


def search(queryset: QuerySet[Any], term: str, *, limit: int = COUNT_CAP + 1) -> QuerySet[Any]:
    """Rows matching `term` as typed: a part of a name, address or number, or every word as
    a prefix. When nothing matches, near misses instead ("jonhson", "nortwind").

    At most `limit` ids are taken: a list page takes COUNT_CAP + 1 and says "more than
    1,000"; bulk actions and exports ask for more.
    """
    ids = search_ids(queryset.model, term, limit=limit)
    return queryset if ids is None else among(queryset, ids)


class _AnyOf(Lookup):
    """`id = ANY(%s::bigint[])`: the ids as one parameter, where `pk__in` makes one each.
    The parameter is the array's text, "{1,2,3}": psycopg adapts a list element by element
    in Python, over half a millisecond for a thousand ids, on every query that has them."""

    lookup_name = "any_of"

    def get_prep_lookup(self) -> str:
        return "{" + ",".join(str(int(value)) for value in self.rhs) + "}"

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*params, self.rhs]


def among(queryset: QuerySet[Any], ids: list[int]) -> QuerySet[Any]:
    """The rows of `queryset` with these ids. A thousand search matches as a thousand
    parameters would be parsed anew by the driver for every query that carries them."""
    return queryset.filter(_AnyOf(F("pk"), ids))


def search_ids(model: type[Any], term: str, *, limit: int) -> list[int] | None:
    """The ids of at most `limit` rows of `model` matching `term`; None for an empty term."""
    found = _looked_for(term)
    if found is None:
        return None
    table = model._meta.db_table
    ids = _search_ids(table, *found, fuzzy=False, limit=limit)
    return ids or _search_ids(table, found[0], "", "", fuzzy=True, limit=limit)


def search_ids_each(
    models: Sequence[type[Any]], term: str, *, limit: int, fuzzy: bool = False
) -> dict[type[Any], list[int]]:
    """For each of `models`, the ids of at most `limit` of its rows matching `term` as typed
    (or only its near misses, when `fuzzy`), in one query: a search of several kinds at once
    (the quick search), which looks for near misses only when no kind matched as typed."""
    found: dict[type[Any], list[int]] = {model: [] for model in models}
    looked_for = _looked_for(term)
    if looked_for is None or not models:
        return found
    term, prefixes, digits = looked_for if not fuzzy else (looked_for[0], "", "")
    each = "SELECT %s::integer, crm_search_ids(%s, %s, %s, %s, %s, %s, %s)"
    params: list[Any] = []
    for index, model in enumerate(models):
        table = model._meta.db_table
        params += [index, table, term, prefixes, digits, fuzzy, NEAR_MISS_THRESHOLD, limit]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([each] * len(models)), params)
        for index, pk in cursor.fetchall():
            found[models[index]].append(pk)
    return found


def _looked_for(term: str) -> tuple[str, str, str] | None:
    """What the search function takes for a term: the term as it compares it, its words as
    prefixes, and its digits; None for an empty term."""
    # Nobody searches with more than a line of text; a longer term would only cost trigrams.
    term = term.strip().lower()[:SEARCH_MAX_LENGTH]
    if not term:
        return None
    words = _WORD.findall(term)
    # One word's beginning is already a part of the text; word prefixes add what a part
    # cannot: several words in any order ("ada nor").
    prefixes = " & ".join(f"{word}:*" for word in words) if len(words) > 1 else ""
    # A national number loses its trunk 0 in E.164: "020 7946 0958" is +44 20 7946 0958.
    digits = re.sub(r"\D", "", term).lstrip("0")
    digits = digits if len(digits) >= 4 and digits != term else ""
    return term, prefixes, digits


def _search_ids(
    table: str, term: str, prefixes: str, digits: str, *, fuzzy: bool, limit: int
) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT crm_search_ids(%s, %s, %s, %s, %s, %s, %s)",
            [table, term, prefixes, digits, fuzzy, NEAR_MISS_THRESHOLD, limit],
        )
        return [row[0] for row in cursor.fetchall()]
