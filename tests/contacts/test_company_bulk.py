"""/o/acme/companies/bulk/: bulk actions on the selected or all matching companies."""

from typing import Any, cast

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from contacts import services
from contacts.models import Company, CompanyTag
from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.tenancy import activate

pytestmark = pytest.mark.django_db

URL = "/o/acme/companies/bulk/"
APPLY = "/o/acme/companies/bulk/apply/"


def _companies(org: Organization, count: int, **fields: Any) -> list[Company]:
    with activate(org):
        return [
            services.company_create(org=org, by=None, name=f"Client {n:02d}", **fields)
            for n in range(count)
        ]


def _apply(client: Client, companies: list[Company], action: str, **data: Any) -> Any:
    ids = [str(c.pk) for c in companies]
    return client.post(APPLY, {"action": action, "scope": "selected", "ids": ids, **data})


def _fresh(org: Organization, companies: list[Company]) -> list[Company]:
    with activate(org):
        found = Company.objects.filter(pk__in=[c.pk for c in companies]).order_by("pk")
        return cast(list[Company], list(found))


def _bulk_events(org: Organization) -> list[tuple[str, dict[str, Any]]]:
    with activate(org):
        found = AuditEvent.objects.filter(action__startswith="company.bulk_").order_by("pk")
        return [(event.action, event.changes) for event in found]


def _tagged(org: Organization, name: str) -> set[int]:
    with activate(org):
        links = CompanyTag.objects.filter(tag__name=name)
        return set(links.values_list("company_id", flat=True))


# --- Each action, on the selected rows ---------------------------------------------------


def test_it_assigns_an_owner_to_the_selected_rows(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    chosen, other = _companies(acme, 2), _companies(acme, 1)
    client.force_login(alice)
    response = _apply(client, chosen, "assign_owner", owner=rita.pk)
    assert response["Location"] == "/o/acme/companies/"
    assert [c.owner_id for c in _fresh(acme, chosen)] == [rita.pk, rita.pk]
    assert _fresh(acme, other)[0].owner_id is None
    assert _bulk_events(acme) == [
        ("company.bulk_assign_owner", {"count": [None, 2], "value": [None, str(rita.pk)]})
    ]


def test_it_adds_a_tag_to_the_selected_rows(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen, other = _companies(acme, 2), _companies(acme, 1)
    with activate(acme):
        (vip,) = services.tags_by_name(org=acme, names=["VIP"], by=alice)
    already = _companies(acme, 1, tags=[vip])  # left as it is, and not counted
    client.force_login(alice)
    _apply(client, chosen + already, "add_tag", tag="vip")
    assert _tagged(acme, "VIP") == {c.pk for c in chosen + already}
    assert other[0].pk not in _tagged(acme, "VIP")
    assert _bulk_events(acme) == [
        ("company.bulk_add_tag", {"count": [None, 2], "value": [None, "vip"]})
    ]


def test_it_removes_a_tag_from_the_selected_rows(
    client: Client, acme: Organization, alice: User
) -> None:
    with activate(acme):
        (vip,) = services.tags_by_name(org=acme, names=["VIP"], by=alice)
    chosen, other = _companies(acme, 2, tags=[vip]), _companies(acme, 1, tags=[vip])
    client.force_login(alice)
    _apply(client, chosen, "remove_tag", tag="VIP")
    assert _tagged(acme, "VIP") == {other[0].pk}
    assert [action for action, _ in _bulk_events(acme)] == ["company.bulk_remove_tag"]


def test_it_moves_the_selected_rows_to_the_trash(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen, other = _companies(acme, 2), _companies(acme, 1)
    client.force_login(alice)
    response = _apply(client, chosen, "delete")
    assert all(c.deleted_at is not None for c in _fresh(acme, chosen))
    assert _fresh(acme, other)[0].deleted_at is None
    assert [action for action, _ in _bulk_events(acme)] == ["company.bulk_delete"]
    assert "Changed 2 companies." in client.get(response.url).content.decode()
    assert "Client 00" in client.get("/o/acme/trash/").content.decode()


# --- All matching rows and the confirmation ------------------------------------------------


def test_it_applies_to_every_matching_row_not_only_the_page(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    matching = _companies(acme, 60, industry="Retail")
    other = _companies(acme, 3, industry="Energy")
    client.force_login(alice)
    data = {"action": "assign_owner", "owner": rita.pk, "scope": "all"}
    response = client.post(APPLY, {**data, "query": "industry=retail&page=2"})
    assert response["Location"] == "/o/acme/companies/?industry=retail&page=2"
    assert {c.owner_id for c in _fresh(acme, matching)} == {rita.pk}
    assert {c.owner_id for c in _fresh(acme, other)} == {None}
    assert _bulk_events(acme)[0][1]["count"] == [None, 60]


def test_it_confirms_with_the_count_and_changes_nothing_yet(
    client: Client, acme: Organization, alice: User
) -> None:
    _companies(acme, 60, industry="Retail")
    _companies(acme, 3, industry="Energy")
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "industry=retail"}
    page = client.post(URL, data).content.decode()
    assert "This will change 60 companies." in page
    assert 'action="/o/acme/companies/bulk/apply/"' in page
    assert 'name="query" value="industry=retail"' in page
    assert 'href="/o/acme/companies/?industry=retail">Cancel' in page
    with activate(acme):
        assert Company.objects.alive().count() == 63
    assert _bulk_events(acme) == []


def test_it_confirms_one_selected_company(client: Client, acme: Organization, alice: User) -> None:
    chosen = _companies(acme, 3)
    client.force_login(alice)
    data = {"action": "add_tag", "tag": "VIP", "scope": "selected", "ids": [chosen[0].pk]}
    page = client.post(URL, data).content.decode()
    assert "This will change 1 company." in page
    assert f'name="ids" value="{chosen[0].pk}"' in page


# --- Whose companies, who may ----------------------------------------------------------------


def test_it_ignores_another_organisations_companies(
    client: Client, acme: Organization, globex: Organization, alice: User, charlie: User
) -> None:
    theirs = _companies(globex, 2)
    client.force_login(alice)  # an Acme admin posting Globex's ids to Acme's list
    response = _apply(client, theirs, "delete")
    assert "Changed 0 companies." in client.get(response.url).content.decode()
    assert all(c.deleted_at is None for c in _fresh(globex, theirs))
    assert _bulk_events(acme) == _bulk_events(globex) == []


def test_it_ignores_companies_the_member_cannot_see(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    ritas, alices = _companies(acme, 1, owner=rita), _companies(acme, 1, owner=alice)
    client.force_login(rita)
    _apply(client, ritas + alices, "delete")
    assert _fresh(acme, ritas)[0].deleted_at is not None
    assert _fresh(acme, alices)[0].deleted_at is None


def test_it_refuses_viewers(client: Client, acme: Organization, bob: User) -> None:
    chosen = _companies(acme, 1)
    client.force_login(bob)
    assert client.post(URL, {"action": "delete", "ids": [chosen[0].pk]}).status_code == 403
    assert _apply(client, chosen, "delete").status_code == 403
    assert _fresh(acme, chosen)[0].deleted_at is None
    assert 'name="ids"' not in client.get("/o/acme/companies/").content.decode()


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode"}, "“explode” is not a bulk action."),
        # Companies have no lifecycle stage.
        ({"action": "change_lifecycle", "lifecycle": "customer"}, "is not a bulk action."),
        ({"action": "assign_owner", "owner": "charlie"}, "Choose an owner who is a member"),
        ({"action": "remove_tag", "tag": " "}, "Give the name of the tag."),
    ],
)
@pytest.mark.parametrize("url", [URL, APPLY])
def test_it_refuses_bad_input_and_changes_nothing(
    client: Client, acme: Organization, alice: User, url: str, data: dict[str, str], message: str
) -> None:
    chosen = _companies(acme, 2)
    client.force_login(alice)
    ids = [c.pk for c in chosen]
    response = client.post(url, {**data, "scope": "selected", "ids": ids}, follow=True)
    assert message in response.content.decode()
    assert _bulk_events(acme) == []
    assert all(c.owner_id is None and c.deleted_at is None for c in _fresh(acme, chosen))


@pytest.mark.parametrize("ids", [["abc"], ["1e9"], ["-1"], [""], []])
def test_it_refuses_junk_or_no_ids(client: Client, acme: Organization, alice: User, ids) -> None:
    chosen = _companies(acme, 1)
    client.force_login(alice)
    response = client.post(APPLY, {"ids": ids, "action": "delete", "scope": "selected"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Select at least one company, or choose all matching rows." in page
    assert _fresh(acme, chosen)[0].deleted_at is None


def test_it_refuses_invalid_filters_for_all_matching(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen = _companies(acme, 2)
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "size=huge"}
    response = client.post(APPLY, data, follow=True)
    assert "These filters are not valid" in response.content.decode()
    assert all(c.deleted_at is None for c in _fresh(acme, chosen))


# --- The list's form and the cost -------------------------------------------------------


def test_the_list_offers_the_bulk_form_without_a_stage(
    client: Client, acme: Organization, alice: User
) -> None:
    chosen = _companies(acme, 1, industry="Retail")
    client.force_login(alice)
    page = client.get("/o/acme/companies/?industry=retail").content.decode()
    assert 'action="/o/acme/companies/bulk/"' in page
    assert f'name="ids" value="{chosen[0].pk}"' in page
    assert 'name="query" value="industry=retail"' in page
    assert "All 1 matching rows" in page
    assert '<option value="delete">Move to the Trash</option>' in page
    assert 'value="change_lifecycle"' not in page
    assert 'name="lifecycle"' not in page


@pytest.mark.parametrize("rows", [5, 50])
def test_it_applies_in_a_fixed_number_of_queries(
    client: Client, acme: Organization, alice: User, rows: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    chosen = _companies(acme, rows)
    client.force_login(alice)
    # As for contacts (tests/contacts/test_bulk.py): none of them per row.
    with django_assert_max_num_queries(21):
        _apply(client, chosen, "add_tag", tag="VIP")
    assert _bulk_events(acme)[0][1]["count"] == [None, rows]
