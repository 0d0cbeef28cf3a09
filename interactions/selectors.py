"""Reads of interactions: the ones a member may see, and a record's timeline.

Who sees an interaction: a member who may see its contact or its company (the record
visibility of Settings → Record visibility), or who wrote it. So a record's timeline is the
same for everyone who may open the record, and a rep limited to their own records still
finds what they logged about a colleague's contact in the list.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from contacts.models import Company, Contact
from crm.models import Membership, Organization, User
from crm.selectors import person_fields_unshown
from crm.tenancy import require_org
from interactions.models import Attachment, Interaction, Task

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


def record_tasks(record: Contact | Company) -> list[Task]:
    """A contact's or company's open tasks, the first due first: what its page lists above
    the timeline. At most 20; the Tasks list has the rest."""
    key = "contact" if isinstance(record, Contact) else "company"
    found = Task.objects.open().filter(**{key: record}).select_related("assignee")
    found = found.defer("search_text", *person_fields_unshown("assignee"))
    return list(found.order_by(F("due_at").asc(nulls_last=True), "id")[:20])


def last_channel(user: User) -> str:
    """The channel this member logged last, which the quick log starts with."""
    found = (
        Interaction.objects.filter(author=user)
        .order_by("-created_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )
    return found or Interaction.Channel.CALL


@dataclass(frozen=True)
class TimelinePage:
    """Entries newest first, and where the next (older) page starts, if there is one."""

    entries: list[Interaction]
    next_cursor: Cursor | None

    @property
    def next_token(self) -> str:
        return cursor_token(self.next_cursor) if self.next_cursor else ""


def timeline(
    record: Contact | Company, *, before: Cursor | None = None, channel: str | None = None,
    limit: int = PAGE,
) -> TimelinePage:  # fmt: skip
    """A contact's or company's interactions, newest first, `limit` at a time: each page
    starts after the (occurred_at, id) of the last one, on the index, never at an OFFSET.

    Whoever may open the record sees all of its timeline (see the module's docstring)."""
    key = "contact" if isinstance(record, Contact) else "company"
    found = Interaction.objects.alive().filter(**{key: record})
    if channel:
        found = found.filter(channel=channel)
    if before is not None:
        when, pk = before
        found = found.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    found = found.select_related("author").defer("search_text", *person_fields_unshown("author"))
    # The paperclip's count: a subquery run for the page's rows only, not a join to group.
    attached = Attachment.objects.filter(interaction=OuterRef("pk")).values("interaction")
    count = Subquery(attached.annotate(n=Count("pk")).values("n"))
    found = found.annotate(attachment_count=Coalesce(count, 0))
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


# --- A record's timeline: interactions and done tasks, merged by time ------------------------

# On a tie of times, an interaction comes before a task; then the higher id first.
_RANK = {"interaction": 1, "task": 0}


@dataclass(frozen=True)
class MergedPage:
    """Timeline entries newest first (interactions, and tasks at the time they were done),
    and the token of the next (older) page, "" when there is none."""

    entries: list[Interaction | Task]
    next_token: str

    @property
    def next_cursor(self) -> str:
        return self.next_token


def record_timeline(
    record: Contact | Company, *, before: str | None = None, channel: str | None = None,
    limit: int = PAGE,
) -> MergedPage:  # fmt: skip
    """A record's timeline page: its interactions (`timeline`) and, unless a channel is
    chosen, its done tasks, merged by time. Each source is read by keyset after the last
    entry shown, so that a record with 10,000 of either opens as fast as one with 10."""
    cursor = parse_timeline_token(before)
    kind, when, pk = cursor if cursor else ("interaction", None, 0)
    found = timeline(
        record,
        before=(when, pk if kind == "interaction" else 0) if when else None,
        channel=channel, limit=limit,
    )  # fmt: skip
    tasks: list[Task] = []
    if not channel:
        key = "contact" if isinstance(record, Contact) else "company"
        done = Task.objects.alive().filter(**{key: record}, completed_at__isnull=False)
        if when is not None:
            if kind == "task":
                done = done.filter(Q(completed_at__lt=when) | Q(completed_at=when, pk__lt=pk))
            else:  # a task done at the same instant as an interaction comes after it
                done = done.filter(completed_at__lte=when)
        done = done.select_related("assignee")
        done = done.defer("search_text", *person_fields_unshown("assignee"))
        tasks = list(done.order_by("-completed_at", "-pk")[: limit + 1])
    both: list[Interaction | Task] = [*found.entries, *tasks[:limit]]
    merged = sorted(
        both,
        key=lambda entry: (_entry_time(entry), _RANK[_entry_kind(entry)], entry.pk),
        reverse=True,
    )
    entries = merged[:limit]
    more = len(merged) > limit or found.next_cursor is not None or len(tasks) > limit
    older = ""  # where the next (older) page starts: "i…" or "t…", the last entry shown
    if more and entries:
        last = entries[-1]
        older = f"{_entry_kind(last)[0]}{cursor_token((_entry_time(last), last.pk))}"
    return MergedPage(entries, older)


def _entry_kind(entry: Interaction | Task) -> str:
    return "task" if isinstance(entry, Task) else "interaction"


def _entry_time(entry: Interaction | Task) -> datetime:
    if isinstance(entry, Task):
        assert entry.completed_at is not None
        return entry.completed_at
    return entry.occurred_at


def parse_timeline_token(token: str | None) -> tuple[str, datetime, int] | None:
    """("interaction" or "task", time, id) of a token of `record_timeline`; a bare token of
    `cursor_token` is an interaction's. None for anything else."""
    token = token or ""
    kind = "interaction"
    if token[:1] in ("i", "t"):
        kind, token = ("task" if token[0] == "t" else "interaction"), token[1:]
    found = parse_cursor(token)
    return (kind, found[0], found[1]) if found else None
