"""support.services and support.views: tickets opened, numbered, assigned, answered and
noted; their SLA due times in business hours, paused while they wait on the customer."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.tenancy import activate
from interactions.models import Interaction, Notification
from support import services
from support.models import (
    AgentStatus,
    BusinessCalendar,
    CannedReply,
    Queue,
    QueueAgent,
    SlaPolicy,
    SlaTarget,
    Status,
    Ticket,
    TicketEvent,
)
from tests.conftest import member
from tests.factories import ContactFactory, QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _policy(org, *, first_minutes=60, resolution_minutes=480, weekly=None, zone="UTC"):
    with activate(org):
        calendar = BusinessCalendar.objects.create(
            org=org, name="Always", zone=zone, weekly=weekly or [[[0, 1440]]] * 7
        )
        policy = SlaPolicy.objects.create(org=org, name="Standard", calendar=calendar,
                                          is_default=True)  # fmt: skip
        for priority in ("low", "normal", "high", "urgent"):
            SlaTarget.objects.create(org=org, policy=policy, priority=priority,
                                     first_response_minutes=first_minutes,
                                     resolution_minutes=resolution_minutes)  # fmt: skip
        return policy


def _stored(org, ticket):
    with activate(org):
        return Ticket.objects.get(pk=ticket.pk)


def test_tickets_are_numbered_from_1001_in_each_organisation(acme, globex) -> None:
    first, second = TicketFactory(org=acme), TicketFactory(org=acme)
    other = TicketFactory(org=globex)
    assert (first.number, second.number, other.number) == (1001, 1002, 1001)


def test_the_due_times_run_in_business_hours_from_the_ticket_s_creation(acme) -> None:
    # Weekdays 9 to 17 in Berlin: opened on Friday at 16:30, an hour's first response is
    # due on Monday at 09:30, and a day's resolution (8 business hours) on Monday at 16:30.
    weekdays = [[[540, 1020]]] * 5 + [[], []]
    _policy(acme, first_minutes=60, resolution_minutes=480, weekly=weekdays,
            zone="Europe/Berlin")  # fmt: skip
    friday = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # 16:30 in Berlin
    ticket = TicketFactory(org=acme, at=friday)
    assert ticket.first_response_due == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    assert ticket.resolution_due == datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    # The SLA job first looks at it when 80 % of the first response's hour has gone.
    assert ticket.sla_check_at == datetime(2026, 12, 7, 8, 18, tzinfo=UTC)


def test_pending_on_the_customer_stops_the_clock_and_resuming_moves_the_due_time(
    acme, alice
) -> None:
    _policy(acme, first_minutes=60, resolution_minutes=240)
    start = timezone.now() - timedelta(hours=3)
    ticket = TicketFactory(org=acme, at=start)
    assert ticket.resolution_due == start + timedelta(hours=4)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.PENDING,
                               at=start + timedelta(hours=1))  # fmt: skip
        paused = Ticket.objects.get(pk=ticket.pk)
        assert (paused.resolution_due, paused.sla_check_at) == (None, None)
        services.ticket_update(org=acme, ticket=paused, by=alice, status=Status.OPEN,
                               at=start + timedelta(hours=2))  # fmt: skip
    resumed = _stored(acme, ticket)
    # An hour waiting on the customer does not count.
    assert resumed.resolution_due == start + timedelta(hours=5)
    with activate(acme):
        kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "new"))
    assert ("status", "Pending on customer") in kinds
    assert ("status", "Open") in kinds


def test_a_ticket_solved_while_pending_is_measured_against_its_paused_due_time(acme, alice) -> None:
    _policy(acme, first_minutes=60, resolution_minutes=240)
    start = timezone.now() - timedelta(hours=3)
    ticket = TicketFactory(org=acme, at=start)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.PENDING,
                               at=start + timedelta(hours=1))  # fmt: skip
        pending = Ticket.objects.get(pk=ticket.pk)
        services.ticket_update(org=acme, ticket=pending, by=alice, status=Status.SOLVED,
                               at=start + timedelta(hours=2))  # fmt: skip
    solved = _stored(acme, ticket)
    # Four hours of target, and the hour it waited on the customer does not count.
    assert solved.resolution_due == start + timedelta(hours=5)
    assert solved.solved_at <= solved.resolution_due


def test_raising_the_priority_computes_the_due_times_again(acme, alice) -> None:
    policy = _policy(acme, first_minutes=240)
    with activate(acme):
        SlaTarget.objects.filter(policy=policy, priority="urgent").update(first_response_minutes=15)
    ticket = TicketFactory(org=acme)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, priority="urgent")
    stored = _stored(acme, ticket)
    assert stored.first_response_due == stored.created_at + timedelta(minutes=15)


def test_round_robin_gives_tickets_in_turn_to_the_available_agents(acme) -> None:
    sam = member(acme, "sam@acme.test", "agent", "Sam Singh")
    ann = member(acme, "ann@acme.test", "agent", "Ann Ames")
    away = member(acme, "away@acme.test", "agent", "Al Away")
    with activate(acme):
        queue = Queue.objects.create(org=acme, name="Billing", assignment="round_robin")
        for user in (sam, ann, away):
            QueueAgent.objects.create(org=acme, queue=queue, user=user)
        AgentStatus.objects.create(org=acme, user=away, is_available=False)
    got = [TicketFactory(org=acme, queue=queue).assignee for _ in range(4)]
    assert got == [sam, ann, sam, ann]
    assert _stored(acme, TicketFactory(org=acme, queue=queue)).status == Status.OPEN


def test_fewest_open_gives_the_ticket_to_the_least_busy_agent(acme) -> None:
    sam = member(acme, "sam@acme.test", "agent", "Sam Singh")
    ann = member(acme, "ann@acme.test", "agent", "Ann Ames")
    with activate(acme):
        queue = Queue.objects.create(org=acme, name="Tech", assignment="least_open")
        for user in (sam, ann):
            QueueAgent.objects.create(org=acme, queue=queue, user=user)
    TicketFactory(org=acme, queue=queue, owner=sam)
    TicketFactory(org=acme, queue=queue, owner=sam)
    assert TicketFactory(org=acme, queue=queue).assignee == ann


def test_a_reply_is_emailed_to_the_requester_threaded_and_meets_the_first_response(
    acme, sam, django_capture_on_commit_callbacks
) -> None:
    _policy(acme)
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    queue = QueueFactory(org=acme, name="Billing", email="billing@acme.example")
    ticket = TicketFactory(org=acme, queue=queue, requester=ada, subject="Invoice twice")
    with activate(acme), django_capture_on_commit_callbacks(execute=True):
        Interaction.objects.create(
            org=acme, channel="email", direction="inbound", ticket=ticket, contact=ada,
            subject="Invoice twice", external_id="m1@engines.example",
        )  # fmt: skip
        services.ticket_reply(org=acme, ticket=ticket, by=sam, body="Refunded today.")
    sent = mail.outbox[-1]
    assert sent.to == ["ada@engines.example"]
    assert sent.subject == f"[#{ticket.number}] Invoice twice"
    assert sent.reply_to == ["billing@acme.example"]
    assert sent.extra_headers["In-Reply-To"] == "<m1@engines.example>"
    stored = _stored(acme, ticket)
    assert stored.first_response_at is not None
    assert stored.status == Status.PENDING


def test_a_closed_ticket_takes_no_reply_and_nothing_is_written(acme, sam, alice) -> None:
    ada = ContactFactory(org=acme, email="ada@engines.example")
    ticket = TicketFactory(org=acme, requester=ada)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.CLOSED)
        with pytest.raises(ValidationError, match="closed"):
            services.ticket_reply(org=acme, ticket=ticket, by=sam, body="Anyone there?")
        assert not Interaction.objects.filter(ticket=ticket).exists()
    assert mail.outbox == []


def test_a_note_is_for_the_team_and_never_emailed(acme, sam) -> None:
    ada = ContactFactory(org=acme, email="ada@engines.example")
    ticket = TicketFactory(org=acme, requester=ada)
    with activate(acme):
        note = services.ticket_note(org=acme, ticket=ticket, by=sam, body="Check the ledger.")
    assert (note.channel, note.direction, note.ticket_id) == ("note", "internal", ticket.pk)
    assert mail.outbox == []


def test_a_rep_cannot_be_given_a_ticket(acme, rita, alice) -> None:
    ticket = TicketFactory(org=acme)
    with activate(acme), pytest.raises(ValidationError, match="does not work tickets"):
        services.ticket_update(org=acme, ticket=ticket, by=alice, assignee=rita)


def test_assigning_tells_the_new_assignee(acme, alice, sam) -> None:
    ticket = TicketFactory(org=acme)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, assignee=sam)
        note = Notification.objects.get(user=sam)
    assert note.kind == "ticket"
    assert note.url == f"/o/acme/tickets/{ticket.number}/"


# --- Pages ------------------------------------------------------------------------------------


def test_an_agent_opens_a_ticket_for_someone_new_and_replies(
    client: Client, acme, sam, django_capture_on_commit_callbacks
) -> None:
    QueueFactory(org=acme, name="Billing")
    client.force_login(sam)
    with activate(acme):
        queue = Queue.objects.get(name="Billing")
    response = client.post("/o/acme/tickets/new/", {
        "subject": "Card declined", "requester": "New.Person@Example.com",
        "requester_name": "Nia Person", "queue": queue.pk, "priority": "high",
        "assignee": "", "description": "Called in: the card is declined.",
    })  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/tickets/1001/"
    page = client.get("/o/acme/tickets/1001/").content.decode()
    assert "Card declined" in page
    assert "Nia Person" in page
    assert "Called in: the card is declined." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/o/acme/tickets/1001/reply/",
                               {"body": "Try again now.", "status": "pending"})  # fmt: skip
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new.person@example.com"]
    page = client.get("/o/acme/tickets/1001/").content.decode()
    assert "Try again now." in page
    assert "Pending on customer" in page


def test_an_empty_reply_is_refused_beside_the_field(client: Client, acme, sam) -> None:
    ticket = TicketFactory(org=acme, requester=ContactFactory(org=acme, email="a@b.example"))
    client.force_login(sam)
    response = client.post(f"/o/acme/tickets/{ticket.number}/reply/",
                           {"body": "  ", "status": "pending"})  # fmt: skip
    assert response.status_code == 400
    assert 'id="reply-error"' in response.content.decode()
    assert mail.outbox == []


def test_a_stale_properties_form_is_refused_and_changes_nothing(
    client: Client, acme, sam, alice
) -> None:
    ticket = TicketFactory(org=acme)
    client.force_login(sam)
    page = client.get(f"/o/acme/tickets/{ticket.number}/").content.decode()
    version = page.split('name="version" value="')[1].split('"')[0]
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, priority="high")
    response = client.post(f"/o/acme/tickets/{ticket.number}/properties/", {
        "status": "solved", "priority": "low", "assignee": "", "queue": ticket.queue_id,
        "version": version,
    })  # fmt: skip
    assert response.status_code == 400
    stored = _stored(acme, ticket)
    assert (stored.status, stored.priority) == ("new", "high")


def test_a_rep_reads_tickets_but_may_not_work_them(client: Client, acme, rita) -> None:
    ticket = TicketFactory(org=acme, requester=ContactFactory(org=acme, email="a@b.example"))
    client.force_login(rita)
    page = client.get(f"/o/acme/tickets/{ticket.number}/").content.decode()
    assert ticket.subject in page
    assert "Send reply" not in page
    response = client.post(f"/o/acme/tickets/{ticket.number}/reply/",
                           {"body": "Hi", "status": "pending"})  # fmt: skip
    assert response.status_code == 403


def test_another_organisation_s_ticket_number_answers_404(client: Client, acme, globex, charlie):
    TicketFactory(org=acme)
    client.force_login(charlie)
    assert client.get("/o/globex/tickets/1001/").status_code == 404
    assert client.get("/o/globex/tickets/99999999999/").status_code == 404


def test_the_inboxes_show_mine_and_the_unassigned(client: Client, acme, sam, alice) -> None:
    mine = TicketFactory(org=acme, owner=sam, subject="Mine to do")
    TicketFactory(org=acme, owner=alice, subject="Alice's")
    free = TicketFactory(org=acme, subject="Nobody yet")
    client.force_login(sam)
    page = client.get("/o/acme/tickets/?inbox=mine").content.decode()
    assert mine.subject in page
    assert "Alice&#x27;s" not in page
    assert free.subject not in page
    page = client.get("/o/acme/tickets/?inbox=unassigned").content.decode()
    assert free.subject in page
    assert mine.subject not in page
    assert "Mine to do" in client.get("/o/acme/tickets/?q=%231001").content.decode()


def test_take_and_solve_from_the_ticket_page_and_go_to_the_next(client: Client, acme, sam):
    first, second = TicketFactory(org=acme), TicketFactory(org=acme)
    client.force_login(sam)
    client.post(f"/o/acme/tickets/{first.number}/take/")
    assert _stored(acme, first).assignee_id == sam.pk
    client.post(f"/o/acme/tickets/{first.number}/solve/")
    solved = _stored(acme, first)
    assert (solved.status, solved.solved_at is not None) == ("solved", True)
    response = client.get(f"/o/acme/tickets/{first.number}/next/")
    assert response["Location"] == f"/o/acme/tickets/{second.number}/"


# --- Canned replies and merge ---------------------------------------------------------------


def test_a_canned_reply_fills_in_known_placeholders_as_plain_text(client: Client, acme, sam):
    ada = ContactFactory(org=acme, first_name="<b>Ada</b>", email="ada@engines.example")
    ticket = TicketFactory(org=acme, requester=ada)
    with activate(acme):
        reply = CannedReply.objects.create(
            org=acme, name="Hello",
            body="Hi {{ contact.first_name }}, about #{{ticket.number}}: {{ agent.name }}. "
                 "{{ settings.SECRET_KEY }} {% debug %} {{ contact.__class__ }}",
        )  # fmt: skip
    client.force_login(sam)
    page = client.get(f"/o/acme/tickets/{ticket.number}/?canned={reply.pk}").content.decode()
    assert (
        f"Hi &lt;b&gt;Ada&lt;/b&gt;, about #{ticket.number}: Sam Singh. "
        "{{ settings.SECRET_KEY }} {% debug %} {{ contact.__class__ }}"
    ) in page
    assert "<b>Ada</b>" not in page


def test_merging_moves_the_conversation_and_closes_the_merged_ticket(
    client: Client, acme, sam
) -> None:
    ada = ContactFactory(org=acme, email="ada@engines.example")
    first = TicketFactory(org=acme, requester=ada, subject="Invoice twice", tags=["Billing"])
    kept = TicketFactory(org=acme, requester=ada, subject="Charged twice")
    with activate(acme):
        services.ticket_note(org=acme, ticket=first, by=sam, body="Same as the other one.")
    client.force_login(sam)
    url = f"/o/acme/tickets/{first.number}/merge/"
    asked = client.post(url, {"into": kept.number}).content.decode()
    assert f"into <strong>#{kept.number} Charged twice</strong>?" in asked
    assert _stored(acme, first).merged_into_id is None  # asked first: nothing changed yet
    response = client.post(url, {"into": kept.number, "confirm": "1"})
    assert response["Location"] == f"/o/acme/tickets/{kept.number}/"
    merged = _stored(acme, first)
    assert (merged.merged_into_id, merged.status) == (kept.pk, Status.CLOSED)
    with activate(acme):
        assert Interaction.objects.filter(ticket=kept, body="Same as the other one.").exists()
        assert list(kept.tag_links.values_list("tag__name", flat=True)) == ["Billing"]
    followed = client.get(f"/o/acme/tickets/{first.number}/")
    assert followed["Location"] == f"/o/acme/tickets/{kept.number}/"


def test_a_merge_into_itself_or_nowhere_is_refused_beside_the_field(
    client: Client, acme, sam
) -> None:
    ticket = TicketFactory(org=acme)
    client.force_login(sam)
    url = f"/o/acme/tickets/{ticket.number}/merge/"
    for into, said in ((ticket.number, "another ticket"), (99999, "No ticket #99999")):
        response = client.post(url, {"into": into, "confirm": "1"})
        assert response.status_code == 400
        assert said in response.content.decode()
    assert _stored(acme, ticket).merged_into_id is None


# --- What the pages cost ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_an_inbox_reads_a_fixed_number_of_queries(client: Client, acme, sam, count) -> None:
    ada = ContactFactory(org=acme, email="ada@engines.example")
    for _ in range(count):
        TicketFactory(org=acme, requester=ada, owner=sam, tags=["Billing"])
    client.force_login(sam)
    client.get("/o/acme/tickets/?inbox=mine")  # the session and the cached fields, once
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/o/acme/tickets/?inbox=mine&sort=due")
    assert page.content.decode().count('name="ids"') == count
    # ARCHITECTURE's 12 for a list, and the three the tests' own transaction adds.
    assert len(queries) <= 15


@pytest.mark.parametrize("messages", [2, 25])
def test_a_ticket_page_reads_a_fixed_number_of_queries(client: Client, acme, sam, messages) -> None:
    ada = ContactFactory(org=acme, email="ada@engines.example")
    ticket = TicketFactory(org=acme, requester=ada, owner=sam)
    TicketFactory(org=acme, requester=ada)
    with activate(acme):
        for n in range(messages):
            services.ticket_note(org=acme, ticket=ticket, by=sam, body=f"Note {n}")
    client.force_login(sam)
    client.get(f"/o/acme/tickets/{ticket.number}/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/o/acme/tickets/{ticket.number}/").content.decode()
    assert "Note 0" in page or messages > 20
    # ARCHITECTURE's 15 for a record's page, and the three of the tests' transaction.
    assert len(queries) <= 18, "\n".join(q["sql"][:150] for q in queries.captured_queries)


def test_the_home_page_lists_my_tickets_and_an_agent_goes_away(client: Client, acme, sam):
    ContactFactory(org=acme, first_name="Ada")  # a home page with data shows its panels
    mine = TicketFactory(org=acme, owner=sam, subject="Refund request")
    client.force_login(sam)
    home = client.get("/o/acme/").content.decode()
    assert f"#{mine.number} Refund request" in home
    assert "Taking new tickets" in home
    response = client.post("/o/acme/tickets/availability/", {"available": "0"})
    assert response["Location"] == "/o/acme/"
    with activate(acme):
        assert AgentStatus.objects.get(user=sam).is_available is False
    assert "Away" in client.get("/o/acme/").content.decode()
