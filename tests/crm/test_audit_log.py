"""Settings → Audit log: newest first, filters, the htmx partial, its query count, who sees it."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm.models import AuditEvent, Membership, Organization, User
from crm.tenancy import activate

pytestmark = pytest.mark.django_db


def _event(
    org: Organization, action: str, actor: User | None = None, at=None, changes=None,
    object_type: str = "crm.team", object_id: str = "1",
) -> AuditEvent:  # fmt: skip
    with activate(org):
        return AuditEvent.objects.create(
            org=org, action=action, actor=actor, object_type=object_type, object_id=object_id,
            object_repr="Closers", at=at or timezone.now(), changes=changes or {},
        )  # fmt: skip


def _day(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


def _actions(response) -> list[str]:
    """The actions listed in the results, top to bottom."""
    results = response.content.decode().split('<section id="results"', 1)[1]
    return re.findall(r'data-action="([^"]+)"', results)


def test_it_shows_events_newest_first(client: Client, acme, alice) -> None:
    _event(acme, "team.created", alice, at=_day(1))
    _event(acme, "team.deleted", alice, at=_day(3))
    _event(acme, "team.updated", alice, at=_day(2))
    client.force_login(alice)
    response = client.get("/o/acme/settings/audit/")
    assert _actions(response) == ["team.deleted", "team.updated", "team.created"]
    assert "Alice Archer" in response.content.decode()


def test_it_shows_only_this_organisations_events(client: Client, acme, globex, alice, charlie):
    _event(acme, "team.created", alice)
    _event(globex, "member.removed", charlie)
    client.force_login(alice)
    response = client.get("/o/acme/settings/audit/")
    assert _actions(response) == ["team.created"]
    assert "Charlie Chen" not in response.content.decode()


def test_it_filters_by_what_was_done(client: Client, acme, alice) -> None:
    _event(acme, "member.role_changed", alice)
    _event(acme, "team.created", alice)
    _event(acme, "contact.created", alice)
    client.force_login(alice)
    response = client.get("/o/acme/settings/audit/", {"action": "created"})
    assert sorted(_actions(response)) == ["contact.created", "team.created"]
    body = response.content.decode()
    assert '<option value="created" selected>Added</option>' in body
    assert "Role changed" in client.get("/o/acme/settings/audit/").content.decode()


def test_it_filters_by_who_did_it(client: Client, acme, alice, oscar) -> None:
    _event(acme, "team.created", alice)
    _event(acme, "org.updated", oscar)
    with activate(acme):
        oscars = Membership.objects.get(user=oscar)
    client.force_login(alice)
    response = client.get("/o/acme/settings/audit/", {"actor": oscars.pk})
    assert _actions(response) == ["org.updated"]


def test_it_filters_by_a_date_range(client: Client, acme, alice) -> None:
    for day in (1, 2, 3, 4):
        _event(acme, f"day.{day}", alice, at=_day(day))
    client.force_login(alice)
    response = client.get(
        "/o/acme/settings/audit/", {"at_after": "2026-03-02", "at_before": "2026-03-03"}
    )
    assert _actions(response) == ["day.3", "day.2"]


def test_it_says_so_when_nothing_matches(client: Client, acme, alice) -> None:
    _event(acme, "team.created", alice)
    client.force_login(alice)
    response = client.get("/o/acme/settings/audit/", {"action": "deal."})
    assert _actions(response) == []
    assert "No events match" in response.content.decode()


def test_it_answers_htmx_with_the_results_alone(client: Client, acme, alice) -> None:
    _event(acme, "team.created", alice)
    _event(acme, "member.removed", alice)
    client.force_login(alice)
    response = client.get("/o/acme/settings/audit/", {"action": "created"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.strip().startswith('<section id="results"')
    assert "<html" not in page
    assert _actions(response) == ["team.created"]


def test_it_pages_fifty_events_at_a_time(client: Client, acme, alice) -> None:
    start = _day(1)
    for n in range(55):
        _event(acme, f"e.{n}", alice, at=start + timedelta(minutes=n))
    client.force_login(alice)
    first = client.get("/o/acme/settings/audit/")
    assert len(_actions(first)) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert _actions(client.get("/o/acme/settings/audit/", {"page": 2}))[-1] == "e.0"


@pytest.mark.parametrize("events", [5, 60])
def test_it_reads_the_log_in_a_fixed_number_of_queries(
    client: Client, acme, alice, bob, rita, django_assert_max_num_queries, events: int
) -> None:
    actors = [alice, bob, rita]
    for n in range(events):
        _event(acme, "team.updated", actors[n % 3])
    client.force_login(alice)
    with django_assert_max_num_queries(11):
        response = client.get("/o/acme/settings/audit/")
    assert len(_actions(response)) == min(events, 50)


def test_it_refuses_a_viewer(client: Client, acme, alice, bob) -> None:
    _event(acme, "member.role_changed", alice)
    client.force_login(bob)
    response = client.get("/o/acme/settings/audit/")
    assert response.status_code == 403
    assert "member.role_changed" not in response.content.decode()


def test_it_hides_the_log_from_another_organisations_admin(client: Client, acme, charlie):
    _event(acme, "member.role_changed")
    client.force_login(charlie)
    response = client.get("/o/acme/settings/audit/")
    assert response.status_code == 404
    assert "member.role_changed" not in response.content.decode()


def test_it_records_the_address_a_change_came_from(client: Client, acme, alice) -> None:
    client.force_login(alice)
    client.post("/o/acme/settings/teams/new/", {"name": "West"}, REMOTE_ADDR="203.0.113.9")
    with activate(acme):
        event = AuditEvent.objects.get(action="team.created")
    assert (event.ip, event.actor) == ("203.0.113.9", alice)


def test_history_speaks_to_people(client: Client, acme, alice) -> None:
    from crm.records.custom_fields import custom_field_save
    from tests.factories import ContactFactory

    with activate(acme):
        custom_field_save(org=acme, by=alice, record_kind="contact", key="seats",
                          label="Seats", kind="number", choices=[])  # fmt: skip
    ada = ContactFactory(org=acme, by=alice, first_name="Ada")
    grace = ContactFactory(org=acme, by=alice, first_name="Grace")
    _event(acme, "contact.updated", alice, changes={
        "other_emails": [[], ["ada@home.example", "ada@work.example"]],
        "custom": [{}, {"seats": 12}], "do_not_email": [False, True],
        "search_text": ["a", "b"],
    }, object_type="contacts.contact", object_id=str(ada.pk))  # fmt: skip
    _event(acme, "contact.merged", alice, changes={"merged": [None, [grace.pk, 999]]},
           object_type="contacts.contact", object_id=str(ada.pk))  # fmt: skip
    client.force_login(alice)
    history = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "Other emails</span>: — → ada@home.example, ada@work.example" in history
    assert "Seats</span>: — → 12" in history
    assert "→ Yes" in history
    assert "Search text" not in history
    assert "[]" not in history
    assert "Merged 2 contacts into this one" in history


def test_the_log_says_what_an_export_and_a_bulk_action_did(client: Client, acme, alice) -> None:
    _event(acme, "contact.exported", alice, changes={
        "format": [None, "csv"], "query": [None, "q=ada&lifecycle=lead"], "rows": [None, 120],
    })  # fmt: skip
    _event(acme, "contact.bulk_delete", alice, changes={
        "count": [None, 72], "value": [None, ""], "ids": [None, list(range(72))],
    })  # fmt: skip
    client.force_login(alice)
    log = client.get("/o/acme/settings/audit/").content.decode()
    assert "Exported 120 contacts as CSV" in log
    assert "Search and filters</span>: — → q=ada&amp;lifecycle=lead" in log
    assert "72 contacts at once" in log
    assert "71, " not in log  # the ids stay in the record, not on the page
