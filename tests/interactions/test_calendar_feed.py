"""A member's calendar feed: the services that make and revoke its address, what the feed
holds, iCalendar's escaping and folding, and the page at /o/<org>/tasks/calendar/."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm.models import AuditEvent, Membership
from crm.tenancy import activate
from interactions.calendar import (
    calendar_feed_render,
    calendar_feed_revoke,
    calendar_feed_rotate,
    escape_text,
    fold_line,
)
from interactions.models import CalendarFeed
from interactions.services import task_complete, task_delete
from tests.factories import CompanyFactory, ContactFactory, InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/tasks/calendar/"
SITE = "https://crm.example.com"
# The user, their memberships (with the request's savepoint and settings around them), and
# the feed.
QUERIES_PAGE = 8


def _render(org, user, now=None) -> str:
    with activate(org):
        membership = Membership.objects.select_related("user").get(user=user)
        now = now or timezone.now()
        return calendar_feed_render(org=org, membership=membership, site=SITE, now=now)


def _unfolded(feed: str) -> list[str]:
    return feed.replace("\r\n ", "").split("\r\n")


def _rotate(org, user) -> str:
    with activate(org):
        return calendar_feed_rotate(org=org, user=user)


def _soon(hours: int = 24) -> datetime:
    return timezone.now().replace(microsecond=0) + timedelta(hours=hours)


# --- Escaping and folding (RFC 5545 3.3.11 and 3.1) ----------------------------------------


def test_it_escapes_backslashes_semicolons_commas_and_line_breaks():
    assert escape_text("a\\b;c,d") == "a\\\\b\\;c\\,d"
    assert escape_text("one\ntwo\r\nthree\rfour") == "one\\ntwo\\nthree\\nfour"
    assert escape_text("C:\\new") == "C:\\\\new"  # the backslash first: no \n made of it


def test_it_drops_control_characters_but_keeps_tabs():
    assert escape_text("a\x00b\x07c\td\x7f") == "abc\td"


def test_it_leaves_a_short_line_alone():
    line = "SUMMARY:" + "x" * 67  # 75 octets
    assert fold_line(line) == line


def test_it_folds_a_long_line_at_75_octets():
    line = "DESCRIPTION:" + "abcdefghij" * 30
    folded = fold_line(line).split("\r\n")
    # 312 octets: 75 on the first line, then a space and 74 on each, and the last 15.
    assert [len(part.encode()) for part in folded] == [75, 75, 75, 75, 16]
    assert all(part.startswith(" ") for part in folded[1:])
    assert "".join(part[1:] if n else part for n, part in enumerate(folded)) == line


def test_it_never_splits_a_character_when_folding():
    line = "SUMMARY:" + "é€😀" * 40  # two, three and four octets each
    folded = fold_line(line).split("\r\n")
    assert all(len(part.encode()) <= 75 for part in folded)
    assert all(part.startswith(" ") for part in folded[1:])
    assert fold_line(line).replace("\r\n ", "") == line


# --- Rotating and revoking -----------------------------------------------------------------


def test_it_stores_only_the_hash_of_the_secret(acme, rita):
    token = _rotate(acme, rita)
    org_id, _, secret = token.partition(".")
    assert org_id == str(acme.pk)
    assert len(secret) >= 43
    with activate(acme):
        feed = CalendarFeed.objects.get(user=rita)
        assert feed.key_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert AuditEvent.objects.filter(action="calendar_feed.created", actor=rita).count() == 1


def test_rotating_replaces_the_members_feed(acme, rita):
    first = _rotate(acme, rita)
    second = _rotate(acme, rita)
    assert first != second
    with activate(acme):
        [feed] = CalendarFeed.objects.all()
        assert feed.key_hash == hashlib.sha256(second.partition(".")[2].encode()).hexdigest()
        assert AuditEvent.objects.filter(action="calendar_feed.rotated").count() == 1


def test_revoking_deletes_the_feed_and_is_audited(acme, rita, sam):
    _rotate(acme, rita)
    _rotate(acme, sam)
    with activate(acme):
        assert calendar_feed_revoke(org=acme, user=rita) is True
        assert calendar_feed_revoke(org=acme, user=rita) is False
        assert list(CalendarFeed.objects.values_list("user", flat=True)) == [sam.pk]
        assert AuditEvent.objects.filter(action="calendar_feed.revoked", actor=rita).count() == 1


# --- What the feed holds -------------------------------------------------------------------


def test_it_names_the_calendar_after_the_organisation_and_the_member(acme, rita):
    lines = _unfolded(_render(acme, rita))
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]
    assert "PRODID:-//Kestrel CRM//Calendar feed//EN" in lines
    assert "X-WR-CALNAME:Acme — Rita Reyes" in lines
    assert lines[-2:] == ["END:VCALENDAR", ""]


def test_it_lists_my_open_tasks_as_a_todo_and_an_event(acme, rita):
    due = _soon()
    task = TaskFactory(org=acme, by=rita, title="Send the quote", assignee=rita, due_at=due,
                       notes="Twenty seats", priority="high")  # fmt: skip
    lines = _unfolded(_render(acme, rita))
    stamp = due.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = (due + timedelta(minutes=15)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    url = f"{SITE}/o/acme/tasks/{task.pk}/"
    todo = lines[lines.index("BEGIN:VTODO") : lines.index("END:VTODO")]
    assert f"UID:task-{task.pk}@crm.example.com" in todo
    assert {"SUMMARY:Send the quote", f"DUE:{stamp}", "PRIORITY:1", f"URL:{url}"} <= set(todo)
    assert f"DESCRIPTION:Twenty seats\\n\\n{url}" in todo
    event = lines[lines.index("BEGIN:VEVENT") : lines.index("END:VEVENT")]
    assert f"UID:task-{task.pk}-due@crm.example.com" in event
    assert {"SUMMARY:Task: Send the quote", f"DTSTART:{stamp}", f"DTEND:{end}"} <= set(event)
    assert "TRANSP:TRANSPARENT" in event


def test_it_leaves_out_others_done_deleted_and_distant_tasks(acme, rita, sam):
    mine = TaskFactory(org=acme, by=rita, title="Mine", assignee=rita)
    TaskFactory(org=acme, by=rita, title="Sams", assignee=sam)
    TaskFactory(org=acme, by=rita, title="Far", assignee=rita, due_at=_soon(24 * 400))
    TaskFactory(org=acme, by=rita, title="Old", assignee=rita, due_at=_soon(-24 * 31))
    done = TaskFactory(org=acme, by=rita, title="Done", assignee=rita)
    gone = TaskFactory(org=acme, by=rita, title="Gone", assignee=rita)
    with activate(acme):
        task_complete(org=acme, task=done, by=rita)
        task_delete(org=acme, task=gone, by=rita)
    feed = _render(acme, rita)
    assert re.findall(r"SUMMARY:(.*)\r\n", feed) == ["Mine", "Task: Mine"]
    assert f"task-{mine.pk}@" in feed


def test_undated_tasks_are_not_in_it(acme, rita):
    TaskFactory(org=acme, by=rita, title="Someday", assignee=rita, due_at=None)
    assert "Someday" not in _render(acme, rita)


def test_it_lists_the_meetings_i_logged_with_their_length(acme, rita, sam):
    when = timezone.now().replace(microsecond=0) - timedelta(days=2)
    company = CompanyFactory(org=acme, name="Analytical Engines")
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", company=company)
    meeting = InteractionFactory(
        org=acme, by=rita, channel="meeting", subject="Demo, part 2", occurred_at=when,
        duration=5400, contact=ada, body="Agenda",
    )  # fmt: skip
    InteractionFactory(org=acme, by=sam, channel="meeting", subject="Sam's meeting")
    InteractionFactory(org=acme, by=rita, channel="call", subject="A call")
    InteractionFactory(org=acme, by=rita, channel="meeting", subject="Long ago",
                       occurred_at=when - timedelta(days=40))  # fmt: skip
    lines = _unfolded(_render(acme, rita))
    assert [line for line in lines if line.startswith("SUMMARY:")] == ["SUMMARY:Demo\\, part 2"]
    url = f"{SITE}/o/acme/interactions/{meeting.pk}/"
    assert f"UID:meeting-{meeting.pk}@crm.example.com" in lines
    assert f"DTSTART:{when.astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    assert f"DTEND:{(when + timedelta(minutes=90)).astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    description = "Agenda\\n\\nContact: Ada Lovelace\\n\\nCompany: Analytical Engines\\n\\n"
    assert f"DESCRIPTION:{description}{url}" in lines


def test_a_meeting_without_a_duration_lasts_half_an_hour(acme, rita):
    when = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    InteractionFactory(org=acme, by=rita, channel="meeting", subject="", occurred_at=when)
    lines = _unfolded(_render(acme, rita))
    assert "SUMMARY:Meeting" in lines
    assert f"DTEND:{(when + timedelta(minutes=30)).astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines


def test_every_line_of_a_wordy_feed_is_folded_and_escaped(acme, rita):
    notes = "Línea uno; con, comas\\n y más " * 20 + "\nsegunda línea"
    TaskFactory(org=acme, by=rita, title="Überprüfen, bitte; jetzt", assignee=rita, notes=notes)
    feed = _render(acme, rita)
    assert feed.endswith("\r\n")
    assert "\n" not in feed.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in feed.split("\r\n"))
    assert "SUMMARY:Überprüfen\\, bitte\\; jetzt" in _unfolded(feed)
    description = next(x for x in _unfolded(feed) if x.startswith("DESCRIPTION:"))
    assert description.startswith("DESCRIPTION:Línea uno\\; con\\, comas\\\\n y más")
    assert "\\nsegunda línea\\n\\n" in description


def test_it_keeps_to_the_item_limit_tasks_first(acme, rita, monkeypatch):
    monkeypatch.setattr("interactions.calendar.MAX_ITEMS", 2)
    for n in range(3):
        TaskFactory(org=acme, by=rita, title=f"T{n}", assignee=rita, due_at=_soon(n + 1))
    InteractionFactory(org=acme, by=rita, channel="meeting", subject="M")
    feed = _render(acme, rita)
    assert re.findall(r"SUMMARY:(.*)\r\n", feed) == ["T0", "Task: T0", "T1", "Task: T1"]


# --- The page ------------------------------------------------------------------------------


def test_the_page_offers_an_address_when_there_is_none(client: Client, rita):
    client.force_login(rita)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert b"You have no calendar address yet." in response.content
    assert b'action="/o/acme/tasks/calendar/rotate/"' in response.content


def test_getting_an_address_shows_it_once(client: Client, acme, rita, settings):
    settings.SITE_URL = "https://crm.example.com/"
    client.force_login(rita)
    response = client.post(f"{PAGE}rotate/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    address = re.search(r'value="https://crm.example.com(/calendar/([^"/]+)\.ics)"', page)
    assert address is not None
    assert f'href="webcal://crm.example.com/calendar/{address[2]}.ics"' in page
    assert client.get(address[1]).status_code == 200
    page = client.get(PAGE).content.decode()
    assert "You have an address since" in page
    assert address[2] not in page


def test_without_a_site_url_the_address_is_the_requests(client: Client, rita, settings):
    settings.SITE_URL = ""
    client.force_login(rita)
    page = client.post(f"{PAGE}rotate/", secure=True).content.decode()
    assert re.search(r'value="https://testserver/calendar/[^"/]+\.ics"', page)


def test_a_new_address_replaces_the_old_one(client: Client, acme, rita):
    old = _rotate(acme, rita)
    client.force_login(rita)
    client.post(f"{PAGE}rotate/")
    assert client.get(f"/calendar/{old}.ics").status_code == 404


def test_turning_the_address_off_deletes_it(client: Client, acme, rita):
    token = _rotate(acme, rita)
    client.force_login(rita)
    response = client.post(f"{PAGE}revoke/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert b"Calendar address turned off" in response.content
    assert b"You have no calendar address yet." in response.content
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_member_manages_only_their_own_feed(client: Client, acme, rita, sam):
    sams = _rotate(acme, sam)
    client.force_login(rita)
    client.post(f"{PAGE}rotate/")
    client.post(f"{PAGE}revoke/")
    assert client.get(f"/calendar/{sams}.ics").status_code == 200
    with activate(acme):
        assert list(CalendarFeed.objects.values_list("user", flat=True)) == [sam.pk]


def test_a_viewer_may_have_a_feed(client: Client, acme, bob, settings):
    settings.SITE_URL = "http://testserver"
    TaskFactory(org=acme, title="Read the report", assignee=bob)
    client.force_login(bob)
    response = client.post(f"{PAGE}rotate/")
    address = re.search(r'value="http://testserver(/calendar/[^"]+)"', response.content.decode())
    assert address is not None
    assert b"SUMMARY:Read the report" in client.get(address[1]).content


def test_the_page_and_its_posts_need_a_member(client: Client, acme, rita, globex, charlie):
    _rotate(acme, rita)
    for method, path in [("GET", PAGE), ("POST", f"{PAGE}rotate/"), ("POST", f"{PAGE}revoke/")]:
        assert client.generic(method, path).status_code == 302  # to the login page
    client.force_login(charlie)  # a member of Globex only
    for method, path in [("GET", PAGE), ("POST", f"{PAGE}rotate/"), ("POST", f"{PAGE}revoke/")]:
        assert client.generic(method, path).status_code == 404
    with activate(acme):
        assert CalendarFeed.objects.filter(user=rita).exists()
    with activate(globex):
        assert not CalendarFeed.objects.exists()


def test_rotating_and_revoking_take_posts_only(client: Client, rita):
    client.force_login(rita)
    assert client.get(f"{PAGE}rotate/").status_code == 405
    assert client.get(f"{PAGE}revoke/").status_code == 405
    assert client.post(PAGE).status_code == 405


def test_the_palette_finds_the_page(client: Client, bob):
    client.force_login(bob)
    response = client.get("/o/acme/find/", {"q": "ical"})
    assert PAGE in response.content.decode()


def test_the_page_pins_its_queries(client: Client, acme, rita, django_assert_num_queries):
    _rotate(acme, rita)
    client.force_login(rita)
    client.get(PAGE)  # warm: the session and the member's organisations
    with django_assert_num_queries(QUERIES_PAGE):
        assert client.get(PAGE).status_code == 200
