"""interactions.notification_views: the bell's menu, the page of all of a member's
notifications, opening one and marking them read."""

import pytest
from django.test import Client

from crm.tenancy import activate
from interactions.models import Notification
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _given(acme, by, to, *titles):
    """A task given by `by` to `to` for each title: a notification of each for `to`."""
    tasks = [TaskFactory(org=acme, by=by, owner=to, title=title) for title in titles]
    with activate(acme):
        return [Notification.objects.get(task=task) for task in tasks]


def _note(acme, pk):
    with activate(acme):
        return Notification.objects.get(pk=pk)


def _many(acme, user, count):
    with activate(acme):
        Notification.objects.bulk_create(
            Notification(org=acme, user=user, kind="reminder", key=f"test:{n}",
                         title=f"Note {n:02d}", url="/o/acme/") for n in range(count)
        )  # fmt: skip


def test_the_menu_shows_the_unread_count_and_the_latest(client: Client, acme, alice, rita) -> None:
    first, _, last = _given(acme, alice, rita, "Call Ada", "Send quote", "Book room")
    _given(acme, rita, alice, "For Alice only")  # another member's: not counted
    client.force_login(rita)
    client.get(f"/o/acme/notifications/{first.pk}/")  # read
    html = client.get("/o/acme/notifications/menu/", headers=HTMX).content.decode()
    assert '<span class="count-badge notifications__count">2</span>' in html
    assert html.index("Book room") < html.index("Send quote") < html.index("Call Ada")
    assert f'href="/o/acme/notifications/{last.pk}/"' in html
    assert "For Alice" not in html


def test_opening_one_marks_it_read_and_goes_where_it_points(client: Client, acme, alice, rita):
    (note,) = _given(acme, alice, rita, "Call Ada")
    client.force_login(rita)
    response = client.get(f"/o/acme/notifications/{note.pk}/")
    assert response["Location"] == f"/o/acme/tasks/{note.task_id}/"
    assert _note(acme, note.pk).read_at is not None


def test_one_pointing_off_the_site_opens_the_list(client: Client, acme, alice, rita) -> None:
    (note,) = _given(acme, alice, rita, "Call Ada")
    with activate(acme):
        Notification.objects.filter(pk=note.pk).update(url="https://evil.example/")
    client.force_login(rita)
    assert client.get(f"/o/acme/notifications/{note.pk}/")["Location"] == "/o/acme/notifications/"


def test_another_members_notification_is_not_found(client: Client, acme, alice, rita, sam):
    (note,) = _given(acme, alice, rita, "Call Ada")
    client.force_login(sam)
    assert client.get(f"/o/acme/notifications/{note.pk}/").status_code == 404
    client.post("/o/acme/notifications/read/")
    assert _note(acme, note.pk).read_at is None
    assert "Call Ada" not in client.get("/o/acme/notifications/").content.decode()


def test_another_organisation_sees_none_of_them(client: Client, acme, alice, rita, charlie):
    (note,) = _given(acme, alice, rita, "Call Ada")
    client.force_login(charlie)
    assert client.get(f"/o/globex/notifications/{note.pk}/").status_code == 404
    assert client.get("/o/acme/notifications/menu/").status_code == 404
    assert "Call Ada" not in client.get("/o/globex/notifications/").content.decode()


def test_mark_all_read_by_htmx_answers_the_menu_without_a_count(client: Client, acme, alice, rita):
    notes = _given(acme, alice, rita, "Call Ada", "Send quote")
    client.force_login(rita)
    html = client.post("/o/acme/notifications/read/", headers=HTMX).content.decode()
    assert '<span id="notifications-count" hx-swap-oob="true"></span>' in html
    assert "Mark all read" not in html
    assert "Send quote" in html
    assert all(_note(acme, note.pk).read_at is not None for note in notes)


def test_mark_all_read_without_javascript_goes_back_to_the_list(client: Client, acme, alice, rita):
    (note,) = _given(acme, alice, rita, "Call Ada")
    client.force_login(rita)
    assert "Mark all read" in client.get("/o/acme/notifications/").content.decode()
    response = client.post("/o/acme/notifications/read/")
    assert response["Location"] == "/o/acme/notifications/"
    assert _note(acme, note.pk).read_at is not None
    assert "Mark all read" not in client.get("/o/acme/notifications/").content.decode()


def test_the_page_lists_them_thirty_at_a_time(client: Client, acme, rita) -> None:
    _many(acme, rita, 35)
    client.force_login(rita)
    first = client.get("/o/acme/notifications/").content.decode()
    second = client.get("/o/acme/notifications/?page=2").content.decode()
    assert first.count("notifications__title") == 30
    assert second.count("notifications__title") == 5
    assert "Note 34" in first
    assert "Note 05" in first
    assert "Note 04" not in first
    assert "Note 04" in second
    assert "Note 00" in second


def test_the_page_says_so_when_there_are_none(client: Client, acme, rita) -> None:
    client.force_login(rita)
    assert "No notifications yet" in client.get("/o/acme/notifications/").content.decode()


def test_every_page_has_the_bell_that_loads_the_menu(client: Client, acme, bob) -> None:
    client.force_login(bob)
    for url in ("/o/acme/", "/o/acme/contacts/", "/o/acme/tasks/"):
        html = client.get(url).content.decode()
        assert 'hx-get="/o/acme/notifications/menu/" hx-trigger="load, every 60s"' in html, url
        assert "notifications__count" not in html  # the count comes by htmx, not the page


@pytest.mark.parametrize("count", [3, 40])
def test_the_menu_and_the_page_read_a_fixed_number_of_queries(
    client: Client, acme, rita, count, django_assert_max_num_queries
) -> None:
    _many(acme, rita, count)
    client.force_login(rita)
    client.get("/o/acme/notifications/menu/")
    with django_assert_max_num_queries(MENU_QUERIES):
        assert "Note" in client.get("/o/acme/notifications/menu/", headers=HTMX).content.decode()
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert "Note" in client.get("/o/acme/notifications/").content.decode()


# The session, the member, their organisation and the tenancy's own (seven), then the unread
# count and the latest; the page also counts them all for its pages.
MENU_QUERIES = 9
PAGE_QUERIES = 10
