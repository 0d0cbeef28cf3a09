"""/o/<org>/dashboards/support/: every figure of the support dashboard against numbers worked
out by hand from a small set of tickets in Acme, in Asia/Tokyo (no summer time) over March
2026, across two queues and two agents; one ticket is timed by a Paris calendar across the
night summer time starts there (Sunday 29 March, 02:00 becomes 03:00). Who may see it, its
CSV, and that neither the Trash nor Globex is counted."""

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from crm.models import Organization, Role
from crm.tenancy import activate
from support import services
from support.models import (
    BusinessCalendar,
    Priority,
    Queue,
    SlaPolicy,
    Status,
    Ticket,
    TicketEvent,
)
from tests.conftest import member
from tests.factories import QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db
TOKYO, PARIS = ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/Paris")
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=TOKYO)  # "last month" is March 2026
PAGE = "/o/acme/dashboards/support/"
MARCH = "?period=last_month"


def tokyo(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


def paris(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ava(acme: Organization) -> Any:
    """A second support agent in Acme."""
    return member(acme, "ava@acme.test", Role.AGENT, "Ava Adams")


def _ticket(org: Organization, queue: Queue, created: datetime, **facts: Any) -> Ticket:
    """A ticket made at `created`, then given its facts as they stood (due times, answers,
    ratings) directly: the figures are measured against these, not recomputed."""
    priority, owner = facts.pop("priority", Priority.NORMAL), facts.pop("owner", None)
    breaches = facts.pop("breaches", ())
    with time_machine.travel(created, tick=False), activate(org):
        ticket = TicketFactory(org=org, queue=queue, priority=priority, owner=owner)
    with activate(org):
        Ticket.objects.filter(pk=ticket.pk).update(**facts)
        ticket.refresh_from_db()
        # How long the customer waited, as the services keep it when it happens.
        answered, solved = ticket.first_response_at, ticket.solved_at
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_seconds=services.waited(org, ticket, answered) if answered else None,
            resolution_seconds=services.waited(org, ticket, solved) if solved else None,
        )
        for key, at in breaches:
            TicketEvent.objects.create(org=org, ticket=ticket, kind=TicketEvent.Kind.BREACHED,
                                       key=f"{key}:breach", at=at)  # fmt: skip
        ticket.refresh_from_db()
    return ticket


@pytest.fixture
def tickets(acme, globex, alice, sam, ava, charlie) -> dict[str, Ticket]:
    Organization.objects.filter(pk=acme.pk).update(time_zone="Asia/Tokyo")
    acme.refresh_from_db()
    with activate(acme):
        office = BusinessCalendar.objects.create(
            org=acme, name="Tokyo office", zone="Asia/Tokyo", weekly=[[[540, 1080]]] * 5 + [[], []]
        )
        always = BusinessCalendar.objects.create(
            org=acme, name="Paris, always", zone="Europe/Paris", weekly=[[[0, 1440]]] * 7
        )
        hours = SlaPolicy.objects.create(org=acme, name="Office hours", calendar=office)
        clock = SlaPolicy.objects.create(org=acme, name="Around the clock", calendar=always)
        billing = QueueFactory(org=acme, name="Billing", position=0, policy=hours)
        tech = QueueFactory(org=acme, name="Tech", position=1, policy=clock)
    solved = {"status": Status.SOLVED}
    t: dict[str, Ticket] = {}
    # Answered in 1 business hour (met), solved in 9 (10:00-18:00, then 9:00-10:00; missed).
    t["t1"] = _ticket(acme, billing, tokyo(3, 2, 10), owner=sam,
                      first_response_at=tokyo(3, 2, 11), first_response_due=tokyo(3, 2, 12),
                      solved_at=tokyo(3, 3, 10), resolution_due=tokyo(3, 3, 9, 30), **solved,
                      csat_score=5, csat_at=tokyo(3, 3, 12),
                      breaches=[("resolution", tokyo(3, 3, 9, 30))])  # fmt: skip
    # Friday 17:00, answered Monday 10:00: 2 business hours, 65 round the clock (missed).
    t["t2"] = _ticket(acme, billing, tokyo(3, 6, 17), owner=sam, priority=Priority.HIGH,
                      first_response_at=tokyo(3, 9, 10), first_response_due=tokyo(3, 6, 18),
                      status=Status.OPEN,
                      breaches=[("first_response", tokyo(3, 6, 18))])  # fmt: skip
    # Paris, Saturday 22:00 to Sunday 04:00 across the change: 5 real hours, not 6 on the
    # wall; solved at 10:00, 11 hours from creation. 06:00 on the 29th in Tokyo.
    t["t3"] = _ticket(acme, tech, paris(3, 28, 22), owner=ava, priority=Priority.URGENT,
                      first_response_at=paris(3, 29, 4), first_response_due=paris(3, 29, 3),
                      solved_at=paris(3, 29, 10), resolution_due=paris(3, 29, 12), **solved,
                      csat_score=3, csat_at=tokyo(3, 30, 9),
                      breaches=[("first_response", paris(3, 29, 3))])  # fmt: skip
    # Half an hour to answer (met), 48 hours to solve (missed).
    t["t4"] = _ticket(acme, tech, tokyo(3, 16, 9), owner=ava,
                      first_response_at=tokyo(3, 16, 9, 30), first_response_due=tokyo(3, 16, 10),
                      solved_at=tokyo(3, 18, 9), resolution_due=tokyo(3, 17, 9), **solved,
                      csat_score=4, csat_at=tokyo(3, 18, 10),
                      breaches=[("resolution", tokyo(3, 17, 9))])  # fmt: skip
    # 23:30 on 31 March in Tokyo (14:30 UTC): March's. Unassigned, new.
    t["t5"] = _ticket(acme, billing, tokyo(3, 31, 23, 30), priority=Priority.LOW)
    # 00:30 on 1 April in Tokyo (still 31 March in UTC): April's. Breached in April.
    t["t6"] = _ticket(acme, billing, tokyo(4, 1, 0, 30), owner=sam, status=Status.OPEN,
                      breaches=[("first_response", tokyo(4, 2, 9))])  # fmt: skip
    # Made in February, answered then, solved in March in 2 business hours with no due time
    # (its clock stopped while pending); rated just after March ended.
    t["t9"] = _ticket(acme, billing, tokyo(2, 27, 17), owner=ava,
                      first_response_at=tokyo(2, 27, 17, 30), solved_at=tokyo(3, 2, 10),
                      **solved, csat_score=1, csat_at=tokyo(4, 1, 0, 30))  # fmt: skip
    # In the Trash: none of its figures count.
    t["gone"] = _ticket(acme, billing, tokyo(3, 10, 10), owner=sam, deleted_at=tokyo(3, 20, 9),
                        first_response_at=tokyo(3, 10, 11), solved_at=tokyo(3, 11, 10),
                        **solved, csat_score=1, csat_at=tokyo(3, 12, 10),
                        breaches=[("resolution", tokyo(3, 11, 9))])  # fmt: skip
    # Globex's: never Acme's figures.
    with activate(globex):
        theirs = QueueFactory(org=globex, name="Billing")
    t["globex"] = _ticket(globex, theirs, tokyo(3, 5, 10), first_response_at=tokyo(3, 5, 11),
                          solved_at=tokyo(3, 5, 12), **solved, csat_score=1,
                          csat_at=tokyo(3, 6, 10),
                          breaches=[("resolution", tokyo(3, 5, 11))])  # fmt: skip
    return t


def _body(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _card(body: str, key: str) -> str:
    start = body.index(f'id="card-{key}"')
    return body[start : body.index("</section>", start)]


def _table(body: str, key: str) -> list[list[str]]:
    """A card's Data table, as text."""
    card = _card(body, key)
    table = card[card.index("<tbody>") : card.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in rows]  # fmt: skip


def _csv(client: Client, key: str) -> list[list[str]]:
    response = client.get(f"{PAGE}{key}.csv{MARCH}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))


def test_it_counts_open_tickets_by_queue_and_priority(client, tickets, alice):
    client.force_login(alice)
    rows = _table(_body(client, PAGE + MARCH), "open")
    # Billing: t5 low, t6 normal, t2 high; Tech's are all solved.
    assert rows == [["Billing", "1", "1", "1", "0", "3"], ["Tech", "0", "0", "0", "0", "0"],
                    ["Total", "1", "1", "1", "0", "3"]]  # fmt: skip


def test_it_counts_created_and_solved_by_day_in_the_organisations_zone(client, tickets, alice):
    client.force_login(alice)
    rows = {row[0]: row[1:] for row in _table(_body(client, PAGE + MARCH), "flow")}
    assert len(rows) == 31
    assert rows["Mon 2 Mar"] == ["1", "1", "+0"]  # t1 made, t9 solved
    assert rows["Sun 29 Mar"] == ["1", "1", "+0"]  # t3, made 22:00 in Paris on the 28th
    assert rows["Tue 31 Mar"] == ["1", "0", "+1"]  # t5 at 23:30; t6 at 00:30 is April's
    flow = _csv(client, "flow")
    assert flow[:2] == [["Created", "5"], ["Solved", "4"]]


def test_it_measures_times_in_business_hours_and_round_the_clock(client, tickets, alice):
    client.force_login(alice)
    rows = _csv(client, "times")
    # Business hours: first responses 0.5, 1, 2, 5 (t3 across the change); resolutions 2, 9,
    # 11, 48. Round the clock: 0.5, 1, 5, 65 and 11, 24, 48, 65.
    assert rows[1:] == [
        ["First response", "4", "1.50", "4.10", "3.00", "47.00"],
        ["Resolution", "4", "10.00", "36.90", "36.00", "59.90"],
    ]


def test_it_measures_sla_attainment_against_the_due_times(client, tickets, alice):
    client.force_login(alice)
    # First response: t1 and t4 met, t2 and t3 missed. Resolution: t3 met, t1 and t4 missed;
    # t9 had no due time.
    assert _table(_body(client, PAGE + MARCH), "sla") == [
        ["First response", "4", "2", "2", "50.0%"], ["Resolution", "3", "1", "2", "33.3%"],
    ]  # fmt: skip


def test_it_counts_breaches_in_the_period_by_queue(client, tickets, alice):
    client.force_login(alice)
    body = _body(client, PAGE + MARCH)
    # t6's, in April, and the Trash's and Globex's are not March's, nor Acme's.
    assert _table(body, "breaches") == [["Billing", "1", "1", "2"], ["Tech", "1", "1", "2"]]
    assert re.search(r"<dt>Breaches</dt><dd>(<a [^>]*>)?4(</a>)?</dd>", _card(body, "breaches"))


def test_it_shows_each_agents_figures(client, tickets, alice):
    client.force_login(alice)
    rows = _table(_body(client, PAGE + MARCH), "agents")
    assert rows == [
        ["Ava Adams", "0", "3", "2.8 h", "3.5"],  # answered in 5 h and 0.5 h; rated 3 and 4
        ["Sam Singh", "2", "1", "1.5 h", "5.0"],  # answered in 1 h and 2 h
        ["Unassigned", "1", "", "", ""],
    ]


def test_it_averages_and_spreads_the_ratings_of_the_period(client, tickets, alice):
    client.force_login(alice)
    rows = _csv(client, "csat")
    assert rows[:2] == [["Average rating", "4.00"], ["Ratings", "3"]]
    assert rows[4:] == [["5 of 5", "1", "33.3"], ["4 of 5", "1", "33.3"],
                        ["3 of 5", "1", "33.3"], ["2 of 5", "0", "0.0"],
                        ["1 of 5", "0", "0.0"]]  # fmt: skip


def test_an_agent_sees_their_own_row_alone(client, tickets, sam):
    client.force_login(sam)
    body = _body(client, PAGE + MARCH)
    assert _table(body, "agents") == [["Sam Singh", "2", "1", "1.5 h", "5.0"]]
    assert _table(body, "open")[-1] == ["Total", "1", "1", "1", "0", "3"]


def test_a_viewer_sees_every_agent(client, tickets, bob):
    client.force_login(bob)
    assert len(_table(_body(client, PAGE + MARCH), "agents")) == 3


def test_it_refuses_reps(client, tickets, rita):
    client.force_login(rita)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "open.csv").status_code == 403


def test_it_hides_acme_from_outsiders(client, tickets, charlie):
    client.force_login(charlie)
    assert client.get(PAGE).status_code == 404
    body = _body(client, "/o/globex/dashboards/support/" + MARCH)
    assert "Tech" not in body
    assert "Sam Singh" not in body


def test_its_figures_link_to_their_tickets(client, tickets, alice):
    client.force_login(alice)
    card = _card(_body(client, PAGE + MARCH), "open")
    billing = tickets["t2"].queue_id
    assert f'href="/o/acme/tickets/?inbox=open&queue={billing}&priority=high"' in card
    flow = _card(_body(client, PAGE + MARCH), "flow")
    assert 'href="/o/acme/tickets/?created_after=2026-03-31&created_before=2026-03-31"' in flow


def test_its_charts_draw_the_numbers_of_its_tables(client, tickets, alice):
    client.force_login(alice)
    body = _body(client, PAGE + MARCH)
    assert 'style="' not in body  # the CSP allows no inline style
    for key in ("breaches", "agents", "csat", "sla"):
        texts = {row[0]: row for row in _table(body, key)}
        for label, value in re.findall(r"<title>(.*?): (.*?)</title>", _card(body, key)):
            assert value in texts[label]


def test_an_htmx_request_gets_the_results_alone(client, tickets, alice):
    client.force_login(alice)
    body = client.get(PAGE + MARCH, headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<div id="dashboard"')


def test_it_pins_its_queries(client, tickets, alice, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(24):
        assert client.get(PAGE + MARCH).status_code == 200


# --- A long period's figures, kept a while (support.dashboard.dashboard_figures) ----------

YEAR = "?period=last_12_months"


def _words(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _year_csv(client: Client, key: str) -> list[list[str]]:
    response = client.get(f"{PAGE}{key}.csv{YEAR}")
    return list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))


def test_a_year_s_figures_are_kept_and_shown_with_their_time(
    client, acme, tickets, alice, django_capture_on_commit_callbacks
):
    with activate(acme):
        billing = Queue.objects.get(name="Billing")
    client.force_login(alice)
    body = _body(client, PAGE + YEAR)
    assert "Figures as of 15 Apr, 12:00 · read again every 15 minutes" in _words(body)
    assert _table(body, "open")[-1][-1] == "3"
    with time_machine.travel(NOW.replace(minute=5), tick=False):
        TicketFactory(org=acme, queue=billing, subject="Newcomer")
        # Kept: the page shows the figures it read five minutes ago...
        assert _table(_body(client, PAGE + YEAR), "open")[-1][-1] == "3"
        # ... or reads them at once when asked.
        body = _body(client, PAGE + YEAR + "&now=1")
        assert _table(body, "open")[-1][-1] == "4"
        assert "Figures as of 15 Apr, 12:05" in _words(body)
        assert "now=1&now=1" not in body
    with time_machine.travel(NOW.replace(minute=6), tick=False):
        TicketFactory(org=acme, queue=billing, subject="Another")
    # Once older than 15 minutes: shown while the worker reads them again.
    with time_machine.travel(NOW.replace(minute=21), tick=False):
        with django_capture_on_commit_callbacks(execute=True) as sent:
            body = _body(client, PAGE + YEAR)
        assert "Figures as of 15 Apr, 12:05 · being read again" in _words(body)
        assert _table(body, "open")[-1][-1] == "4"
        assert len(sent) == 1
        # Once: the next visit does not send the worker again while it reads.
        with django_capture_on_commit_callbacks(execute=True) as again:
            body = _body(client, PAGE + YEAR)
        assert not again
        assert "Figures as of 15 Apr, 12:21" in _words(body)
        assert _table(body, "open")[-1][-1] == "5"


def test_a_kept_year_reads_and_exports_as_a_live_one(client, tickets, alice):
    client.force_login(alice)
    live = _year_csv(client, "times")  # read, and kept
    kept = _year_csv(client, "times")
    # Durations to the hundredth of an hour, as numbers (a kept Decimal comes back one).
    assert kept == live
    assert all(re.fullmatch(r"\d+\.\d\d", v) for v in kept[1][2:])


def test_a_member_who_sees_their_own_tickets_is_not_shown_everyone_s_kept_figures(
    client, tickets, alice, sam
):
    client.force_login(alice)
    assert len(_table(_body(client, PAGE + YEAR), "agents")) == 3
    client.force_login(sam)
    assert _table(_body(client, PAGE + YEAR), "agents")[0][0] == "Sam Singh"
    assert len(_table(_body(client, PAGE + YEAR), "agents")) == 1


def test_a_quarter_is_read_live(client, tickets, alice):
    client.force_login(alice)
    assert "Figures as of" not in _body(client, PAGE + "?period=last_quarter")
