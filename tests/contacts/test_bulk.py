"""/o/acme/contacts/bulk/: what the contacts' and companies' bulk actions add to those of
every kind (tests/records/test_bulk.py): a contact's change of stage, and the Trash page."""

from typing import Any, cast

import pytest
from django.test import Client

from contacts.models import Contact
from crm.models import AuditEvent, Organization, User
from crm.tenancy import activate
from tests.factories import ContactFactory, make_record

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/bulk/"
APPLY = "/o/acme/contacts/bulk/apply/"


def _apply(client: Client, contacts: list[Contact], action: str, **data: Any) -> Any:
    ids = [str(c.pk) for c in contacts]
    return client.post(APPLY, {"action": action, "scope": "selected", "ids": ids, **data})


def _fresh(org: Organization, contacts: list[Contact]) -> list[Contact]:
    with activate(org):
        found = Contact.objects.filter(pk__in=[c.pk for c in contacts]).order_by("pk")
        return cast(list[Contact], list(found))


def _bulk_events(org: Organization) -> list[tuple[str, dict[str, Any]]]:
    with activate(org):
        found = AuditEvent.objects.filter(action__startswith="contact.bulk_").order_by("pk")
        return [(event.action, event.changes) for event in found]


# --- A contact's stage -------------------------------------------------------------------


def test_it_changes_the_lifecycle_of_the_selected_rows(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen = [ContactFactory(org=acme), ContactFactory(org=acme)]
    other = [ContactFactory(org=acme)]
    client.force_login(alice)
    _apply(client, chosen, "change_lifecycle", lifecycle="customer")
    assert [c.lifecycle for c in _fresh(acme, chosen)] == ["customer", "customer"]
    assert _fresh(acme, other)[0].lifecycle == "lead"
    assert [action for action, _ in _bulk_events(acme)] == ["contact.bulk_change_lifecycle"]


def test_it_changes_the_lifecycle_of_every_matching_row_not_only_the_page(
    client: Client, acme: Organization, alice: User
) -> None:
    matching = [ContactFactory(org=acme, lifecycle="customer") for _ in range(60)]
    other = [ContactFactory(org=acme, lifecycle="lead") for _ in range(3)]
    client.force_login(alice)
    data = {"action": "change_lifecycle", "lifecycle": "churned", "scope": "all"}
    response = client.post(APPLY, {**data, "query": "lifecycle=customer&page=2"})
    assert response["Location"] == "/o/acme/contacts/?lifecycle=customer&page=2"
    assert {c.lifecycle for c in _fresh(acme, matching)} == {"churned"}
    assert {c.lifecycle for c in _fresh(acme, other)} == {"lead"}
    assert _bulk_events(acme)[0][1]["count"] == [None, 60]


def _people(org: Organization, count: int, **fields: Any) -> None:
    """`count` contacts named Person NNNN, written in one statement (a factory would take
    seconds)."""
    with activate(org):
        Contact.objects.bulk_create(
            Contact(org=org, first_name="Person", last_name=f"{n:04d}", **fields)
            for n in range(count)
        )


def test_it_applies_to_a_search_matching_more_than_the_list_counts(
    client: Client, acme: Organization, alice: User
) -> None:
    # The list counts a search to 1,000 ("more than 1,000 match"); all matching means all.
    _people(acme, 1_100)
    ada = ContactFactory(org=acme, first_name="Ada")
    client.force_login(alice)
    data = {
        "action": "change_lifecycle",
        "lifecycle": "customer",
        "scope": "all",
        "query": "q=person",
    }
    page = client.post(URL, data).content.decode()
    assert "This will change 1100 contacts." in page
    client.post(APPLY, data)
    with activate(acme):
        assert Contact.objects.filter(lifecycle="customer").count() == 1_100
        assert Contact.objects.get(pk=ada.pk).lifecycle == "lead"
    assert _bulk_events(acme)[0][1]["count"] == [None, 1_100]


@pytest.mark.parametrize("url", [URL, APPLY])
def test_it_refuses_a_stage_that_is_not_one_and_changes_nothing(
    client: Client, acme: Organization, alice: User, url: str
) -> None:
    chosen = [ContactFactory(org=acme), ContactFactory(org=acme)]
    client.force_login(alice)
    data = {"action": "change_lifecycle", "lifecycle": "king"}
    response = client.post(url, {**data, "scope": "selected", "ids": [c.pk for c in chosen]},
                           follow=True)  # fmt: skip
    assert "“king” is not a lifecycle stage." in response.content.decode()
    assert _bulk_events(acme) == []
    assert all(c.lifecycle == "lead" and c.owner_id is None for c in _fresh(acme, chosen))


# --- The Trash page ----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "prefix"), [("contact", "contacts"), ("company", "companies")])
def test_the_trash_shows_what_a_bulk_action_moved_there(
    client: Client, acme: Organization, alice: User, kind: str, prefix: str
) -> None:
    chosen = [make_record(kind, acme, n) for n in range(2)]
    client.force_login(alice)
    ids = [r.pk for r in chosen]
    client.post(f"/o/acme/{prefix}/bulk/apply/", {"action": "delete", "scope": "selected",
                                                  "ids": ids})  # fmt: skip
    page = client.get("/o/acme/trash/").content.decode()
    assert all(str(record) in page for record in chosen)
