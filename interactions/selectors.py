"""Reads of interactions: the ones a member may see, and a record's timeline.

Who sees an interaction: a member who may see its contact or its company (the record
visibility of Settings → Record visibility), or who wrote it. So a record's timeline is the
same for everyone who may open the record, and a rep limited to their own records still
finds what they logged about a colleague's contact in the list.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from contacts.models import Company, Contact
from crm.models import Membership, Organization, User
from crm.selectors import person_fields_unshown
from crm.tenancy import require_org
from interactions.models import Attachment, Interaction

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
