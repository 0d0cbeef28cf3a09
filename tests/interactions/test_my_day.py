"""interactions.home.my_day: the home page's My day panel, of the member's own open tasks
(overdue, today, the next seven days) and the interactions they logged last."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from crm.records import registry
from tests.factories import ContactFactory, InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday morning


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _panel(client: Client) -> str:
    html = client.get("/o/acme/").content.decode()
    return html[html.index('<div class="my-day">') : html.index('id="my-recent-title"')]


def test_it_groups_my_open_tasks_by_when_they_are_due(client: Client, acme, alice) -> None:
    for title, due in [("Next week one", NOW + timedelta(days=3)), ("Late one", NOW - timedelta(1)),
                       ("Today one", NOW + timedelta(hours=5)), ("Far one", NOW + timedelta(20)),
                       ("Undated one", None)]:  # fmt: skip
        TaskFactory(org=acme, by=alice, owner=alice, title=title, due_at=due)
    client.force_login(alice)
    panel = _panel(client)
    order = ["Overdue", "Late one", "Today", "Today one", "Next 7 days", "Next week one"]
    at = [panel.index(text) for text in order]
    assert at == sorted(at)
    assert "Far one" not in panel
    assert "Undated one" not in panel


def test_it_shows_only_my_open_tasks(client: Client, acme, alice, rita) -> None:
    TaskFactory(
        org=acme, by=alice, owner=alice, title="Mine today", due_at=NOW + timedelta(hours=1)
    )
    TaskFactory(org=acme, by=alice, owner=rita, title="Rita today", due_at=NOW + timedelta(hours=1))
    TaskFactory(org=acme, by=rita, title="Nobody's today", due_at=NOW + timedelta(hours=1))
    done = TaskFactory(org=acme, by=alice, owner=alice, title="Done today", due_at=NOW)
    client.force_login(alice)
    client.post(f"/o/acme/tasks/{done.pk}/complete/")
    panel = _panel(client)
    assert "Mine today" in panel
    assert "Rita today" not in panel
    assert "Nobody" not in panel
    assert "Done today" not in panel


def test_a_task_is_completed_from_the_panel_by_htmx_and_keeps_its_contact(
    client: Client, acme, alice
) -> None:
    contact = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    task = TaskFactory(org=acme, by=alice, owner=alice, contact=contact, due_at=NOW - timedelta(1))
    client.force_login(alice)
    panel = _panel(client)
    assert f'hx-post="/o/acme/tasks/{task.pk}/complete/" hx-target="#task-{task.pk}"' in panel
    assert 'class="is-overdue"' in panel
    assert 'name="show_record" value="1"' in panel
    link = f'<a href="/o/acme/contacts/{contact.pk}/">Ada Lovelace</a>'
    data = {"next": "/o/acme/", "show_record": "1"}  # what the line's form posts
    line = client.post(f"/o/acme/tasks/{task.pk}/complete/", data, headers={"HX-Request": "true"})
    html = line.content.decode()
    assert 'class="task-line is-done"' in html
    assert link in html
    assert 'class="is-overdue"' not in html


def test_it_lists_the_interactions_i_logged_last(client: Client, acme, alice, rita) -> None:
    contact = ContactFactory(org=acme)
    for n in range(8):
        InteractionFactory(org=acme, by=alice, contact=contact, subject=f"Call {n}",
                           occurred_at=NOW - timedelta(hours=10 - n))  # fmt: skip
    InteractionFactory(org=acme, by=rita, contact=contact, subject="Rita's call")
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    recent = html[html.index('id="my-recent-title"') :]
    recent = recent[: recent.index("</section>")]
    shown = [n for n in range(8) if f">Call {n}</a>" in recent]
    assert shown == [2, 3, 4, 5, 6, 7]  # the last six
    assert recent.index("Call 7") < recent.index("Call 2")
    assert "Rita" not in recent


def test_it_says_so_when_the_week_is_clear(client: Client, acme, alice) -> None:
    ContactFactory(org=acme)  # an organisation with records: the panels show
    TaskFactory(org=acme, by=alice, owner=alice, due_at=NOW + timedelta(days=30))
    client.force_login(alice)
    html = client.get("/o/acme/").content.decode()
    assert "You're clear for the week." in html
    assert "Calls, emails and meetings you log show here." in html
    assert 'href="/o/acme/tasks/new/?next=/o/acme/"' in html


def test_a_viewer_is_offered_no_new_task(client: Client, acme, alice, bob) -> None:
    TaskFactory(org=acme, by=alice, owner=bob, title="Read the brief", due_at=NOW)
    client.force_login(bob)
    html = client.get("/o/acme/").content.decode()
    assert "Read the brief" in html
    assert "/o/acme/tasks/new/" not in html


def test_today_is_the_organisations_today(client: Client, acme, alice) -> None:
    acme.time_zone = "Pacific/Auckland"  # 23:00 there: tomorrow begins in an hour
    acme.save()
    TaskFactory(
        org=acme, by=alice, owner=alice, title="Late tonight", due_at=NOW + timedelta(minutes=30)
    )
    TaskFactory(
        org=acme, by=alice, owner=alice, title="Past midnight", due_at=NOW + timedelta(hours=2)
    )
    client.force_login(alice)
    panel = _panel(client)
    assert panel.index("Today") < panel.index("Late tonight") < panel.index("Next 7 days")
    assert panel.index("Next 7 days") < panel.index("Past midnight")
    assert "Tomorrow, 01:00" in panel


@pytest.mark.parametrize("count", [2, 20])
def test_the_home_page_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, count, django_assert_max_num_queries
) -> None:
    contact = ContactFactory(org=acme)
    for n in range(count):
        TaskFactory(org=acme, by=alice, owner=alice, contact=contact, due_at=NOW + timedelta(n))
        InteractionFactory(org=acme, by=alice, contact=contact, occurred_at=NOW - timedelta(n))
    client.force_login(alice)
    client.get("/o/acme/")
    # The session, the member, their organisation and the tenancy's own (seven), a count per
    # kind, the records changed lately of the three kinds that have any, My day's two, and
    # My tickets' two (an admin works tickets).
    with django_assert_max_num_queries(7 + len(registry.kinds()) + 3 + 2 + 2):
        assert "My tasks" in client.get("/o/acme/").content.decode()
