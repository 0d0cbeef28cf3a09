"""support.sla.sla_run: warnings as a ticket nears its targets, escalation when it misses
one, each exactly once per threshold."""

from datetime import UTC, datetime, timedelta

import pytest

from crm.models import Organization, Role, User
from crm.tenancy import activate
from interactions.models import Notification
from support import services, sla
from support.models import BusinessCalendar, SlaPolicy, SlaTarget, Status, Ticket, TicketEvent
from tests.conftest import member
from tests.factories import QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db

# A Saturday: a 24/7 calendar's clock runs through the weekend.
START = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
WEEKDAYS = [[[540, 1020]]] * 5 + [[], []]  # 9 to 17, Monday to Friday


def _policy(org, *, weekly=None, zone="UTC", **rules) -> SlaPolicy:
    """Answer within the hour, solve within 8: for every priority."""
    with activate(org):
        calendar = BusinessCalendar.objects.create(
            org=org, name="Hours", zone=zone, weekly=weekly or [[[0, 1440]]] * 7
        )
        policy = SlaPolicy.objects.create(org=org, name="Standard", calendar=calendar,
                                          is_default=True, **rules)  # fmt: skip
        for priority in ("low", "normal", "high", "urgent"):
            SlaTarget.objects.create(org=org, policy=policy, priority=priority,
                                     first_response_minutes=60, resolution_minutes=480)  # fmt: skip
        return policy


@pytest.fixture
def mia(acme: Organization) -> User:
    """Manager in Acme."""
    return member(acme, "mia@acme.test", Role.MANAGER, "Mia Moss")


def _ticket(org, *, lead=None, at=START, **values) -> Ticket:
    queue = QueueFactory(org=org, name="Billing", lead=lead)
    return TicketFactory(org=org, queue=queue, at=at, **values)


def _run(org, now: datetime) -> int:
    with activate(org):
        return sla.sla_run(org=org, now=now)


def _events(org, ticket) -> list[tuple[str, str]]:
    with activate(org):
        found = TicketEvent.objects.filter(ticket=ticket).exclude(key="").order_by("at", "id")
        return list(found.values_list("kind", "key"))


def _notified(org) -> list[tuple[str, str, str]]:
    with activate(org):
        found = Notification.objects.filter(key__startswith="sla:").order_by("created_at", "id")
        return [(n.user.email, n.kind, n.key.split(":", 2)[2]) for n in found]


def _stored(org, ticket) -> Ticket:
    with activate(org):
        return Ticket.objects.get(pk=ticket.pk)


def test_it_warns_the_assignee_once_when_80_percent_of_the_first_response_is_used(
    acme, sam
) -> None:
    _policy(acme)
    ticket = _ticket(acme, owner=sam, subject="Invoice twice")
    assert _run(acme, START + timedelta(minutes=47)) == 0
    assert _run(acme, START + timedelta(minutes=48)) == 1
    assert _events(acme, ticket) == [("near_breach", "first_response:near")]
    assert _notified(acme) == [("sam@acme.test", "sla_warning", f"first_response:near:{sam.pk}")]
    with activate(acme):
        note = Notification.objects.get(kind="sla_warning")
    assert note.title == (
        "Ticket #1001 nears its first response target (7 Mar, 10:00): Invoice twice"
    )
    assert note.url == "/o/acme/tickets/1001/"
    assert _run(acme, START + timedelta(minutes=49)) == 0  # a second run adds nothing
    assert len(_notified(acme)) == 1
    assert _stored(acme, ticket).sla_check_at == START + timedelta(minutes=60)  # the breach next


def test_the_warning_comes_at_the_policy_s_share_of_the_target(acme, sam) -> None:
    _policy(acme, near_breach_percent=50)
    ticket = _ticket(acme, owner=sam)
    assert _run(acme, START + timedelta(minutes=29)) == 0
    assert _run(acme, START + timedelta(minutes=30)) == 1
    assert _events(acme, ticket) == [("near_breach", "first_response:near")]


def test_the_event_reads_when_the_target_is_due(acme, sam) -> None:
    _policy(acme)
    ticket = _ticket(acme, owner=sam)
    _run(acme, START + timedelta(minutes=60))
    with activate(acme):
        texts = list(TicketEvent.objects.filter(ticket=ticket).exclude(key="")
                     .order_by("at").values_list("new", "at"))  # fmt: skip
    due = "First response due 7 Mar, 10:00"
    assert texts == [(due, START + timedelta(minutes=48)), (due, START + timedelta(minutes=60))]


def test_a_breach_tells_the_assignee_and_the_queue_s_lead_but_not_the_managers(
    acme, sam, alice, mia
) -> None:
    _policy(acme)  # notify_lead is on by default, notify_managers off
    ticket = _ticket(acme, owner=sam, lead=alice)
    _run(acme, START + timedelta(minutes=48))
    assert _run(acme, START + timedelta(minutes=60)) == 1
    assert _events(acme, ticket)[-1] == ("breached", "first_response:breach")
    breach = [(email, kind) for email, kind, _ in _notified(acme) if kind == "sla_breach"]
    assert sorted(breach) == [("alice@acme.test", "sla_breach"), ("sam@acme.test", "sla_breach")]


def test_a_breach_tells_the_managers_when_the_policy_says_so(acme, sam, alice, mia) -> None:
    _policy(acme, notify_lead=False, notify_managers=True)
    _ticket(acme, owner=sam, lead=alice)
    _run(acme, START + timedelta(minutes=60))
    breach = sorted(email for email, kind, _ in _notified(acme) if kind == "sla_breach")
    assert breach == ["mia@acme.test", "sam@acme.test"]


def test_a_lead_who_is_also_the_assignee_hears_once(acme, sam) -> None:
    _policy(acme)
    _ticket(acme, owner=sam, lead=sam)
    _run(acme, START + timedelta(minutes=60))
    assert [kind for _, kind, _ in _notified(acme)] == ["sla_warning", "sla_breach"]


def test_a_breach_raises_the_priority_one_step_and_never_beyond_urgent(acme, sam) -> None:
    _policy(acme, raise_priority=True)
    ticket = _ticket(acme, owner=sam, priority="high")
    _run(acme, START + timedelta(minutes=60))  # the first response's breach
    assert _stored(acme, ticket).priority == "urgent"
    _run(acme, START + timedelta(minutes=480))  # the resolution's: urgent already
    assert _stored(acme, ticket).priority == "urgent"
    with activate(acme):
        raised = list(TicketEvent.objects.filter(ticket=ticket, kind="priority")
                      .values_list("old", "new", "by"))  # fmt: skip
    assert raised == [("High", "Urgent", None)]


def test_a_rerun_raises_the_priority_no_further(acme, sam) -> None:
    _policy(acme, raise_priority=True)
    ticket = _ticket(acme, owner=sam, priority="low")
    assert _run(acme, START + timedelta(minutes=60)) == 2
    assert _run(acme, START + timedelta(minutes=61)) == 0
    assert _stored(acme, ticket).priority == "normal"


def test_a_breach_sends_the_ticket_back_to_its_queue_after_telling_the_assignee(acme, sam) -> None:
    _policy(acme, reassign_to_queue=True)
    ticket = _ticket(acme, owner=sam)
    _run(acme, START + timedelta(minutes=60))
    stored = _stored(acme, ticket)
    assert stored.assignee is None
    assert ("sam@acme.test", "sla_breach", f"first_response:breach:{sam.pk}") in _notified(acme)
    with activate(acme):
        unassigned = TicketEvent.objects.filter(ticket=ticket, kind="assigned", new="")
        assert unassigned.count() == 1


def test_a_second_run_does_nothing_more(acme, sam, alice, mia) -> None:
    _policy(acme, notify_managers=True, raise_priority=True, reassign_to_queue=True)
    ticket = _ticket(acme, owner=sam, lead=alice)
    later = START + timedelta(hours=9)  # every threshold passed
    assert _run(acme, later) == 4
    events, notified = _events(acme, ticket), _notified(acme)
    # Sam warned, then the three told of the first breach; unassigned by it, Sam hears of
    # no more: the lead and the manager of the resolution's breach.
    assert len(events) == 4
    assert len(notified) == 6
    with activate(acme):
        Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=START)  # claimed again
    assert _run(acme, later) == 0
    assert (_events(acme, ticket), _notified(acme)) == (events, notified)
    assert _stored(acme, ticket).sla_check_at is None  # nothing left to look at


def test_a_ticket_pending_on_the_customer_is_skipped(acme, sam, alice) -> None:
    _policy(acme)
    ticket = _ticket(acme, owner=sam)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.PENDING,
                               at=START + timedelta(minutes=10))  # fmt: skip
        # Even a check left from before the pause finds the clock stopped.
        Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=START)
    assert _run(acme, START + timedelta(hours=9)) == 0
    assert _events(acme, ticket) == []
    assert _notified(acme) == []
    assert _stored(acme, ticket).sla_check_at is None


def test_a_solved_ticket_is_skipped(acme, sam, alice) -> None:
    _policy(acme)
    ticket = _ticket(acme, owner=sam)
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.SOLVED,
                               at=START + timedelta(minutes=10))  # fmt: skip
        Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=START)
    assert _run(acme, START + timedelta(hours=9)) == 0
    assert _events(acme, ticket) == []
    assert _notified(acme) == []


def test_it_leaves_other_organisations_tickets_alone(acme, globex, sam, charlie) -> None:
    _policy(acme)
    _policy(globex)
    theirs = _ticket(globex, owner=charlie)
    assert _run(acme, START + timedelta(hours=9)) == 0
    assert _events(globex, theirs) == []
    assert _notified(globex) == []
    assert _stored(globex, theirs).sla_check_at == START + timedelta(minutes=48)
    assert _run(globex, START + timedelta(hours=9)) == 4  # its own run finds them


def test_the_thresholds_come_in_business_hours(acme, sam) -> None:
    # Weekdays 9 to 17 in Berlin: opened on Friday at 16:30, an hour's first response is
    # due on Monday at 09:30 and its warning comes at 09:18 (08:18 UTC).
    _policy(acme, weekly=WEEKDAYS, zone="Europe/Berlin")
    friday = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    ticket = _ticket(acme, owner=sam, at=friday)
    assert _run(acme, datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == 0  # the weekend
    assert _run(acme, datetime(2026, 12, 7, 8, 17, tzinfo=UTC)) == 0
    assert _run(acme, datetime(2026, 12, 7, 8, 18, tzinfo=UTC)) == 1
    assert _events(acme, ticket) == [("near_breach", "first_response:near")]
    assert _stored(acme, ticket).sla_check_at == datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
