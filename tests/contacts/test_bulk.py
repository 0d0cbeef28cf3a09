"""/o/acme/contacts/bulk/: bulk actions on the selected or all matching contacts."""

from typing import Any, cast

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from contacts import services
from contacts.models import Contact, ContactTag
from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.records import bulk
from crm.tenancy import activate

pytestmark = pytest.mark.django_db

URL = "/o/acme/contacts/bulk/"
APPLY = "/o/acme/contacts/bulk/apply/"


def _contacts(org: Organization, count: int, **fields: Any) -> list[Contact]:
    with activate(org):
        return [
            services.contact_create(org=org, by=None, first_name="Person", last_name=f"{n:02d}",
                                    **fields)
            for n in range(count)
        ]  # fmt: skip


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


# --- Each action, on the selected rows ---------------------------------------------------


def test_it_assigns_an_owner_to_the_selected_rows(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    chosen, other = _contacts(acme, 2), _contacts(acme, 1)
    client.force_login(alice)
    _apply(client, chosen, "assign_owner", owner=rita.pk)
    assert [c.owner_id for c in _fresh(acme, chosen)] == [rita.pk, rita.pk]
    assert _fresh(acme, other)[0].owner_id is None
    assert _bulk_events(acme) == [
        ("contact.bulk_assign_owner", {"count": [None, 2], "value": [None, str(rita.pk)]})
    ]


def test_it_changes_the_lifecycle_of_the_selected_rows(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen, other = _contacts(acme, 2), _contacts(acme, 1)
    client.force_login(alice)
    _apply(client, chosen, "change_lifecycle", lifecycle="customer")
    assert [c.lifecycle for c in _fresh(acme, chosen)] == ["customer", "customer"]
    assert _fresh(acme, other)[0].lifecycle == "lead"
    assert [action for action, _ in _bulk_events(acme)] == ["contact.bulk_change_lifecycle"]


def test_it_adds_a_tag_to_the_selected_rows(
    client: Client, acme: Organization, alice: User
) -> None:
    with activate(acme):
        (vip,) = services.tags_by_name(org=acme, names=["VIP"], by=alice)
    chosen, other = _contacts(acme, 2), _contacts(acme, 1)
    _contacts(acme, 1, tags=[vip])  # already tagged: left as it is
    client.force_login(alice)
    _apply(client, chosen, "add_tag", tag="vip")
    with activate(acme):
        assert set(ContactTag.objects.filter(tag=vip).values_list("contact_id", flat=True)) >= {
            c.pk for c in chosen
        }
        assert not ContactTag.objects.filter(contact=other[0]).exists()
    assert _bulk_events(acme) == [
        ("contact.bulk_add_tag", {"count": [None, 2], "value": [None, "vip"]})
    ]


def test_it_removes_a_tag_from_the_selected_rows(
    client: Client, acme: Organization, alice: User
) -> None:
    with activate(acme):
        (vip,) = services.tags_by_name(org=acme, names=["VIP"], by=alice)
    chosen, other = _contacts(acme, 2, tags=[vip]), _contacts(acme, 1, tags=[vip])
    client.force_login(alice)
    _apply(client, chosen, "remove_tag", tag="VIP")
    with activate(acme):
        assert list(ContactTag.objects.values_list("contact_id", flat=True)) == [other[0].pk]
    assert [action for action, _ in _bulk_events(acme)] == ["contact.bulk_remove_tag"]


def test_it_moves_the_selected_rows_to_the_trash(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen, other = _contacts(acme, 2), _contacts(acme, 1)
    client.force_login(alice)
    response = _apply(client, chosen, "delete")
    assert response.status_code == 302
    assert all(c.deleted_at is not None for c in _fresh(acme, chosen))
    assert _fresh(acme, other)[0].deleted_at is None
    assert [action for action, _ in _bulk_events(acme)] == ["contact.bulk_delete"]
    assert "Changed 2 contacts." in client.get(response.url).content.decode()


# --- All matching rows -------------------------------------------------------------------


def test_it_applies_to_every_matching_row_not_only_the_page(
    client: Client, acme: Organization, alice: User
) -> None:
    matching = _contacts(acme, 60, lifecycle="customer")
    other = _contacts(acme, 3, lifecycle="lead")
    client.force_login(alice)
    data = {"action": "change_lifecycle", "lifecycle": "churned", "scope": "all"}
    response = client.post(APPLY, {**data, "query": "lifecycle=customer&page=2"})
    assert response["Location"] == "/o/acme/contacts/?lifecycle=customer&page=2"
    assert {c.lifecycle for c in _fresh(acme, matching)} == {"churned"}
    assert {c.lifecycle for c in _fresh(acme, other)} == {"lead"}
    assert _bulk_events(acme)[0][1]["count"] == [None, 60]


def _people(org: Organization, count: int, **fields: Any) -> None:
    """`count` contacts named Person NNNN, written in one statement."""
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
    ada = _contacts(acme, 1)[0]
    with activate(acme):
        Contact.objects.filter(pk=ada.pk).update(first_name="Ada")
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


def test_it_refuses_a_search_matching_more_than_an_action_changes(
    client: Client, acme: Organization, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MAX_ROWS", 50)
    _people(acme, 51)
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "q=person"}
    for url in (URL, APPLY):
        response = client.post(url, data, follow=True)
        assert "The search matches more than 50 contacts" in response.content.decode()
    with activate(acme):
        assert Contact.objects.alive().count() == 51


def test_it_refuses_filters_matching_more_than_an_action_changes(
    client: Client, acme: Organization, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MAX_ROWS", 50)
    _people(acme, 51, lifecycle="customer")
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "lifecycle=customer"}
    response = client.post(APPLY, data, follow=True)
    assert "A bulk action changes at most 50 contacts" in response.content.decode()
    with activate(acme):
        assert Contact.objects.alive().count() == 51


def test_it_confirms_with_the_count_and_changes_nothing_yet(
    client: Client, acme: Organization, alice: User
) -> None:
    _contacts(acme, 60, lifecycle="customer")
    _contacts(acme, 3, lifecycle="lead")
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "lifecycle=customer"}
    page = client.post(URL, data).content.decode()
    assert "This will change 60 contacts." in page
    assert 'name="query" value="lifecycle=customer"' in page
    with activate(acme):
        assert Contact.objects.alive().count() == 63
    assert _bulk_events(acme) == []


def test_it_confirms_the_selected_rows_with_their_ids(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen = _contacts(acme, 3)
    client.force_login(alice)
    data = {"action": "add_tag", "tag": "VIP", "scope": "selected", "ids": [chosen[0].pk]}
    page = client.post(URL, data).content.decode()
    assert "This will change 1 contact." in page
    assert f'name="ids" value="{chosen[0].pk}"' in page
    assert 'name="tag" value="VIP"' in page


# --- Whose contacts ----------------------------------------------------------------------


def test_it_ignores_another_organisations_contacts(
    client: Client, acme: Organization, globex: Organization, alice: User, charlie: User
) -> None:
    acme_contacts = _contacts(acme, 2)
    client.force_login(charlie)
    data = {"action": "delete", "scope": "selected", "ids": [c.pk for c in acme_contacts]}
    client.post("/o/globex/contacts/bulk/apply/", data)
    assert all(c.deleted_at is None for c in _fresh(acme, acme_contacts))


def test_it_ignores_contacts_the_member_cannot_see(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    ritas, alices = _contacts(acme, 1, owner=rita), _contacts(acme, 1, owner=alice)
    client.force_login(rita)
    _apply(client, ritas + alices, "change_lifecycle", lifecycle="customer")
    assert _fresh(acme, ritas)[0].lifecycle == "customer"
    assert _fresh(acme, alices)[0].lifecycle == "lead"


def test_it_refuses_viewers(client: Client, acme: Organization, bob: User) -> None:
    chosen = _contacts(acme, 1)
    client.force_login(bob)
    assert client.post(URL, {"action": "delete", "ids": [chosen[0].pk]}).status_code == 403
    assert _apply(client, chosen, "delete").status_code == 403
    assert _fresh(acme, chosen)[0].deleted_at is None


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode"}, "“explode” is not a bulk action."),
        ({"action": "assign_owner", "owner": "charlie"}, "Choose an owner who is a member"),
        ({"action": "add_tag", "tag": "  "}, "Give the name of the tag."),
        ({"action": "change_lifecycle", "lifecycle": "king"}, "“king” is not a lifecycle stage."),
    ],
)
@pytest.mark.parametrize("url", [URL, APPLY])
def test_it_refuses_bad_input_and_changes_nothing(
    client: Client, acme: Organization, alice: User, url: str, data: dict[str, str], message: str
) -> None:
    chosen = _contacts(acme, 2)
    client.force_login(alice)
    response = client.post(url, {**data, "scope": "selected", "ids": [c.pk for c in chosen]},
                           follow=True)  # fmt: skip
    assert message in response.content.decode()
    assert _bulk_events(acme) == []
    assert all(c.lifecycle == "lead" and c.owner_id is None for c in _fresh(acme, chosen))


def test_it_refuses_an_owner_from_another_organisation(
    client: Client, acme: Organization, alice: User, charlie: User
) -> None:
    chosen = _contacts(acme, 1)
    client.force_login(alice)
    response = _apply(client, chosen, "assign_owner", owner=charlie.pk)
    assert "Choose an owner who is a member" in client.get(response.url).content.decode()
    assert _fresh(acme, chosen)[0].owner_id is None


# --- The list's form and the cost -------------------------------------------------------


def test_the_list_offers_the_bulk_form_to_editors_only(
    client: Client, acme: Organization, alice: User, bob: User
) -> None:
    chosen = _contacts(acme, 1)
    client.force_login(alice)
    page = client.get("/o/acme/contacts/?lifecycle=lead").content.decode()
    assert 'action="/o/acme/contacts/bulk/"' in page
    assert f'name="ids" value="{chosen[0].pk}"' in page
    assert 'name="query" value="lifecycle=lead"' in page
    assert "All 1 matching rows" in page
    client.force_login(bob)
    assert 'name="ids"' not in client.get("/o/acme/contacts/").content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_it_applies_in_a_fixed_number_of_queries(
    client: Client, acme: Organization, alice: User, rows: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    chosen = _contacts(acme, rows)
    client.force_login(alice)
    # Session, user, organisation, membership, both walls and their savepoints; the
    # targets; the tag (found or created, audited); the records' tags, the new links, the
    # contacts' updated_at, the records (for their History), one event per record in one
    # insert, the bulk audit event. None of them per row.
    with django_assert_max_num_queries(21):
        _apply(client, chosen, "add_tag", tag="VIP")
    assert _bulk_events(acme)[0][1]["count"] == [None, rows]


# --- Merge: the toolbar's way to the merge page ---------------------------------------------


def test_it_takes_the_selected_rows_to_the_merge_page(
    client: Client, acme: Organization, rita: User
) -> None:
    first, second = _contacts(acme, 2)
    client.force_login(rita)
    assert "Merge the selected…" in client.get("/o/acme/contacts/").content.decode()
    response = client.post(URL, {"action": "merge", "scope": "selected",
                                 "ids": [first.pk, second.pk]})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/contacts/merge/?ids={first.pk}&ids={second.pk}"


@pytest.mark.parametrize("scope", ["one row", "all matching"])
def test_it_asks_for_two_to_ten_selected_rows_to_merge(
    client: Client, acme: Organization, rita: User, scope: str
) -> None:
    (contact,) = _contacts(acme, 1)
    client.force_login(rita)
    data = {"action": "merge", "scope": "all" if scope == "all matching" else "selected",
            "ids": [contact.pk]}  # fmt: skip
    response = client.post(URL, data, follow=True)
    assert "To merge, select from 2 to 10 rows." in response.content.decode()
