"""interactions.selectors.record_timeline: a record's interactions and its done tasks merged
by time, paged by keyset ("i…" and "t…" tokens) through the timeline's URL."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from crm.tenancy import activate
from interactions.selectors import record_timeline
from interactions.services import task_complete
from tests.factories import ContactFactory, InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
ENTRY = re.compile(r'id="(interaction|timeline-task)-(\d+)"')
OLDER = re.compile(r'hx-get="[^"]*\?before=([^"&]+)')


def _done(org, by, contact, at, title="Done"):
    task = TaskFactory(org=org, by=by, owner=by, contact=contact, title=title)
    with time_machine.travel(at, tick=False), activate(org):
        task_complete(org=org, task=task, by=by)
    return task


def _page(client, contact, query=""):
    html = client.get(f"/o/acme/contacts/{contact.pk}/interactions/{query}", headers=HTMX)
    html = html.content.decode()
    older = OLDER.search(html)
    entries = [("i" if kind == "interaction" else "t", int(pk)) for kind, pk in ENTRY.findall(html)]
    return entries, older.group(1) if older else None


def _mix(acme, alice, contact):
    """25 interactions a minute apart and 10 tasks done two by two at the same minutes as
    some of them: the order every page must follow, newest first (an interaction before a
    task done at the same instant, then the higher id first)."""
    calls = [
        InteractionFactory(
            org=acme, by=alice, contact=contact, occurred_at=AT + timedelta(minutes=n)
        )
        for n in range(25)
    ]
    tasks = [_done(acme, alice, contact, AT + timedelta(minutes=n // 2 * 2 + 1)) for n in range(10)]
    keyed = [((c.occurred_at, 1, c.pk), ("i", c.pk)) for c in calls]
    with activate(acme):
        tasks = [type(t).objects.get(pk=t.pk) for t in tasks]
    keyed += [((t.completed_at, 0, t.pk), ("t", t.pk)) for t in tasks]
    return [entry for _, entry in sorted(keyed, reverse=True)]


def test_a_done_task_shows_at_the_time_it_was_done(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    older = InteractionFactory(org=acme, by=alice, contact=contact, occurred_at=AT)
    newer = InteractionFactory(org=acme, by=alice, contact=contact, occurred_at=AT + timedelta(2))
    task = _done(acme, alice, contact, AT + timedelta(days=1), title="Sent the quote")
    TaskFactory(org=acme, by=alice, contact=contact, title="Still open")
    client.force_login(alice)
    entries, older_token = _page(client, contact)
    assert entries == [("i", newer.pk), ("t", task.pk), ("i", older.pk)]
    html = client.get(f"/o/acme/contacts/{contact.pk}/").content.decode()
    assert "Task done" in html
    assert "Sent the quote" in html
    assert older_token is None


def test_older_visits_every_entry_once_in_order(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    expected = _mix(acme, alice, contact)
    client.force_login(alice)
    seen, token = _page(client, contact)
    pages = 1
    while token:
        entries, token = _page(client, contact, f"?before={token}")
        seen += entries
        pages += 1
    assert seen == expected
    assert pages == 2  # 20, then 15


def test_small_pages_cross_every_tie_between_interactions_and_tasks(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    expected = _mix(acme, alice, contact)
    seen, token = [], None
    with activate(acme):
        while True:
            page = record_timeline(contact, before=token, limit=3)
            seen += [("t" if hasattr(e, "completed_at") else "i", e.pk) for e in page.entries]
            token = page.next_token
            if not token:
                break
    assert seen == expected


def test_a_channel_shows_no_tasks(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    call = InteractionFactory(org=acme, by=alice, contact=contact, channel="call", occurred_at=AT)
    InteractionFactory(org=acme, by=alice, contact=contact, channel="note", occurred_at=AT)
    _done(acme, alice, contact, AT + timedelta(hours=1))
    client.force_login(alice)
    entries, _ = _page(client, contact, "?channel=call")
    assert entries == [("i", call.pk)]
    assert len(_page(client, contact)[0]) == 3


@pytest.mark.parametrize("token", ["garbage", "t", "x123.4", "t99999999999999999999.1", "i-.5"])
def test_a_token_it_cannot_read_gives_the_first_page(client: Client, acme, alice, token) -> None:
    contact = ContactFactory(org=acme)
    _mix(acme, alice, contact)
    client.force_login(alice)
    first = _page(client, contact)
    assert len(first[0]) == 20
    assert _page(client, contact, f"?before={token}") == first
