"""Which records have a timeline and a quick log on their page (hosts), and what besides
interactions and done tasks their timelines show (sources), as the apps declare them.

Contacts and companies are declared here; another app declares its own from its
AppConfig.ready(), without interactions knowing it:

    timeline.register_host(Host(key="deal", model=Deal, prefix="deals", ...))
    timeline.register_source(Source(letter="s", rank=0, ...))  # a deal's stage changes

Each host gets the URL <prefix>/<<key>_id>/interactions/ (named "interactions:<key>_timeline"),
which pages its timeline and takes the quick log's posts.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet

# after(queryset, time_field) -> the rows of a source that come after the page's last entry.
After = Callable[[QuerySet[Any], str], QuerySet[Any]]


@dataclass(frozen=True)
class Host:
    """A kind of record whose page shows a timeline, a quick log and a Tasks card."""

    key: str  # "contact": its interactions' and tasks' link to it, and the query's ?contact=
    model: type[Model]
    prefix: str  # "contacts": its timeline is at <prefix>/<id>/interactions/
    visible: Callable[[Any], QuerySet[Any]]  # the records a member may see, by membership
    page: str  # the URL name of its page, taking (org_slug, pk)
    # What an interaction or a task made on its page links to: {"contact": c} for a contact,
    # the deal and its contact and company for a deal.
    links: Callable[[Any], dict[str, Any]] = field(default=lambda record: {})
    # Called after an interaction was logged on a record of it: logged(org=, record=, at=).
    logged: Callable[..., None] | None = None


@dataclass(frozen=True)
class Source:
    """Entries another app adds to some hosts' timelines, merged with the rest by time."""

    letter: str  # the prefix of a page token that ends at one of its entries
    # On a tie of times, the higher rank comes first (interactions 2, done tasks 1).
    rank: int
    template: str  # renders one entry, given `entry`
    hosts: frozenset[str]
    # fetch(record, host_key, after, limit) -> entries, newest first, at most `limit`.
    fetch: Callable[[Any, str, After, int], list[Any]]
    time: Callable[[Any], datetime]


_hosts: dict[str, Host] = {}
_sources: dict[str, Source] = {}


def register_host(host: Host) -> None:
    _hosts[host.key] = host


def register_source(source: Source) -> None:
    if source.letter in ("i", "t"):
        raise ValueError("The letters i and t are the interactions' and the tasks'.")
    _sources[source.letter] = source


def hosts() -> list[Host]:
    return list(_hosts.values())


def host(key: str) -> Host:
    return _hosts[key]


def host_of(record: Any) -> Host:
    """The host declared for this record's model."""
    for found in _hosts.values():
        if isinstance(record, found.model):
            return found
    raise LookupError(f"{type(record).__name__} has no timeline.")


def sources_for(key: str) -> list[Source]:
    return [source for source in _sources.values() if key in source.hosts]


def source(letter: str) -> Source | None:
    return _sources.get(letter)


def after(when: datetime, pk: int, rank: int, cursor_rank: int) -> After:
    """The filter of a source of `rank` for the entries after a page that ended at
    (when, cursor_rank, pk), in the timeline's order: newest first, then the higher rank,
    then the higher id."""

    def apply(found: QuerySet[Any], time_field: str) -> QuerySet[Any]:
        if rank < cursor_rank:  # at the same instant, it comes after the last entry
            return found.filter(**{f"{time_field}__lte": when})
        if rank > cursor_rank:
            return found.filter(**{f"{time_field}__lt": when})
        return found.filter(
            Q(**{f"{time_field}__lt": when}) | Q(**{time_field: when, "pk__lt": pk})
        )

    return apply


def everything(found: QuerySet[Any], time_field: str) -> QuerySet[Any]:
    return found
