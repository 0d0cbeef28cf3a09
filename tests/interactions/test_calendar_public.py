"""GET /calendar/<token>.ics: a member's feed, with no login; 404 for anything else."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm.models import Membership
from crm.services import membership_remove
from crm.tenancy import activate
from interactions.calendar import calendar_feed_revoke, calendar_feed_rotate
from tests.conftest import member
from tests.factories import InteractionFactory, TaskFactory

pytestmark = pytest.mark.django_db

# The organisation; in it (a savepoint and the setting, set and reset), the feed and its
# member; in it again, the tasks and the meetings; the view's own savepoint. A token that
# opens nothing costs the same as a good one, up to the tasks and meetings.
QUERIES = 15
WRONG = 10


def _address(org, user) -> str:
    with activate(org):
        return f"/calendar/{calendar_feed_rotate(org=org, user=user)}.ics"


def test_it_serves_the_members_calendar(client: Client, acme, rita, settings):
    settings.SITE_URL = "https://crm.example.com"
    TaskFactory(org=acme, by=rita, title="Send the quote", assignee=rita)
    response = client.get(_address(acme, rita))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert "X-WR-CALNAME:Acme — Rita Reyes\r\n" in body
    assert "SUMMARY:Send the quote\r\n" in body
    assert "URL:https://crm.example.com/o/acme/tasks/" in body
    assert "@crm.example.com\r\n" in body  # the UIDs


def test_it_shows_only_that_members_items(client: Client, acme, rita, sam):
    TaskFactory(org=acme, title="Ritas task", assignee=rita)
    TaskFactory(org=acme, title="Sams task", assignee=sam)
    InteractionFactory(org=acme, by=sam, channel="meeting", subject="Sams meeting")
    InteractionFactory(org=acme, by=rita, channel="meeting", subject="Ritas meeting")
    body = client.get(_address(acme, rita)).content.decode()
    assert "Ritas task" in body
    assert "Ritas meeting" in body
    assert "Sams" not in body


def test_it_answers_head(client: Client, acme, rita):
    response = client.head(_address(acme, rita))
    assert response.status_code == 200
    assert response.content == b""


def test_it_takes_no_posts(client: Client, acme, rita):
    address = _address(acme, rita)
    assert client.post(address).status_code == 405


def test_a_new_address_stops_the_old_one(client: Client, acme, rita):
    old = _address(acme, rita)
    new = _address(acme, rita)
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_a_revoked_address_answers_404(client: Client, acme, rita):
    address = _address(acme, rita)
    with activate(acme):
        calendar_feed_revoke(org=acme, user=rita)
    assert client.get(address).status_code == 404


def test_it_answers_404_once_the_member_has_left(client: Client, acme, alice, rita):
    TaskFactory(org=acme, title="Send the quote", assignee=rita)
    address = _address(acme, rita)
    with activate(acme):
        leaving = Membership.objects.select_related("user").get(user=rita)
        membership_remove(org=acme, membership=leaving, by=Membership.objects.get(user=alice))
    assert client.get(address).status_code == 404


def test_a_member_invited_back_needs_a_new_address(client: Client, acme, alice, rita):
    address = _address(acme, rita)
    with activate(acme):
        leaving = Membership.objects.select_related("user").get(user=rita)
        membership_remove(org=acme, membership=leaving, by=Membership.objects.get(user=alice))
        Membership.objects.create(org=acme, user=rita, role="rep")
    assert client.get(address).status_code == 404
    assert client.get(_address(acme, rita)).status_code == 200


def test_a_token_opens_its_own_organisation_only(client: Client, acme, rita, globex, charlie):
    TaskFactory(org=acme, title="Acme secret", assignee=rita)
    TaskFactory(org=globex, title="Globex task", assignee=charlie)
    body = client.get(_address(globex, charlie)).content.decode()
    assert "Globex task" in body
    assert "Acme" not in body


def test_another_organisations_id_with_a_token_answers_404(client: Client, acme, rita, globex,
                                                            charlie):  # fmt: skip
    _address(acme, rita)
    secret = _address(globex, charlie).removeprefix("/calendar/").partition(".")[2]
    # Globex's secret, presented as Acme's: it must not open any Acme feed.
    assert client.get(f"/calendar/{acme.pk}.{secret}").status_code == 404


@pytest.mark.parametrize(
    "token",
    ["nope", "1.nope", "999999.x", "..", ".", "1." + "a" * 43, "-1.x", "².x", "١٢.x", "0.x",
     "9" * 30 + ".x", "1." + "x" * 20_000, "1.\u00e9\u20ac", "1.%00"],
)  # fmt: skip
def test_it_answers_404_to_a_token_that_opens_nothing(client: Client, acme, rita, token):
    _address(acme, rita)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_it_answers_404_to_a_wrong_secret_and_to_no_secret(client: Client, acme, rita):
    address = _address(acme, rita)
    org_id, _, secret = address.removeprefix("/calendar/").removesuffix(".ics").partition(".")
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for token in (f"{org_id}.{wrong}", f"{org_id}.", org_id, f"{org_id}.{secret}x"):
        assert client.get(f"/calendar/{token}.ics").status_code == 404, token


def test_it_pins_its_queries(client: Client, acme, rita, django_assert_num_queries):
    address = _address(acme, rita)
    for n in range(5):
        due = timezone.now() + timedelta(hours=n + 1)
        TaskFactory(org=acme, title=f"Task {n}", assignee=rita, due_at=due)
        InteractionFactory(org=acme, by=rita, channel="meeting", subject=f"Meeting {n}")
    with django_assert_num_queries(QUERIES):
        assert client.get(address).content.count(b"BEGIN:VEVENT") == 10


def test_a_wrong_token_costs_no_more_queries(client: Client, acme, rita, django_assert_num_queries):
    _address(acme, rita)
    with django_assert_num_queries(WRONG):
        assert client.get(f"/calendar/{acme.pk}.wrong.ics").status_code == 404
    with django_assert_num_queries(WRONG):
        assert client.get("/calendar/².wrong.ics").status_code == 404


def test_it_reads_the_member_through_the_organisation(client: Client, acme, globex, rita):
    # Rita is in Acme only: a feed made for her in Globex (as a stale row would be) opens nothing.
    with activate(globex):
        token = calendar_feed_rotate(org=globex, user=rita)
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    member(globex, "rita2@globex.test", "rep")  # Globex has members, just not Rita
    assert client.get(f"/calendar/{token}.ics").status_code == 404
