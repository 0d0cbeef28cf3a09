"""interactions.task_views: a task's pages under /o/<org>/tasks/, and the Tasks card of a
contact's page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm import services as crm_services
from crm.tenancy import activate
from interactions.models import Task
from tests.factories import ContactFactory, TaskFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
DUE = datetime.now(UTC) + timedelta(days=3)


def _stored(org, task):
    with activate(org):
        return Task.objects.get(pk=task.pk)


def _form(**values):
    return {"title": "Send the offer", "due_at": "2030-05-06T10:00", "priority": "normal",
            "assignee": "", "reminder_at": "", "notes": "", **values}  # fmt: skip


def test_it_offers_a_new_task_assigned_to_the_member(client: Client, acme, alice) -> None:
    client.force_login(alice)
    html = client.get("/o/acme/tasks/new/").content.decode()
    assert "<h1>New task</h1>" in html
    assert f'<option value="{alice.pk}" selected>Alice Archer</option>' in html


def test_it_adds_a_task_and_shows_it(client: Client, acme, alice, rita) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/tasks/new/", _form(assignee=rita.pk, notes="With prices"))
    with activate(acme):
        task = Task.objects.get()
    assert response["Location"] == f"/o/acme/tasks/{task.pk}/"
    assert (task.title, task.assignee_id) == ("Send the offer", rita.pk)
    assert task.created_by_id == alice.pk
    html = client.get(response["Location"]).content.decode()
    assert "Send the offer" in html
    assert "With prices" in html
    assert "Rita Reyes" in html


@pytest.mark.parametrize(
    ("values", "field"),
    [({"title": ""}, "title"), ({"title": "a\x00b"}, "title"), ({"due_at": "soon"}, "due_at"),
     ({"due_at": "2030-05-06T10:00", "reminder_at": "2030-05-09T10:00"}, "reminder_at"),
     ({"priority": "urgent"}, "priority")],
)  # fmt: skip
def test_it_shows_errors_beside_their_field_and_stores_nothing(
    client: Client, acme, alice, values, field
) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/tasks/new/", _form(**values))
    assert response.status_code == 400
    assert f'id="id_{field}_error_1"' in response.content.decode()
    with activate(acme):
        assert not Task.objects.exists()


def test_the_quick_add_answers_htmx_with_the_card_and_the_task(client: Client, acme, rita) -> None:
    contact = ContactFactory(org=acme, first_name="Ada")
    client.force_login(rita)
    data = {"contact": contact.pk, "title": "Call Ada back", "due_at": "2030-05-06T10:00",
            "priority": "normal", "next": f"/o/acme/contacts/{contact.pk}/#tasks"}  # fmt: skip
    response = client.post(f"/o/acme/tasks/new/?contact={contact.pk}", data, headers=HTMX)
    html = response.content.decode()
    with activate(acme):
        task = Task.objects.get()
    assert html.lstrip().startswith('<section id="tasks"')
    assert f'id="task-{task.pk}"' in html
    assert "Call Ada back" in html
    assert (task.contact_id, task.assignee_id) == (contact.pk, rita.pk)  # the poster's


def test_the_quick_add_answers_htmx_with_the_cards_errors(client: Client, acme, rita) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(rita)
    data = {"contact": contact.pk, "title": "", "due_at": "", "priority": "normal"}
    response = client.post(f"/o/acme/tasks/new/?contact={contact.pk}", data, headers=HTMX)
    html = response.content.decode()
    assert '<section id="tasks"' in html
    assert 'id="id_title_error_1"' in html
    assert '<details class="task-add" open>' in html
    with activate(acme):
        assert not Task.objects.exists()


def test_the_contact_page_shows_its_open_tasks(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    TaskFactory(org=acme, by=alice, contact=contact, title="Open one")
    done = TaskFactory(org=acme, by=alice, contact=contact, title="Done one")
    client.force_login(alice)
    client.post(f"/o/acme/tasks/{done.pk}/complete/")
    html = client.get(f"/o/acme/contacts/{contact.pk}/").content.decode()
    card = html[html.index('<section id="tasks"') :]
    card = card[: card.index("</section>")]
    assert "Open one" in card
    assert "Done one" not in card
    assert f'hx-post="/o/acme/tasks/new/?contact={contact.pk}"' in card


def test_it_edits_a_task(client: Client, acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, title="Draft")
    client.force_login(alice)
    assert 'value="Draft"' in client.get(f"/o/acme/tasks/{task.pk}/edit/").content.decode()
    response = client.post(f"/o/acme/tasks/{task.pk}/edit/", _form(title="Final", priority="high"))
    assert response["Location"] == f"/o/acme/tasks/{task.pk}/"
    stored = _stored(acme, task)
    assert (stored.title, stored.priority, stored.assignee_id) == ("Final", "high", None)
    bad = client.post(f"/o/acme/tasks/{task.pk}/edit/", _form(title=""))
    assert bad.status_code == 400
    assert _stored(acme, task).title == "Final"


def test_completing_by_htmx_answers_the_line_done_and_reopening_it_open(
    client: Client, acme, alice
) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, title="Call")
    client.force_login(alice)
    html = client.post(f"/o/acme/tasks/{task.pk}/complete/", headers=HTMX).content.decode()
    assert html.lstrip().startswith(f'<li class="task-line is-done" id="task-{task.pk}">')
    assert f'hx-post="/o/acme/tasks/{task.pk}/reopen/"' in html
    assert "Done: Call." in html
    assert _stored(acme, task).status == Task.Status.DONE
    html = client.post(f"/o/acme/tasks/{task.pk}/reopen/", headers=HTMX).content.decode()
    assert html.lstrip().startswith(f'<li class="task-line" id="task-{task.pk}">')
    assert f'hx-post="/o/acme/tasks/{task.pk}/complete/"' in html
    assert _stored(acme, task).status == Task.Status.OPEN


def test_a_line_of_the_cards_comes_back_with_its_assignee(client: Client, acme, alice, rita):
    contact = ContactFactory(org=acme)
    task = TaskFactory(org=acme, by=alice, owner=rita, contact=contact)
    client.force_login(alice)
    card = client.get(f"/o/acme/contacts/{contact.pk}/").content.decode()
    assert 'name="show_assignee" value="1"' in card
    data = {"show_assignee": "1", "until": "week"}  # what the card's line posts
    line = client.post(f"/o/acme/tasks/{task.pk}/snooze/", data, headers=HTMX).content.decode()
    assert "Rita Reyes" in line
    plain = client.post(f"/o/acme/tasks/{task.pk}/complete/", headers=HTMX)  # no flag: none
    assert "Rita Reyes" not in plain.content.decode()


def test_snoozing_by_htmx_answers_the_line_due_then(client: Client, acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, due_at=DUE - timedelta(days=5))
    client.force_login(alice)
    response = client.post(f"/o/acme/tasks/{task.pk}/snooze/", {"until": "tomorrow"}, headers=HTMX)
    html = response.content.decode()
    tomorrow = timezone.localtime() + timedelta(days=1)
    tomorrow = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
    assert _stored(acme, task).due_at == tomorrow
    assert "Tomorrow, 09:00</time>" in html
    assert "Snoozed until" in html
    assert 'class="is-overdue"' not in html
    refused = client.post(f"/o/acme/tasks/{task.pk}/snooze/", {"until": "someday"})
    assert refused.status_code == 400
    assert _stored(acme, task).due_at == tomorrow


def test_a_plain_post_goes_back_to_a_page_of_this_site_only(client: Client, acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice)
    client.force_login(alice)
    back = client.post(f"/o/acme/tasks/{task.pk}/complete/", {"next": "/o/acme/?tab=mine"})
    assert back["Location"] == "/o/acme/?tab=mine"
    away = client.post(f"/o/acme/tasks/{task.pk}/reopen/", {"next": "https://evil.example/"})
    assert away["Location"] == f"/o/acme/tasks/{task.pk}/"
    away = client.post(
        f"/o/acme/tasks/{task.pk}/snooze/", {"until": "hour", "next": "//evil.example/"}
    )
    assert away["Location"] == f"/o/acme/tasks/{task.pk}/"
    assert _stored(acme, task).status == Task.Status.OPEN


def test_delete_asks_first_then_moves_to_the_trash(client: Client, acme, alice) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, title="Old")
    client.force_login(alice)
    html = client.get(f"/o/acme/tasks/{task.pk}/delete/").content.decode()
    assert "Delete “Old”?" in html
    assert "Move to Trash" in html
    assert _stored(acme, task).deleted_at is None
    response = client.post(f"/o/acme/tasks/{task.pk}/delete/")
    assert response["Location"] == "/o/acme/tasks/"
    assert _stored(acme, task).deleted_at is not None
    assert client.get(f"/o/acme/tasks/{task.pk}/").status_code == 404


ROUTES = ["", "edit/", "complete/", "reopen/", "snooze/", "delete/"]


def test_another_organisations_task_is_not_found(client: Client, acme, alice, charlie) -> None:
    task = TaskFactory(org=acme, by=alice, owner=alice, title="Acme's")
    client.force_login(charlie)
    for route in ROUTES:
        for method in ("get", "post"):
            for headers in ({}, HTMX):
                answer = getattr(client, method)(f"/o/globex/tasks/{task.pk}/{route}",
                                                 {"until": "hour"}, headers=headers)  # fmt: skip
                assert answer.status_code in (404, 405), (method, route)
    stored = _stored(acme, task)
    assert (stored.title, stored.status, stored.deleted_at) == ("Acme's", "open", None)


def test_a_viewer_may_read_a_task_but_not_change_one(client: Client, acme, alice, bob) -> None:
    task = TaskFactory(org=acme, by=alice, owner=bob, title="Bob task")
    client.force_login(bob)
    html = client.get(f"/o/acme/tasks/{task.pk}/").content.decode()
    assert "Bob task" in html
    assert f"/o/acme/tasks/{task.pk}/edit/" not in html
    for route in ROUTES[1:]:
        assert client.post(f"/o/acme/tasks/{task.pk}/{route}", {"until": "hour"}).status_code == 403
    assert client.post("/o/acme/tasks/new/", _form()).status_code == 403
    stored = _stored(acme, task)
    assert (stored.status, stored.deleted_at) == ("open", None)


def _reps_see_their_own(acme, alice) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})


def test_a_rep_limited_to_own_records_finds_no_task_on_a_colleagues_contact(
    client: Client, acme, alice, rita
) -> None:
    _reps_see_their_own(acme, alice)
    theirs = ContactFactory(org=acme, owner=alice)
    task = TaskFactory(org=acme, by=alice, owner=alice, contact=theirs)
    client.force_login(rita)
    for route in ROUTES:
        for method in ("get", "post"):
            answer = getattr(client, method)(f"/o/acme/tasks/{task.pk}/{route}", {"until": "hour"})
            assert answer.status_code in (404, 405), (method, route)
    assert _stored(acme, task).status == Task.Status.OPEN


def test_a_rep_may_read_but_not_change_a_colleagues_task_on_their_contact(
    client: Client, acme, alice, rita
) -> None:
    _reps_see_their_own(acme, alice)
    mine = ContactFactory(org=acme, owner=rita)
    task = TaskFactory(org=acme, by=alice, owner=alice, contact=mine, title="Alice task")
    client.force_login(rita)
    assert "Alice task" in client.get(f"/o/acme/tasks/{task.pk}/").content.decode()
    assert client.get(f"/o/acme/tasks/{task.pk}/edit/").status_code == 403
    for route in ROUTES[1:]:
        assert client.post(f"/o/acme/tasks/{task.pk}/{route}", {"until": "hour"}).status_code == 403
    given = TaskFactory(org=acme, by=alice, owner=rita, contact=mine)  # hers: she may
    assert client.post(f"/o/acme/tasks/{given.pk}/complete/").status_code == 302


def test_the_detail_page_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, rita, django_assert_max_num_queries
) -> None:
    contact = ContactFactory(org=acme)
    task = TaskFactory(org=acme, by=rita, owner=alice, contact=contact, reminder_at=DUE)
    client.force_login(alice)
    client.get(f"/o/acme/tasks/{task.pk}/")
    with django_assert_max_num_queries(DETAIL_QUERIES):
        assert "Rita Reyes" in client.get(f"/o/acme/tasks/{task.pk}/").content.decode()


# The session, the member, their organisation and the tenancy's own (seven), the task with
# its assignee, contact and company, and its maker.
DETAIL_QUERIES = 9


@pytest.mark.parametrize("count", [3, 30])
def test_the_tasks_list_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, rita, count, django_assert_max_num_queries
) -> None:
    contact = ContactFactory(org=acme)
    for n in range(count):
        TaskFactory(org=acme, by=alice, owner=rita, contact=contact, title=f"Listed {n}")
    client.force_login(alice)
    client.get("/o/acme/tasks/")
    with django_assert_max_num_queries(LIST_QUERIES):
        html = client.get("/o/acme/tasks/").content.decode()
    assert html.count("Listed ") >= min(count, 25)


# As many for 3 tasks as for 30: the rows come with their assignee, contact and company.
LIST_QUERIES = 11
