"""interactions.followups: the checks a follow-up rule writes when an interaction is logged,
and the run beat makes every minute, which turns the due ones into tasks."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from celery.schedules import crontab
from celery.signals import task_prerun
from django.db import connection

from crm.contributions import beat_schedule
from crm.models import Organization, User
from crm.tenancy import activate
from interactions.followups import (
    business_days_after,
    followup_rules_save,
    followups_run,
    followups_schedule,
    working_time,
)
from interactions.models import FollowUpDue, Task
from interactions.services import interaction_log
from tests.factories import ContactFactory, InteractionFactory, trash

pytestmark = pytest.mark.django_db

TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)  # three working days after TUESDAY


def _email(org: Organization, by: User, contact: Any, **values: Any) -> Any:
    """An email sent to `contact` (Tuesday at 10:00 unless `occurred_at` says), with its check
    written as the hook after the commit writes it."""
    values.setdefault("occurred_at", TUESDAY)
    email = InteractionFactory(
        org=org, by=by, channel="email", direction="outbound", contact=contact,
        subject=values.pop("subject", "Proposal"), **values,
    )  # fmt: skip
    with activate(org):
        followups_schedule(org=org, interaction=email, now=values["occurred_at"])
    return email


def _run(org: Organization, now: datetime) -> int:
    with activate(org):
        return followups_run(org=org, now=now)


def _tasks(org: Organization) -> list[Task]:
    with activate(org):
        return list(Task.objects.select_related("assignee", "contact"))


@pytest.fixture
def ada(acme: Organization, rita: User) -> Any:
    return ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", owner=rita)


def test_it_gives_the_owner_a_task_when_no_reply_comes_in_three_working_days(
    acme, alice, rita, ada
):
    with time_machine.travel(TUESDAY, tick=False):
        email = _email(acme, alice, ada)
    with time_machine.travel(FRIDAY - timedelta(minutes=1), tick=False):
        assert _run(acme, now=datetime.now(UTC)) == 0  # not due yet
    with time_machine.travel(FRIDAY, tick=False):
        assert _run(acme, now=datetime.now(UTC)) == 1
    [task] = _tasks(acme)
    assert (task.title, task.assignee, task.contact) == (
        "Follow up: no reply to “Proposal”",
        rita,
        ada,
    )
    assert task.source_key == f"no_reply:{email.pk}"
    assert task.due_at == FRIDAY  # 10:00 on a weekday: within working hours, so now


def test_it_gives_the_emails_author_the_task_when_the_contact_has_no_owner(acme, alice):
    contact = ContactFactory(org=acme, first_name="Ownerless")
    _email(acme, alice, contact)
    _run(acme, now=FRIDAY)
    assert [task.assignee for task in _tasks(acme)] == [alice]


def test_it_makes_no_task_when_the_contact_replies_in_time(acme, alice, ada):
    email = _email(acme, alice, ada)
    InteractionFactory(org=acme, channel="email", direction="inbound", contact=ada,
                       occurred_at=TUESDAY + timedelta(days=1), subject="Re: Proposal")  # fmt: skip
    _run(acme, now=FRIDAY)
    assert _tasks(acme) == []
    with activate(acme):
        assert FollowUpDue.objects.get(interaction=email).outcome == "replied"


def test_it_counts_a_reply_threaded_to_the_email_from_someone_else(acme, alice, ada):
    email = _email(acme, alice, ada)
    colleague = ContactFactory(org=acme, first_name="Charles")
    reply = {"thread": email.pk}  # as inbound mail marks a reply to a message it has filed
    InteractionFactory(org=acme, channel="email", direction="inbound", contact=colleague,
                       occurred_at=TUESDAY + timedelta(hours=2), details=reply)  # fmt: skip
    _run(acme, now=FRIDAY)
    assert _tasks(acme) == []


def test_it_counts_a_reply_whose_in_reply_to_names_the_email(acme, alice, ada):
    email = _email(acme, alice, ada, external_id="<offer-1@acme.test>")
    InteractionFactory(org=acme, channel="email", direction="inbound", contact=None,
                       occurred_at=TUESDAY + timedelta(hours=3),
                       details={"in_reply_to": email.external_id})  # fmt: skip
    _run(acme, now=FRIDAY)
    assert _tasks(acme) == []


def test_an_auto_reply_or_an_earlier_message_is_no_reply(acme, alice, ada):
    InteractionFactory(org=acme, channel="email", direction="inbound", contact=ada,
                       occurred_at=TUESDAY - timedelta(days=1))  # fmt: skip
    _email(acme, alice, ada)
    InteractionFactory(org=acme, channel="email", direction="inbound", contact=ada,
                       occurred_at=TUESDAY + timedelta(hours=1), is_automatic=True)  # fmt: skip
    _run(acme, now=FRIDAY)
    assert len(_tasks(acme)) == 1


def test_it_asks_the_author_for_meeting_notes_at_nine_the_working_day_after(acme, rita, ada):
    acme.time_zone = "Europe/Berlin"
    friday_afternoon = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)  # 15:00 in Berlin
    with time_machine.travel(friday_afternoon, tick=False):
        meeting = InteractionFactory(org=acme, by=rita, channel="meeting", direction="outbound",
                                     contact=ada, subject="Kickoff")  # fmt: skip
        with activate(acme):
            followups_schedule(org=acme, interaction=meeting)
        assert _run(acme, now=datetime.now(UTC)) == 1  # due at once: the meeting is over
    [task] = _tasks(acme)
    assert (task.title, task.assignee) == ("Send notes from “Kickoff”", rita)
    # Monday, 9:00 in Berlin (UTC+1 in March before the clocks change).
    assert task.due_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert task.source_key == f"after_meeting:{meeting.pk}"


def test_logging_an_email_writes_its_check_once_committed(
    acme, alice, ada, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the hook's task, run eagerly
        email = InteractionFactory(org=acme, by=alice, channel="email", direction="outbound",
                                   contact=ada, subject="Offer")  # fmt: skip
    with activate(acme):
        due = FollowUpDue.objects.get(interaction=email)
    assert due.rule == "no_reply"
    assert due.due_at == business_days_after(email.occurred_at, 3, org=acme)


def test_it_writes_no_check_while_a_rule_is_off(acme, alice, ada):
    with activate(acme):
        followup_rules_save(org=acme, by=alice, values={"no_reply": {"enabled": False}})
    _email(acme, alice, ada)
    _run(acme, now=FRIDAY)
    with activate(acme):
        assert not FollowUpDue.objects.exists()
    assert _tasks(acme) == []


def test_a_check_finds_its_rule_turned_off_since(acme, alice, ada):
    email = _email(acme, alice, ada)
    with activate(acme):
        followup_rules_save(org=acme, by=alice, values={"no_reply": {"enabled": False}})
    _run(acme, now=FRIDAY)
    assert _tasks(acme) == []
    with activate(acme):
        assert FollowUpDue.objects.get(interaction=email).outcome == "off"


def test_a_check_finds_an_email_moved_to_the_trash_gone(acme, alice, ada):
    email = _email(acme, alice, ada)
    trash(acme, email)
    _run(acme, now=FRIDAY)
    assert _tasks(acme) == []
    with activate(acme):
        assert FollowUpDue.objects.get(interaction=email).outcome == "gone"


def test_running_twice_makes_one_task(acme, alice, ada):
    email = _email(acme, alice, ada)
    with activate(acme):
        followups_schedule(org=acme, interaction=email)  # the hook's task delivered again
    assert _run(acme, now=FRIDAY) == 1
    assert _run(acme, now=FRIDAY) == 0
    with activate(acme):  # a run that made the task, then died before marking its check done
        FollowUpDue.objects.update(done_at=None)
    assert _run(acme, now=FRIDAY) == 1
    assert len(_tasks(acme)) == 1


def test_it_follows_up_only_outbound_emails_and_meetings_with_someone(acme, alice, ada):
    with activate(acme):
        for channel, direction, contact in [
            ("email", "inbound", ada), ("call", "outbound", ada), ("note", "internal", ada),
            ("email", "outbound", None), ("meeting", "outbound", None),
        ]:  # fmt: skip
            logged = InteractionFactory(org=acme, channel=channel, direction=direction,
                                        contact=contact)  # fmt: skip
            assert followups_schedule(org=acme, interaction=logged) is None


def test_logging_queues_a_check_only_for_what_a_rule_looks_at(
    acme, alice, ada, django_capture_on_commit_callbacks
):
    ran: list[str] = []

    def seen(sender: Any = None, **kwargs: Any) -> None:
        ran.append(sender.name)

    task_prerun.connect(seen, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True), activate(acme):
            for channel, direction in [("email", "inbound"), ("call", "outbound"),
                                       ("note", "internal")]:  # fmt: skip
                interaction_log(org=acme, by=alice, channel=channel, direction=direction,
                                contact=ada)  # fmt: skip
        assert "interactions.followups_schedule" not in ran
        with django_capture_on_commit_callbacks(execute=True), activate(acme):
            interaction_log(org=acme, by=alice, channel="email", direction="outbound",
                            contact=ada)  # fmt: skip
            interaction_log(org=acme, by=alice, channel="meeting", direction="outbound",
                            contact=ada)  # fmt: skip
        assert ran.count("interactions.followups_schedule") == 2
    finally:
        task_prerun.disconnect(seen)


def test_it_leaves_history_logged_long_after_it_happened_alone(acme, alice, ada):
    email = InteractionFactory(org=acme, by=alice, channel="email", direction="outbound",
                               contact=ada, occurred_at=TUESDAY)  # fmt: skip
    with activate(acme):
        assert (
            followups_schedule(org=acme, interaction=email, now=TUESDAY + timedelta(days=8)) is None
        )


def test_working_days_skip_the_weekend(acme):
    friday_four = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert business_days_after(friday_four, 3, org=acme) == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)
    saturday = datetime(2026, 3, 7, 11, 0, tzinfo=UTC)
    assert business_days_after(saturday, 1, org=acme) == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
    assert working_time(saturday, org=acme) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert working_time(datetime(2026, 3, 5, 7, 0, tzinfo=UTC), org=acme).hour == 9  # same day


def test_working_days_are_counted_in_the_organisations_time_zone(acme):
    acme.time_zone = "Pacific/Auckland"  # UTC+13 in March
    friday_late = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # already Saturday 01:00 there
    # Monday 01:00 there: still Sunday in UTC.
    assert business_days_after(friday_late, 1, org=acme) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_share_the_due_checks_out(acme, alice, ada):
    for n in range(10):
        _email(acme, alice, ada, subject=f"Offer {n}")
    claimed, counts = threading.Event(), {}
    finished = threading.Event()

    def run(name: str, batch: int, wait_for: threading.Event, then: threading.Event) -> None:
        try:
            with activate(acme):  # one transaction: its claims stay locked until it ends
                if name == "second":
                    wait_for.wait(10)
                counts[name] = followups_run(org=acme, now=FRIDAY, batch=batch)
                then.set()
                if name == "first":
                    wait_for.wait(10)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=("first", 4, finished, claimed)),
               threading.Thread(target=run, args=("second", 100, claimed, finished))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert counts == {"first": 4, "second": 6}
    assert sorted(task.title for task in _tasks(acme)) == [
        f"Follow up: no reply to “Offer {n}”" for n in range(10)
    ]
    with activate(acme):
        assert not FollowUpDue.objects.filter(done_at__isnull=True).exists()


def test_beat_runs_the_checks_every_minute_in_every_organisation():
    job = beat_schedule()["follow-ups"]
    assert (job["task"], job["args"]) == ("crm.fan_out", ["interactions.followups_run"])
    assert job["schedule"] == crontab()
