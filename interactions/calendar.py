"""A member's private calendar feed: an iCalendar (RFC 5545) address that calendar apps
subscribe to, with the member's open tasks and the meetings they logged.

A token is "<org id>.<secret>", as the inbound address's is (interactions.inbound): the id
lets the organisation be activated before its feeds are read, since they sit behind
row-level security. Only sha256(secret) is stored; the feed is found by that hash, so the
secret itself is never compared. The address works only while its member is still in the
organisation, and only for the membership it was made in: someone removed and invited back
needs a new address.

What the feed holds, and why:
- An open task assigned to the member, due from 30 days ago to a year ahead, twice: as a
  VTODO (with DUE and PRIORITY) for the apps that keep tasks, and as a 15-minute VEVENT at
  its due time, marked free, because Google Calendar and Outlook show no VTODO at all. An
  app that shows both (Thunderbird) shows the task in its task list and on its day.
- A task that is done, or in the Trash, leaves the feed: the CRM keeps its history, and a
  calendar that cannot tick a task off should not show it as still to do.
- A meeting the member logged (author), from 30 days ago to a year ahead, as a VEVENT
  lasting its duration (30 minutes when none was given).
At most MAX_ITEMS items, tasks first. Times are in UTC; DTSTAMP is when the row last
changed, so the same data always makes the same feed.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm import tokens
from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.tenancy import activate
from interactions import selectors
from interactions.models import CalendarFeed, Interaction, Task

MAX_ITEMS = 2_000
PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
TASK_LENGTH = timedelta(minutes=15)
MEETING_LENGTH = timedelta(minutes=30)
TEXT_LIMIT = 2_000  # characters of a task's notes or a meeting's text in DESCRIPTION
_PRIORITY: dict[str, int] = {Task.Priority.HIGH: 1, Task.Priority.NORMAL: 5, Task.Priority.LOW: 9}
# Control characters RFC 5545 allows in no TEXT value (a tab is allowed; line breaks are
# escaped before this applies).
_CONTROLS = dict.fromkeys([*range(0x09), *range(0x0A, 0x20), 0x7F])

_NOBODY = Organization(pk=0)  # no organisation has id 0: its feed query finds nothing
_NO_FEED = (0, datetime(2000, 1, 1, tzinfo=UTC))  # no user has id 0: no member is found


# --- The member's address ------------------------------------------------------------------


@transaction.atomic
def calendar_feed_rotate(*, org: Organization, user: User) -> str:
    """Give the member a new feed address (the old one stops working); the token, once."""
    secret = tokens.new_secret()
    feed, created = CalendarFeed.objects.get_or_create(
        user=user, defaults={"org": org, "key_hash": tokens.secret_hash(secret)}
    )
    if not created:
        feed.key_hash, feed.created_at = tokens.secret_hash(secret), timezone.now()
        feed.save(update_fields=["key_hash", "created_at"])
    action = "calendar_feed.created" if created else "calendar_feed.rotated"
    audit_record(org=org, actor=user, action=action, target=feed)
    return tokens.org_token(org.pk, secret)


@transaction.atomic
def calendar_feed_revoke(*, org: Organization, user: User) -> bool:
    """Delete the member's feed, so that its address answers 404; whether there was one."""
    feed = CalendarFeed.objects.filter(user=user).first()
    if feed is None:
        return False
    audit_record(org=org, actor=user, action="calendar_feed.revoked", target=feed)
    feed.delete()
    return True


def calendar_feed_owner(token: str) -> tuple[Organization, Membership] | None:
    """The organisation and the membership whose live feed `token` opens, or None. Every
    wrong token costs the same three queries, whichever part of it is wrong; run it in a
    transaction."""
    org_id, secret = tokens.split(token)
    org = Organization.objects.filter(pk=org_id).first()
    with activate(org or _NOBODY):
        feeds = CalendarFeed.objects.filter(key_hash=tokens.secret_hash(secret))
        user_id, made = feeds.values_list("user_id", "created_at").first() or _NO_FEED
        # Still a member, and since before the feed was made: a member removed and invited
        # back does not get their old address back.
        member = Membership.objects.filter(user_id=user_id, created_at__lte=made)
        membership = member.select_related("user").defer("user__password").first()
    if org is None or not secret or membership is None:
        return None
    membership.org = org
    return org, membership


# --- The feed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """What one task or meeting puts in the feed, before it is written out."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    url: str
    stamp: datetime


def calendar_feed_render(
    *, org: Organization, membership: Membership, site: str, now: datetime
) -> str:
    """The member's feed as iCalendar text; `site` is the app's address ("https://host"),
    which the links and the UIDs use. Run it with `org` active: two queries."""
    host = urlsplit(site).hostname or "localhost"
    user = membership.user
    tasks = _tasks(membership, now)
    meetings = _meetings(membership, now)[: MAX_ITEMS - len(tasks)]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(settings.PRODUCT_NAME)}//Calendar feed//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(f'{org.name} — {user.display_name}')}",
        f"NAME:{escape_text(f'{org.name} — {user.display_name}')}",
        # How often to fetch it again, for the apps that listen (RFC 7986, and Outlook's).
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for task in tasks:
        item = _task_item(task, org, site, host)
        lines += _component("VTODO", item, [
            f"DUE:{_utc(item.start)}", "STATUS:NEEDS-ACTION",
            f"PRIORITY:{_PRIORITY.get(task.priority, 5)}",
        ])  # fmt: skip
        due = replace(item, uid=f"task-{task.pk}-due@{host}", summary=f"Task: {task.title}")
        lines += _component("VEVENT", due, [*_event(due), "TRANSP:TRANSPARENT"])
    for meeting in meetings:
        item = _meeting_item(meeting, org, site, host)
        lines += _component("VEVENT", item, _event(item))
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)


def _tasks(membership: Membership, now: datetime) -> list[Task]:
    """The member's open tasks due in the window, the first due first."""
    found = selectors.task_list(membership).filter(
        assignee_id=membership.user_id, status=Task.Status.OPEN,
        due_at__gte=now - PAST, due_at__lt=now + AHEAD,
    )  # fmt: skip
    return list(found.order_by("due_at", "id")[:MAX_ITEMS])


def _meetings(membership: Membership, now: datetime) -> list[Interaction]:
    """The meetings the member logged in the window, the latest first."""
    found = selectors.interaction_list(membership).filter(
        author_id=membership.user_id, channel=Interaction.Channel.MEETING,
        occurred_at__gte=now - PAST, occurred_at__lt=now + AHEAD,
    )  # fmt: skip
    return list(found.order_by("-occurred_at", "-id")[:MAX_ITEMS])


def _task_item(task: Task, org: Organization, site: str, host: str) -> _Item:
    url = site + reverse("tasks:detail", args=[org.slug, task.pk])
    due = cast(datetime, task.due_at)  # the query takes only tasks with a due time
    return _Item(
        uid=f"task-{task.pk}@{host}", start=due, end=due + TASK_LENGTH,
        summary=task.title, description=_description(task.notes, task, url),
        url=url, stamp=task.updated_at,
    )  # fmt: skip


def _meeting_item(meeting: Interaction, org: Organization, site: str, host: str) -> _Item:
    url = site + reverse("interactions:detail", args=[org.slug, meeting.pk])
    length = timedelta(seconds=meeting.duration) if meeting.duration else MEETING_LENGTH
    return _Item(
        uid=f"meeting-{meeting.pk}@{host}", start=meeting.occurred_at,
        end=meeting.occurred_at + length, summary=meeting.subject or "Meeting",
        description=_description(meeting.body, meeting, url), url=url,
        stamp=meeting.updated_at,
    )  # fmt: skip


def _description(text: str, record: Task | Interaction, url: str) -> str:
    """The item's text, whom it is with, and the link to it in the app."""
    parts = [text[:TEXT_LIMIT].strip()]
    if record.contact is not None:
        parts.append(f"Contact: {record.contact}")
    if record.company is not None:
        parts.append(f"Company: {record.company}")
    parts.append(url)
    return "\n\n".join(part for part in parts if part)


def _event(item: _Item) -> list[str]:
    return [f"DTSTART:{_utc(item.start)}", f"DTEND:{_utc(item.end)}"]


def _component(name: str, item: _Item, extra: list[str]) -> list[str]:
    return [
        f"BEGIN:{name}",
        f"UID:{escape_text(item.uid)}",
        f"DTSTAMP:{_utc(item.stamp)}",
        f"SUMMARY:{escape_text(item.summary)}",
        *extra,
        f"DESCRIPTION:{escape_text(item.description)}",
        f"URL:{item.url}",
        f"END:{name}",
    ]


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """A TEXT value as RFC 5545 writes it (3.3.11): backslashes, semicolons and commas
    escaped, each line break as \\n, and no other control characters."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return value.translate(_CONTROLS)


def fold_line(line: str) -> str:
    """One content line folded as RFC 5545 asks (3.1): no line longer than 75 octets of
    UTF-8, each continuation starting with a space, and no character split in two."""
    data = line.encode("utf-8", "surrogatepass")
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts before
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # the space that starts a continuation is one of its 75
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8", "surrogatepass")
