"""What the quick search and the palette find: a few records of every kind the member may
see, and the pages and actions their role opens.

Records come from the kinds' search (crm.records.search, through the indexes, every kind
in one query), read through each kind's visible rows, a handful per kind; pages from the
navigation and the pages the apps registered (crm.contributions); actions ("New contact",
"Import contacts") from the kinds' declarations. Nothing here names a kind.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from crm.contributions import navigation, pages
from crm.models import Membership
from crm.permissions import can
from crm.records import registry
from crm.records.columns import Column, fields_read
from crm.records.registry import Kind
from crm.records.search import SEARCH_MAX_LENGTH, SEARCH_MAX_ROWS, among, search_ids_each

PER_KIND = 5  # records shown of each kind; "All matching …" opens the rest in its list
# The matches of a kind a first look takes, to show PER_KIND of them in the kind's order.
FIRST_LOOK = 100
# Records are searched for a term with three letters or digits in a row, what the search's
# trigram indexes look up: two that few records share ("zq"), or punctuation ("..."), read
# every row of the organisation, seconds at a million contacts. Others find pages only.
_INDEXED = re.compile(r"\w{3}")
MAX_PAGES = 8  # pages, and actions, shown for a term (all of them for none)


@dataclass(frozen=True)
class Hit:
    """One result: what it says, where it goes, and a quieter word beside it."""

    label: str
    url: str
    hint: str = ""


@dataclass
class Group:
    """Results of one sort, under a heading: a kind's records, pages or actions."""

    key: str  # unique among the groups: "kind-contact", "pages", "actions"
    label: str
    hits: list[Hit] = field(default_factory=list)
    more: Hit | None = None  # the kind's list, searched, when there are more than shown


def find(membership: Membership, term: str) -> list[Group]:
    """Actions and pages whose words start with the term's, then up to PER_KIND records of
    each kind the member may see; with no term, every action and page the member may use."""
    term = " ".join(term.split())[:SEARCH_MAX_LENGTH]
    actions, places = _actions(membership), _places(membership)
    if term:
        actions = _matching(actions, term)[:MAX_PAGES]
        places = _matching(places, term)[:MAX_PAGES]
    groups = [
        Group("actions", "Actions", [hit for hit, _ in actions]),
        Group("pages", "Pages", [hit for hit, _ in places]),
    ]
    if searches_records(term):
        groups += _record_groups(membership, term)
    return [group for group in groups if group.hits]


def searches_records(term: str) -> bool:
    """Whether `term` is enough to look for records by (not only pages)."""
    return _INDEXED.search(term) is not None


# --- Records -------------------------------------------------------------------------------


def _searchable(membership: Membership) -> list[Kind]:
    return [
        kind
        for kind in registry.kinds()
        if kind.searchable and can(membership, kind.action("view"))
    ]


def _record_groups(membership: Membership, term: str) -> list[Group]:
    """Each kind's records matching `term` as typed; when no kind has any, each kind's near
    misses of it (a misspelling). A kind without matches while another has some does not
    look for near misses: the term was no misspelling. Each look at every kind is one query.
    """
    kinds = _searchable(membership)
    groups = _record_look(kinds, membership, term, fuzzy=False)
    if not any(group.hits for group in groups):
        groups = _record_look(kinds, membership, term, fuzzy=True)
    return groups


def _record_look(
    kinds: list[Kind], membership: Membership, term: str, *, fuzzy: bool
) -> list[Group]:
    """The member's first records of each kind that the search finds for `term`.

    A first look takes FIRST_LOOK matches of each kind. When the member sees too few of a
    kind's to fill its group, they were a sample of a common word, and it looks again among
    up to SEARCH_MAX_ROWS, as a list page does: a rep limited to their own records still
    finds theirs among a thousand Smiths.
    """
    found = search_ids_each([kind.model for kind in kinds], term, limit=FIRST_LOOK, fuzzy=fuzzy)
    groups = []
    for kind in kinds:
        ids = found[kind.model]
        rows = _rows(kind, membership, ids)
        if len(ids) >= FIRST_LOOK and len(rows) <= PER_KIND:
            more = search_ids_each([kind.model], term, limit=SEARCH_MAX_ROWS + 1, fuzzy=fuzzy)
            rows = _rows(kind, membership, more[kind.model])
        groups.append(_group(kind, membership, term, rows))
    return groups


def _group(kind: Kind, membership: Membership, term: str, rows: list[Any]) -> Group:
    """A kind's heading over PER_KIND of `rows`, and its list searched when there are more."""
    slug = membership.org.slug
    hint = _hint_column(kind)
    zone: Any = timezone.get_current_timezone()
    hits = [
        Hit(str(row), kind.detail(slug, row.pk), _hint(hint, row, zone)) for row in rows[:PER_KIND]
    ]
    group = Group(f"kind-{kind.key}", kind.label, hits)
    if len(rows) > PER_KIND:
        search = f"{kind.url('list', slug)}?{urlencode({'q': term})}"
        group.more = Hit(f"All matching {kind.nouns}", search)
    return group


def _rows(kind: Kind, membership: Membership, ids: list[int]) -> list[Any]:
    """One more than PER_KIND of these records that the member may see, loading only what a
    hit shows (the record's name and its hint)."""
    if not ids:
        return []
    found: QuerySet[Any] = among(kind.visible(membership), ids)
    hint = _hint_column(kind)
    fields = fields_read(kind, [hint] if hint else [])
    if fields is not None:
        # select_related() with no names would join every foreign key: only those read.
        related = {name.split("__")[0] for name in fields if "__" in name}
        found = found.select_related(None).only(*fields)
        found = found.select_related(*related) if related else found
    return list(found.order_by(*kind.default_order, "pk")[: PER_KIND + 1])


def _hint_column(kind: Kind) -> Column | None:
    """What a hit shows beside a record's name: the column its list shows next, when that
    column reads fields of its own (a contact's email, a company's domain)."""
    columns = {column.key: column for column in kind.columns}
    second = columns.get(kind.default_columns[1]) if len(kind.default_columns) > 1 else None
    return second if second is not None and second.reads else None


def _hint(column: Column | None, row: Any, zone: Any) -> str:
    return " ".join(cell for cell in column.export(row, zone) if cell) if column else ""


# --- Pages and actions ---------------------------------------------------------------------

# A hit, and the words it is found by.
_Found = tuple[Hit, str]


def _actions(membership: Membership) -> list[_Found]:
    """What the member may start from anywhere: a new record, an import, of each kind."""
    slug, found = membership.org.slug, []
    for kind in registry.kinds():
        if kind.new_url and can(membership, kind.action("edit")):
            label = f"New {kind.noun}"
            found.append((Hit(label, reverse(kind.new_url, args=[slug])), f"{label} add create"))
        if kind.imports and can(membership, "import.run") and can(membership, kind.action("view")):
            label = f"Import {kind.nouns}"
            found.append((Hit(label, kind.url("import", slug)), f"{label} upload csv"))
    return found


def _places(membership: Membership) -> list[_Found]:
    """The navigation's sections, the kinds' lists of duplicates and the registered pages
    that the member may open, each address once (with the words of all that lead there)."""
    slug = membership.org.slug
    found: dict[str, tuple[Hit, str]] = {}

    def add(label: str, url: str, section: str = "", keywords: str = "") -> None:
        words = f"{label} {section} {keywords}"
        if url in found:
            hit, known = found[url]
            found[url] = (hit, f"{known} {words}")
        else:
            found[url] = (Hit(label, url, section), words)

    for entry in navigation():
        if entry.action is None or can(membership, entry.action):
            add(entry.label, reverse(entry.url_name, args=[slug]))
    for kind in registry.kinds():
        if kind.duplicates and can(membership, kind.action("merge")):
            add(f"Duplicate {kind.nouns}", kind.url("duplicates", slug), kind.label, "merge")
    for page in pages():
        if page.action is None or can(membership, page.action):
            url = reverse(page.url_name, args=[slug] if page.org else [])
            add(page.label, url, page.section, page.keywords)
    return list(found.values())


def _matching(found: list[_Found], term: str) -> list[_Found]:
    """Those of which every word of the term begins a word: "new con", "sett mem"."""
    wanted = term.lower().split()
    return [
        (hit, words)
        for hit, words in found
        if all(any(word.startswith(w) for word in words.lower().split()) for w in wanted)
    ]
