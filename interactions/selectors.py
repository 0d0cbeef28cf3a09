"""Reads of interactions: the ones a member may see, and a record's timeline.

Who sees an interaction: a member who may see its contact or its company (the record
visibility of Settings → Record visibility), or who wrote it. So a record's timeline is the
same for everyone who may open the record, and a rep limited to their own records still
finds what they logged about a colleague's contact in the list.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from contacts.models import Company, Contact
from crm.models import Membership, Organization, User
from crm.selectors import person_fields_unshown
from crm.tenancy import cache_key, require_org
from interactions.models import Attachment, Interaction, Task
from interactions.timeline import after as after_entry
from interactions.timeline import everything, host_of, source, sources_for

PAGE = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Cursor = tuple[datetime, int]


def interaction_list(membership: Membership) -> QuerySet[Interaction]:
    """The interactions this member may see, with what a row of the list shows."""
    found = Interaction.objects.alive()
    if require_org().visibility_for(membership.role) != Organization.Visibility.ALL:
        contacts = Contact.objects.alive().visible_to(membership).values("pk")
        companies = Company.objects.alive().visible_to(membership).values("pk")
        found = found.filter(
            Q(author_id=membership.user_id)
            | Q(contact_id__in=contacts)
            | Q(company_id__in=companies)
        )
    found = found.select_related("author", "contact", "company").defer(
        *person_fields_unshown("author"), "search_text",
        "contact__search_vector", "contact__search_text", "company__search_text",
    )  # fmt: skip
    return cast(QuerySet[Interaction], found)


def task_list(membership: Membership) -> QuerySet[Task]:
    """The tasks this member may see: by the same rule as interactions, a task on a record
    they may see, or one given to them or made by them."""
    found = Task.objects.alive()
    if require_org().visibility_for(membership.role) != Organization.Visibility.ALL:
        contacts = Contact.objects.alive().visible_to(membership).values("pk")
        companies = Company.objects.alive().visible_to(membership).values("pk")
        found = found.filter(
            Q(assignee_id=membership.user_id)
            | Q(created_by_id=membership.user_id)
            | Q(contact_id__in=contacts)
            | Q(company_id__in=companies)
        )
    found = found.select_related("assignee", "contact", "company").defer(
        *person_fields_unshown("assignee"), "search_text",
        "contact__search_vector", "contact__search_text", "company__search_text",
    )  # fmt: skip
    return cast(QuerySet[Task], found)


def record_tasks(record: Any) -> list[Task]:
    """A record's (a contact's, a company's, a deal's) open tasks, the first due first: what
    its page lists beside the timeline. At most 20; the Tasks list has the rest."""
    key = host_of(record).key
    found = Task.objects.open().filter(**{key: record}).select_related("assignee")
    found = found.defer("search_text", *person_fields_unshown("assignee"))
    return list(found.order_by(F("due_at").asc(nulls_last=True), "id")[:20])


def last_channel(user: User) -> str:
    """The channel this member logged last, which the quick log starts with: kept in the
    cache by interaction_log, read from the log when the cache has forgotten it."""
    key = last_channel_key(user.pk)
    found = cache.get(key)
    if found in Interaction.Channel.values:
        return str(found)
    found = (
        Interaction.objects.filter(author=user)
        .order_by("-created_at", "-id")
        .values_list("channel", flat=True)
        .first()
    ) or Interaction.Channel.CALL
    cache.set(key, found, LAST_CHANNEL_SECONDS)
    return str(found)


LAST_CHANNEL_SECONDS = 7 * 24 * 3600


def last_channel_key(user_id: int) -> str:
    return cache_key("last_channel", user_id)


@dataclass(frozen=True)
class TimelinePage:
    """Entries newest first, and where the next (older) page starts, if there is one."""

    entries: list[Interaction]
    next_cursor: Cursor | None

    @property
    def next_token(self) -> str:
        return cursor_token(self.next_cursor) if self.next_cursor else ""


def timeline(
    record: Any, *, before: Cursor | None = None, channel: str | None = None, limit: int = PAGE,
) -> TimelinePage:  # fmt: skip
    """A record's interactions alone, newest first, `limit` at a time: each page starts
    after the (occurred_at, id) of the last one, on the index, never at an OFFSET.

    Whoever may open the record sees all of its timeline (see the module's docstring)."""
    found = _interactions(record, host_of(record).key, channel)
    if before is not None:
        when, pk = before
        found = found.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    rows = list(found.order_by("-occurred_at", "-pk")[: limit + 1])
    entries = rows[:limit]
    more = len(rows) > limit
    return TimelinePage(entries, (entries[-1].occurred_at, entries[-1].pk) if more else None)


def cursor_token(cursor: Cursor) -> str:
    """A cursor as a URL carries it: microseconds since 1970, a dot, the id."""
    when, pk = cursor
    return f"{(when - _EPOCH) // timedelta(microseconds=1)}.{pk}"


def parse_cursor(token: str | None) -> Cursor | None:
    """The cursor of a token from cursor_token; None for anything else (the first page)."""
    micros, _, pk = (token or "").partition(".")
    if not (micros.lstrip("-").isdigit() and pk.isdigit()) or len(micros) > 18:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        return None


# --- A record's timeline: interactions, done tasks and what other apps add, merged by time --

# On a tie of times, an interaction comes before a task, and both before other sources'
# entries (their ranks are lower); then the higher id first.
_RANK = {"i": 2, "t": 1}


@dataclass(frozen=True)
class MergedPage:
    """Timeline entries newest first (interactions, tasks at the time they were done, and
    the entries of other sources), and the token of the next (older) page, "" when there
    is none. Each entry carries `timeline_template`, which renders it."""

    entries: list[Any]
    next_token: str

    @property
    def next_cursor(self) -> str:
        return self.next_token


def record_timeline(
    record: Any, *, before: str | None = None, channel: str | None = None, limit: int = PAGE,
) -> MergedPage:  # fmt: skip
    """A record's timeline page: its interactions (`timeline`) and, unless a channel is
    chosen, its done tasks and the entries other apps add (a deal's stage changes), merged
    by time. Each source is read by keyset after the last entry shown, so that a record with
    10,000 of any of them opens as fast as one with 10."""
    key = host_of(record).key
    cursor = parse_timeline_token(before)
    letter, when, pk = cursor if cursor else ("i", None, 0)
    cursor_rank = _rank(letter)

    def after(rank: int) -> Any:
        return after_entry(when, pk, rank, cursor_rank) if when is not None else everything

    found = after(_RANK["i"])(_interactions(record, key, channel), "occurred_at")
    rows: list[tuple[str, Any]] = [
        ("i", e) for e in found.order_by("-occurred_at", "-pk")[: limit + 1]
    ]
    if not channel:
        done = Task.objects.alive().filter(**{key: record}, completed_at__isnull=False)
        done = after(_RANK["t"])(done, "completed_at").select_related("assignee")
        done = done.defer("search_text", *person_fields_unshown("assignee"))
        rows += [("t", task) for task in done.order_by("-completed_at", "-pk")[: limit + 1]]
        for extra in sources_for(key):
            rows += [
                (extra.letter, e) for e in extra.fetch(record, key, after(extra.rank), limit + 1)
            ]
    rows.sort(key=lambda item: (_time(*item), _rank(item[0]), item[1].pk), reverse=True)
    shown = rows[:limit]
    for letter_, entry in shown:
        entry.timeline_template = _template(letter_)
    older = ""  # where the next (older) page starts: the letter and cursor of the last entry
    if len(rows) > limit and shown:
        last_letter, last = shown[-1]
        older = f"{last_letter}{cursor_token((_time(last_letter, last), last.pk))}"
    return MergedPage([entry for _, entry in shown], older)


def _interactions(record: Any, key: str, channel: str | None) -> QuerySet[Interaction]:
    found = Interaction.objects.alive().filter(**{key: record})
    if channel:
        found = found.filter(channel=channel)
    found = found.select_related("author").defer("search_text", *person_fields_unshown("author"))
    # The paperclip's count: a subquery run for the page's rows only, not a join to group.
    attached = Attachment.objects.filter(interaction=OuterRef("pk")).values("interaction")
    count = Subquery(attached.annotate(n=Count("pk")).values("n"))
    return found.annotate(attachment_count=Coalesce(count, 0))


def _rank(letter: str) -> int:
    if letter in _RANK:
        return _RANK[letter]
    found = source(letter)
    return found.rank if found else 0


def _time(letter: str, entry: Any) -> datetime:
    if letter == "i":
        return cast(datetime, entry.occurred_at)
    if letter == "t":
        return cast(datetime, entry.completed_at)
    found = source(letter)
    assert found is not None
    return found.time(entry)


def _template(letter: str) -> str:
    if letter == "i":
        return "interactions/_entry.html"
    if letter == "t":
        return "interactions/_task_entry.html"
    found = source(letter)
    assert found is not None
    return found.template


def parse_timeline_token(token: str | None) -> tuple[str, datetime, int] | None:
    """(letter, time, id) of a token of `record_timeline`: "i…" an interaction's, "t…" a
    task's, another letter a registered source's; a bare token of `cursor_token` is an
    interaction's. None for anything else."""
    token = token or ""
    letter = "i"
    if token[:1].isalpha():
        letter, token = token[0], token[1:]
        if letter not in _RANK and source(letter) is None:
            return None
    found = parse_cursor(token)
    return (letter, found[0], found[1]) if found else None
