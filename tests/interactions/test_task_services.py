"""interactions.services, its tasks: adding, changing, completing, snoozing and deleting one,
and the next step of its contact."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts.models import Company, Contact
from crm.models import AuditEvent
from crm.records import registry
from crm.records.bulk import records_bulk_apply
from crm.records.services import records_restore
from crm.tenancy import activate
from interactions.models import Notification, Task
from interactions.services import (
    interaction_log,
    snooze_until,
    task_complete,
    task_create,
    task_delete,
    task_snooze,
    task_update,
)
from tests.factories import CompanyFactory, ContactFactory, TaskFactory

pytestmark = pytest.mark.django_db
SOON = datetime.now(UTC) + timedelta(days=2)


def _fresh(org, record):
    with activate(org):
        record.refresh_from_db()
    return record


def test_it_adds_a_task_linked_to_the_contacts_company_and_audits(acme, alice) -> None:
    company = CompanyFactory(org=acme)
    contact = ContactFactory(org=acme, company=company)
    task = TaskFactory(org=acme, by=alice, title="  Call back  ", contact=contact, owner=alice)
    with activate(acme):
        stored = Task.objects.get(pk=task.pk)
        events = list(AuditEvent.objects.filter(action="task.created", object_id=str(task.pk)))
    assert (stored.title, stored.company_id) == ("Call back", company.pk)
    assert stored.created_by_id == alice.pk
    assert stored.status == Task.Status.OPEN
    assert [event.actor_id for event in events] == [alice.pk]


def test_it_updates_a_task_and_audits_what_changed(acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, title="Draft", owner=alice)
    with activate(acme):
        task_update(org=acme, task=task, by=alice, title="Send the offer", priority="high")
        event = AuditEvent.objects.get(action="task.updated")
    stored = _fresh(acme, task)
    assert (stored.title, stored.priority) == ("Send the offer", "high")
    assert event.changes["title"] == ["Draft", "Send the offer"]


def test_it_completes_and_reopens_a_task(acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice)
    with activate(acme):
        task_complete(org=acme, task=task, by=alice)
        done = Task.objects.get(pk=task.pk)
        task_complete(org=acme, task=task, by=alice, done=False)
        actions = list(
            AuditEvent.objects.filter(object_id=str(task.pk)).values_list("action", flat=True)
        )
    assert done.status == Task.Status.DONE
    assert done.completed_at is not None
    reopened = _fresh(acme, task)
    assert (reopened.status, reopened.completed_at) == (Task.Status.OPEN, None)
    assert sorted(actions) == ["task.completed", "task.created", "task.reopened"]


def test_it_snoozes_the_due_time_and_the_reminder_together(acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, reminder_at=SOON - timedelta(hours=1))
    with activate(acme):
        Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
        task.refresh_from_db()
        until = SOON + timedelta(days=3)
        task_snooze(org=acme, task=task, by=alice, until=until)
    stored = _fresh(acme, task)
    assert (stored.due_at, stored.reminder_at, stored.reminded_at) == (until, until, None)


def test_it_leaves_a_task_without_a_reminder_without_one_when_snoozed(acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice)
    with activate(acme):
        task_snooze(org=acme, task=task, by=alice, until=SOON + timedelta(days=1))
    assert _fresh(acme, task).reminder_at is None


def test_snooze_choices_end_at_nine_the_next_morning_or_next_monday() -> None:
    wednesday = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    with timezone.override("UTC"):
        assert snooze_until("hour", now=wednesday) == wednesday + timedelta(hours=1)
        assert snooze_until("tomorrow", now=wednesday) == datetime(2026, 3, 5, 9, tzinfo=UTC)
        assert snooze_until("week", now=wednesday) == datetime(2026, 3, 9, 9, tzinfo=UTC)
        assert snooze_until("never", now=wednesday) is None


def test_it_moves_a_deleted_task_to_the_trash_and_audits(acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice)
    with activate(acme):
        task_delete(org=acme, task=task, by=alice)
        assert not Task.objects.alive().filter(pk=task.pk).exists()
        assert AuditEvent.objects.filter(action="task.trashed", object_id=str(task.pk)).exists()
    assert _fresh(acme, task).deleted_at is not None


def test_the_next_step_is_the_first_open_task_by_due_time_undated_last(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    TaskFactory(org=acme, by=alice, contact=contact, title="Undated", due_at=None)
    TaskFactory(org=acme, by=alice, contact=contact, title="Later", due_at=SOON + timedelta(days=5))
    TaskFactory(org=acme, by=alice, contact=contact, title="First", due_at=SOON)
    stored = _fresh(acme, contact)
    assert (stored.next_step, stored.next_step_at) == ("First", SOON)


def test_an_undated_task_is_the_next_step_when_it_is_the_only_one(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    TaskFactory(org=acme, by=alice, contact=contact, title="Someday", due_at=None)
    stored = _fresh(acme, contact)
    assert (stored.next_step, stored.next_step_at) == ("Someday", None)


def test_the_next_step_moves_on_when_its_task_is_done_and_back_when_reopened(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    first = TaskFactory(org=acme, by=alice, contact=contact, title="First", due_at=SOON)
    TaskFactory(org=acme, by=alice, contact=contact, title="Second", due_at=SOON + timedelta(1))
    with activate(acme):
        task_complete(org=acme, task=first, by=alice)
    assert _fresh(acme, contact).next_step == "Second"
    with activate(acme):
        task_complete(org=acme, task=first, by=alice, done=False)
    assert _fresh(acme, contact).next_step == "First"


def test_the_next_step_is_cleared_when_the_last_open_task_is_done(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    only = TaskFactory(org=acme, by=alice, contact=contact, title="Only", due_at=SOON)
    with activate(acme):
        task_complete(org=acme, task=only, by=alice)
    stored = _fresh(acme, contact)
    assert (stored.next_step, stored.next_step_at) == ("", None)


def test_the_next_step_moves_on_when_its_task_is_trashed_and_back_when_restored(
    acme, alice
) -> None:
    contact = ContactFactory(org=acme)
    first = TaskFactory(org=acme, by=alice, contact=contact, title="First", due_at=SOON)
    TaskFactory(org=acme, by=alice, contact=contact, title="Second", due_at=SOON + timedelta(1))
    with activate(acme):
        task_delete(org=acme, task=first, by=alice)
    assert _fresh(acme, contact).next_step == "Second"
    with activate(acme):
        records_restore(org=acme, by=alice, kind=registry.kind("task"), ids=[first.pk])
    assert _fresh(acme, contact).next_step == "First"


def test_the_next_step_follows_a_change_of_due_time_and_of_contact(acme, alice) -> None:
    ada, grace = ContactFactory(org=acme), ContactFactory(org=acme)
    TaskFactory(org=acme, by=alice, contact=ada, title="Ada's", due_at=SOON)
    moving = TaskFactory(
        org=acme, by=alice, contact=ada, title="Moving", due_at=SOON + timedelta(1)
    )
    with activate(acme):
        task_update(org=acme, task=moving, by=alice, due_at=SOON - timedelta(hours=1))
    assert _fresh(acme, ada).next_step == "Moving"
    with activate(acme):
        task_update(org=acme, task=moving, by=alice, contact=grace)
    assert (_fresh(acme, ada).next_step, _fresh(acme, grace).next_step) == ("Ada's", "Moving")


def test_the_next_step_moves_on_after_a_bulk_complete(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    first = TaskFactory(org=acme, by=alice, contact=contact, title="First", due_at=SOON)
    TaskFactory(org=acme, by=alice, contact=contact, title="Second", due_at=SOON + timedelta(1))
    with activate(acme):
        membership = alice.memberships.get()
        applied = records_bulk_apply(
            kind=registry.kind("task"), org=acme, by=alice, membership=membership,
            ids=[first.pk], filters=None, action="complete", value="",
        )  # fmt: skip
    assert applied.count == 1
    assert _fresh(acme, first).status == Task.Status.DONE
    assert _fresh(acme, contact).next_step == "Second"


def test_a_second_task_of_the_same_source_is_the_first(acme, alice) -> None:
    first = TaskFactory(org=acme, by=None, title="Follow up", source_key="no_reply:7")
    again = TaskFactory(org=acme, by=None, title="Follow up again", source_key="no_reply:7")
    assert again.pk == first.pk
    with activate(acme):
        assert list(Task.objects.values_list("title", flat=True)) == ["Follow up"]
        assert AuditEvent.objects.filter(action="task.created").count() == 1


def test_a_new_reminder_time_is_sent_again(acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, reminder_at=SOON - timedelta(hours=2))
    with activate(acme):
        Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
        task.refresh_from_db()
        task_update(org=acme, task=task, by=alice, title="Renamed")
        assert Task.objects.get(pk=task.pk).reminded_at is not None  # the same reminder
        task_update(org=acme, task=task, by=alice, reminder_at=SOON - timedelta(hours=1))
    assert _fresh(acme, task).reminded_at is None


def test_the_same_reminder_minute_from_the_edit_form_is_not_sent_again(acme, alice) -> None:
    # A snooze "in an hour" keeps the seconds; the edit form gives back whole minutes.
    reminder = SOON.replace(second=42, microsecond=123456)
    task = TaskFactory(org=acme, by=alice, owner=alice, reminder_at=reminder)
    with activate(acme):
        Task.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
        task.refresh_from_db()
        minute = reminder.replace(second=0, microsecond=0)
        task_update(org=acme, task=task, by=alice, title="Renamed", reminder_at=minute)
    assert _fresh(acme, task).reminded_at is not None


def test_it_refuses_an_assignee_from_another_organisation(acme, alice, charlie) -> None:
    contact = ContactFactory(org=acme)
    with activate(acme), pytest.raises(ValidationError) as refused:
        task_create(org=acme, by=alice, title="Leak", contact=contact, assignee=charlie)
    assert "assignee" in refused.value.message_dict
    with activate(acme):
        assert not Task.objects.exists()
        assert not Notification.objects.exists()
        assert _fresh(acme, contact).next_step == ""


def test_it_refuses_to_reassign_to_someone_from_another_organisation(acme, alice, charlie) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice)
    with activate(acme), pytest.raises(ValidationError):
        task_update(org=acme, task=task, by=alice, assignee=charlie)
    with activate(acme):
        assert Task.objects.get(pk=task.pk).assignee_id == alice.pk
        assert not AuditEvent.objects.filter(action="task.updated").exists()


@pytest.mark.parametrize("field", ["title", "notes"])
def test_it_refuses_a_null_character(acme, alice, field) -> None:
    values: dict[str, Any] = {"title": "Call", field: "a\x00b"}
    with activate(acme), pytest.raises(ValidationError) as refused:
        task_create(org=acme, by=alice, **values)
    assert field in refused.value.message_dict
    with activate(acme):
        assert not Task.objects.exists()


def test_it_refuses_a_blank_title(acme, alice) -> None:
    with activate(acme), pytest.raises(ValidationError) as refused:
        task_create(org=acme, by=alice, title="   ")
    assert "title" in refused.value.message_dict


def test_it_tells_the_assignee_not_the_maker(acme, alice, rita) -> None:
    given = TaskFactory(org=acme, by=alice, title="Call Ada", owner=rita)
    TaskFactory(org=acme, by=alice, title="Mine", owner=alice)
    with activate(acme):
        notes = list(Notification.objects.all())
    assert [(n.user_id, n.kind, n.task_id) for n in notes] == [(rita.pk, "assigned", given.pk)]
    assert notes[0].title == "Alice Archer gave you a task: Call Ada"
    assert notes[0].url == f"/o/acme/tasks/{given.pk}/"


def test_it_tells_the_new_assignee_when_a_task_is_reassigned(acme, alice, rita, sam) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice)
    with activate(acme):
        task_update(org=acme, task=task, by=alice, assignee=sam)
        task_update(org=acme, task=task, by=alice, title="Renamed")  # no new one for this
        assert list(Notification.objects.values_list("user_id", flat=True)) == [sam.pk]


def test_only_its_assignee_maker_or_a_manager_may_change_a_task(acme, alice, rita, sam) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, title="Alice's")
    with activate(acme):
        for change in (lambda: task_update(org=acme, task=task, by=rita, title="Rita's"),
                       lambda: task_complete(org=acme, task=task, by=rita),
                       lambda: task_delete(org=acme, task=task, by=rita)):  # fmt: skip
            with pytest.raises(PermissionDenied):
                change()
        given = TaskFactory(org=acme, by=alice, owner=sam)
        task_complete(org=acme, task=given, by=sam)  # the assignee may
    assert _fresh(acme, task).title == "Alice's"


def test_an_interaction_moves_its_contacts_and_companys_last_interaction_forward(
    acme, alice
) -> None:
    company = CompanyFactory(org=acme)
    contact = ContactFactory(org=acme, company=company)
    at = timezone.now() - timedelta(hours=3)
    with activate(acme):
        interaction_log(org=acme, by=alice, channel="call", direction="outbound",
                        contact=contact, occurred_at=at)  # fmt: skip
        interaction_log(org=acme, by=alice, channel="call", direction="outbound",
                        contact=contact, occurred_at=at - timedelta(days=1))  # fmt: skip
        assert Contact.objects.get(pk=contact.pk).last_interaction_at == at
        assert Company.objects.get(pk=company.pk).last_interaction_at == at


def test_a_task_moved_to_a_contact_goes_to_their_company(acme, alice) -> None:
    northwind = CompanyFactory(org=acme)
    ada = ContactFactory(org=acme, company=northwind)
    task = TaskFactory(org=acme, by=alice, owner=alice)
    with activate(acme):
        task_update(org=acme, task=task, by=alice, contact=ada)
    assert _fresh(acme, task).company_id == northwind.pk


def test_a_bulk_complete_skips_the_tasks_a_rep_may_not_change(acme, alice, rita) -> None:
    hers = TaskFactory(org=acme, by=rita, owner=rita, title="Rita's")
    alices = TaskFactory(org=acme, by=alice, owner=alice, title="Alice's")
    with activate(acme):
        applied = records_bulk_apply(
            kind=registry.kind("task"), org=acme, by=rita, membership=rita.memberships.get(),
            ids=[hers.pk, alices.pk], filters=None, action="complete", value="",
        )  # fmt: skip
    assert applied.count == 1
    assert (_fresh(acme, hers).status, _fresh(acme, alices).status) == ("done", "open")


def test_the_contact_a_merge_keeps_gets_its_next_step(acme, alice) -> None:
    from crm.records.merging import records_merge

    ada, twin = ContactFactory(org=acme), ContactFactory(org=acme)
    TaskFactory(org=acme, by=alice, contact=twin, title="Twin's call", due_at=SOON)
    with activate(acme):
        records_merge(org=acme, kind=registry.kind("contact"), survivor=ada, others=[twin],
                      values={}, by=alice)  # fmt: skip
    assert _fresh(acme, ada).next_step == "Twin's call"


def test_a_reminder_set_back_to_a_time_already_sent_is_sent_again(acme, alice) -> None:
    from interactions.reminders import reminders_run

    when = timezone.now() - timedelta(minutes=5)
    task = TaskFactory(org=acme, by=alice, owner=alice, reminder_at=when)
    with activate(acme):
        reminders_run(org=acme)
        task_update(org=acme, task=task, by=alice, reminder_at=when + timedelta(minutes=1))
        task_update(org=acme, task=_fresh(acme, task), by=alice, reminder_at=when)
        reminders_run(org=acme)
        assert Notification.objects.filter(task=task, kind="reminder").count() == 2
