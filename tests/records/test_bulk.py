"""/o/acme/<kind>/bulk/: bulk actions on the selected or all matching records, over every
registered kind. A kind's own actions are its app's to test (a contact's change of stage:
tests/contacts/test_bulk.py)."""

from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from crm import services as crm_services
from crm.models import AuditEvent, Organization, User
from crm.records import bulk, registry
from crm.records.bulk import BulkAction
from crm.tenancy import activate
from tests.conftest import allow
from tests.factories import make_record
from tests.records.needs import needs

pytestmark = pytest.mark.django_db

KINDS = [kind.key for kind in registry.kinds()]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> registry.Kind:
    return registry.kind(request.param)


def _list(kind: registry.Kind, org: str = "acme") -> str:
    return f"/o/{org}/{kind.url_prefix}/"


def _records(
    kind: registry.Kind, org: Organization, count: int, first: int = 0, **values: Any
) -> list[Any]:
    """`count` records of the kind, the nth from `first` on, with `values`."""
    return [make_record(kind.key, org, n, **values) for n in range(first, first + count)]


def _apply(
    client: Client, kind: registry.Kind, records: list[Any], action: str, **data: Any
) -> Any:
    ids = [str(r.pk) for r in records]
    return client.post(
        f"{_list(kind)}bulk/apply/", {"action": action, "scope": "selected", "ids": ids, **data}
    )


def _fresh(kind: registry.Kind, org: Organization, records: list[Any]) -> list[Any]:
    with activate(org):
        found = kind.model._default_manager.filter(pk__in=[r.pk for r in records])
        return list(found.order_by("pk"))


def _toolbar(page: str) -> str:
    """The bulk bar of a list page (its filters may have fields of the same names)."""
    start = page.index('<div class="bulk-bar"')
    return page[start : page.index("</form>", start)]


def _owner(kind: registry.Kind, record: Any) -> int | None:
    """The id of a record's owner, whatever its kind calls the field (a task's assignee)."""
    return getattr(record, f"{kind.owner_field}_id")


def _rows(kind: registry.Kind, org: Organization, records: list[Any]) -> list[dict[str, Any]]:
    """Every field of the records, to compare before and after."""
    with activate(org):
        found = kind.model._default_manager.filter(pk__in=[r.pk for r in records])
        return list(found.order_by("pk").values())


def _alive(kind: registry.Kind, org: Organization) -> int:
    with activate(org):
        return kind.model._default_manager.filter(deleted_at__isnull=True).count()


def _bulk_events(kind: registry.Kind, org: Organization) -> list[tuple[str, dict[str, Any]]]:
    with activate(org):
        found = AuditEvent.objects.filter(action__startswith=f"{kind.key}.bulk_").order_by("pk")
        return [(event.action, event.changes) for event in found]


def _tagged(kind: registry.Kind, org: Organization, name: str) -> set[int]:
    assert kind.tags is not None
    with activate(org):
        links = kind.tags.link._default_manager.filter(tag__name=name)
        return set(links.values_list(kind.tags.column, flat=True))


def _foreign_actions(kind: registry.Kind) -> list[BulkAction]:
    """The actions other kinds declare and this one does not (a contact's change of stage,
    for a company)."""
    own = {action.key for action in kind.bulk_actions}
    found = {a.key: a for k in registry.kinds() for a in k.bulk_actions if a.key not in own}
    return list(found.values())


# --- Each action, on the selected rows ---------------------------------------------------


def test_it_assigns_an_owner_to_the_selected_rows(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, rita: User
) -> None:
    needs(kind, "assign_owner")
    chosen, other = _records(kind, acme, 2), _records(kind, acme, 1, first=2)
    client.force_login(alice)
    response = _apply(client, kind, chosen, "assign_owner", owner=rita.pk)
    assert response["Location"] == f"/o/acme/{kind.url_prefix}/"
    assert [_owner(kind, r) for r in _fresh(kind, acme, chosen)] == [rita.pk, rita.pk]
    assert _owner(kind, _fresh(kind, acme, other)[0]) is None
    ids = sorted(r.pk for r in chosen)
    assert _bulk_events(kind, acme) == [
        (f"{kind.key}.bulk_assign_owner",
         {"count": [None, 2], "value": [None, str(rita.pk)], "ids": [None, ids]})
    ]  # fmt: skip


def test_it_adds_a_tag_to_the_selected_rows(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    needs(kind, "tags")
    chosen, other = _records(kind, acme, 2), _records(kind, acme, 1, first=2)
    already = _records(kind, acme, 1, first=3, tags=("VIP",))  # left as it is, not counted
    client.force_login(alice)
    _apply(client, kind, chosen + already, "add_tag", tag="vip")
    assert _tagged(kind, acme, "VIP") == {r.pk for r in chosen + already}
    assert other[0].pk not in _tagged(kind, acme, "VIP")
    ids = sorted(r.pk for r in chosen + already)  # the ids it was applied to
    assert _bulk_events(kind, acme) == [
        (f"{kind.key}.bulk_add_tag",
         {"count": [None, 2], "value": [None, "vip"], "ids": [None, ids]})
    ]  # fmt: skip


def test_it_removes_a_tag_from_the_selected_rows(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    needs(kind, "tags")
    chosen = _records(kind, acme, 2, tags=("VIP",))
    other = _records(kind, acme, 1, first=2, tags=("VIP",))
    client.force_login(alice)
    _apply(client, kind, chosen, "remove_tag", tag="VIP")
    assert _tagged(kind, acme, "VIP") == {other[0].pk}
    assert [action for action, _ in _bulk_events(kind, acme)] == [f"{kind.key}.bulk_remove_tag"]


def test_it_moves_the_selected_rows_to_the_trash(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    chosen, other = _records(kind, acme, 2), _records(kind, acme, 1, first=2)
    client.force_login(alice)
    response = _apply(client, kind, chosen, "delete")
    assert response.status_code == 302
    assert all(r.deleted_at is not None for r in _fresh(kind, acme, chosen))
    assert _fresh(kind, acme, other)[0].deleted_at is None
    assert [action for action, _ in _bulk_events(kind, acme)] == [f"{kind.key}.bulk_delete"]
    page = client.get(response.url).content.decode()
    assert f"Moved 2 {kind.nouns} to the Trash." in page
    with activate(acme):
        event = AuditEvent.objects.get(action=f"{kind.key}.bulk_delete")
    assert event.changes["ids"] == [None, sorted(r.pk for r in chosen)]
    undo = f"/o/acme/{kind.url_prefix}/bulk/undo/{event.pk}/"
    assert f'<form method="post" action="{undo}" class="message__action">' in page


def test_a_member_deletes_in_bulk_only_when_the_organisation_lets_their_role(
    client: Client,
    kind: registry.Kind,
    acme: Organization,
    alice: User,
    worker: User,
    worker_role: str,
) -> None:
    chosen = _records(kind, acme, 2, owner=worker)
    client.force_login(worker)
    assert 'value="delete"' not in client.get(_list(kind)).content.decode()
    assert _apply(client, kind, chosen, "delete").status_code == 403
    assert all(r.deleted_at is None for r in _fresh(kind, acme, chosen))
    allow(acme, "records.bulk_delete", worker_role)
    assert 'value="delete"' in client.get(_list(kind)).content.decode()
    assert _apply(client, kind, chosen, "delete").status_code == 302
    assert all(r.deleted_at is not None for r in _fresh(kind, acme, chosen))


def test_undo_brings_a_bulk_delete_back_from_the_trash(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, worker: User
) -> None:
    chosen = _records(kind, acme, 3)
    earlier = _records(kind, acme, 1, first=3)
    client.force_login(alice)
    _apply(client, kind, earlier, "delete")
    _apply(client, kind, chosen, "delete")
    with activate(acme):
        event = AuditEvent.objects.filter(action=f"{kind.key}.bulk_delete").latest("id")
    undo = f"/o/acme/{kind.url_prefix}/bulk/undo/{event.pk}/"
    client.force_login(worker)  # another member's delete is not theirs to undo
    assert client.post(undo).status_code == 404
    client.force_login(alice)
    response = client.post(undo, follow=True)
    assert f"Restored 3 {kind.nouns} from the Trash." in response.content.decode()
    assert all(r.deleted_at is None for r in _fresh(kind, acme, chosen))
    assert _fresh(kind, acme, earlier)[0].deleted_at is not None  # another delete's
    with activate(acme):
        assert AuditEvent.objects.filter(action=f"{kind.key}.restored").count() == 3
    again = client.post(undo, follow=True)  # nothing left in the Trash to bring back
    assert f"Restored 0 {kind.nouns} from the Trash." in again.content.decode()


# --- All matching rows and the confirmation ------------------------------------------------


def test_it_applies_to_every_matching_row_not_only_the_page(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, rita: User
) -> None:
    needs(kind, "assign_owner")
    matching = _records(kind, acme, 60, owner=alice)
    other = _records(kind, acme, 3, first=60)
    client.force_login(alice)
    data = {"action": "assign_owner", "owner": rita.pk, "scope": "all"}
    response = client.post(
        f"{_list(kind)}bulk/apply/", {**data, "query": f"owner={alice.pk}&page=2"}
    )
    assert response["Location"] == f"/o/acme/{kind.url_prefix}/?owner={alice.pk}&page=2"
    assert {_owner(kind, r) for r in _fresh(kind, acme, matching)} == {rita.pk}
    assert {_owner(kind, r) for r in _fresh(kind, acme, other)} == {None}
    assert _bulk_events(kind, acme)[0][1]["count"] == [None, 60]


def test_it_refuses_a_search_matching_more_than_an_action_changes(
    client: Client, kind: registry.Kind, acme: Organization, alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(bulk, "MAX_ROWS", 50)
    _records(kind, acme, 51)  # numbered 000 to 050: a 0 in every one's name
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "q=0"}
    for url in ("bulk/", "bulk/apply/"):
        response = client.post(f"{_list(kind)}{url}", data, follow=True)
        assert f"The search matches more than 50 {kind.nouns}" in response.content.decode()
    assert _alive(kind, acme) == 51


def test_it_refuses_filters_matching_more_than_an_action_changes(
    client: Client, kind: registry.Kind, acme: Organization, alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(bulk, "MAX_ROWS", 50)
    _records(kind, acme, 51, owner=alice)
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": f"owner={alice.pk}"}
    response = client.post(f"{_list(kind)}bulk/apply/", data, follow=True)
    assert f"A bulk action changes at most 50 {kind.nouns}" in response.content.decode()
    assert _alive(kind, acme) == 51


def test_it_confirms_with_the_count_and_changes_nothing_yet(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    _records(kind, acme, 60, owner=alice)
    _records(kind, acme, 3, first=60)
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": f"owner={alice.pk}"}
    page = client.post(f"{_list(kind)}bulk/", data).content.decode()
    assert f"This will change 60 {kind.nouns}." in page
    assert f'action="/o/acme/{kind.url_prefix}/bulk/apply/"' in page
    assert f'name="query" value="owner={alice.pk}"' in page
    assert f'href="/o/acme/{kind.url_prefix}/?owner={alice.pk}">Cancel' in page
    assert _alive(kind, acme) == 63
    assert _bulk_events(kind, acme) == []


def test_it_confirms_the_selected_rows_with_their_ids(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    needs(kind, "tags")
    chosen = _records(kind, acme, 3)
    client.force_login(alice)
    data = {"action": "add_tag", "tag": "VIP", "scope": "selected", "ids": [chosen[0].pk]}
    page = client.post(f"{_list(kind)}bulk/", data).content.decode()
    assert f"This will change 1 {kind.noun}." in page
    assert f'name="ids" value="{chosen[0].pk}"' in page
    assert 'name="tag" value="VIP"' in page


# --- Whose records, who may ----------------------------------------------------------------


def test_it_ignores_another_organisations_records(
    client: Client, kind: registry.Kind, acme: Organization, globex: Organization,
    alice: User, charlie: User,
) -> None:  # fmt: skip
    acme_records = _records(kind, acme, 2)
    client.force_login(charlie)  # a Globex admin posting Acme's ids to Globex's list
    data = {"action": "delete", "scope": "selected", "ids": [r.pk for r in acme_records]}
    client.post(f"{_list(kind, 'globex')}bulk/apply/", data)
    assert all(r.deleted_at is None for r in _fresh(kind, acme, acme_records))


def test_it_ignores_another_organisations_ids_posted_to_this_list(
    client: Client, kind: registry.Kind, acme: Organization, globex: Organization,
    alice: User, charlie: User,
) -> None:  # fmt: skip
    theirs = _records(kind, globex, 2)
    client.force_login(alice)  # an Acme admin posting Globex's ids to Acme's list
    response = _apply(client, kind, theirs, "delete")
    assert f"Changed 0 {kind.nouns}." in client.get(response.url).content.decode()
    assert all(r.deleted_at is None for r in _fresh(kind, globex, theirs))
    assert _bulk_events(kind, acme) == _bulk_events(kind, globex) == []


def test_it_ignores_records_the_member_cannot_see(
    client: Client,
    kind: registry.Kind,
    acme: Organization,
    alice: User,
    worker: User,
    worker_role: str,
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={worker_role: "own"})
    allow(acme, "records.bulk_delete", worker_role)
    ritas = _records(kind, acme, 1, owner=worker)
    alices = _records(kind, acme, 1, first=1, owner=alice)
    client.force_login(worker)
    _apply(client, kind, ritas + alices, "delete")
    assert _fresh(kind, acme, ritas)[0].deleted_at is not None
    assert _fresh(kind, acme, alices)[0].deleted_at is None


def test_it_refuses_viewers(
    client: Client, kind: registry.Kind, acme: Organization, bob: User
) -> None:
    chosen = _records(kind, acme, 1)
    client.force_login(bob)
    url = f"{_list(kind)}bulk/"
    assert client.post(url, {"action": "delete", "ids": [chosen[0].pk]}).status_code == 403
    assert _apply(client, kind, chosen, "delete").status_code == 403
    assert _fresh(kind, acme, chosen)[0].deleted_at is None
    assert 'name="ids"' not in client.get(_list(kind)).content.decode()


# --- Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode"}, "“explode” is not a bulk action."),
        ({"action": "assign_owner", "owner": "charlie"}, "Choose an owner who is a member"),
        ({"action": "add_tag", "tag": "  "}, "Give the name of the tag."),
        ({"action": "remove_tag", "tag": " "}, "Give the name of the tag."),
    ],
)
@pytest.mark.parametrize("url", ["bulk/", "bulk/apply/"])
def test_it_refuses_bad_input_and_changes_nothing(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, url: str,
    data: dict[str, str], message: str,
) -> None:  # fmt: skip
    needs(kind, "assign_owner", "tags")
    chosen = _records(kind, acme, 2)
    before = _rows(kind, acme, chosen)
    client.force_login(alice)
    ids = [r.pk for r in chosen]
    response = client.post(
        f"{_list(kind)}{url}", {**data, "scope": "selected", "ids": ids}, follow=True
    )
    assert message in response.content.decode()
    assert _bulk_events(kind, acme) == []
    assert all(_owner(kind, r) is None and r.deleted_at is None for r in _fresh(kind, acme, chosen))
    assert _rows(kind, acme, chosen) == before  # nor anything else (a contact's stage)


@pytest.mark.parametrize("url", ["bulk/", "bulk/apply/"])
def test_it_refuses_an_action_of_another_kind(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, url: str
) -> None:
    # Companies have no lifecycle stage, projects no contact's stage, contacts no status.
    chosen = _records(kind, acme, 2)
    before = _rows(kind, acme, chosen)
    client.force_login(alice)
    for action in _foreign_actions(kind):
        data = {"action": action.key, "scope": "selected", "ids": [r.pk for r in chosen]}
        if action.field:  # a value that the other kind would take
            options = action.options()
            data[action.field] = options[0][0] if options else "x"
        response = client.post(f"{_list(kind)}{url}", data, follow=True)
        assert f"“{action.key}” is not a bulk action." in response.content.decode()
    assert _bulk_events(kind, acme) == []
    assert _rows(kind, acme, chosen) == before


@pytest.mark.parametrize("ids", [["abc"], ["1e9"], ["-1"], [""], []])
def test_it_refuses_junk_or_no_ids(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, ids: list[str]
) -> None:
    chosen = _records(kind, acme, 1)
    client.force_login(alice)
    data = {"ids": ids, "action": "delete", "scope": "selected"}
    response = client.post(f"{_list(kind)}bulk/apply/", data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"Select at least one {kind.noun}, or choose all matching rows." in page
    assert _fresh(kind, acme, chosen)[0].deleted_at is None


def test_it_refuses_invalid_filters_for_all_matching(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    chosen = _records(kind, acme, 2)
    client.force_login(alice)
    data = {"action": "delete", "scope": "all", "query": "created_after=notadate"}
    response = client.post(f"{_list(kind)}bulk/apply/", data, follow=True)
    assert "These filters are not valid" in response.content.decode()
    assert all(r.deleted_at is None for r in _fresh(kind, acme, chosen))


def test_it_refuses_an_owner_from_another_organisation(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, charlie: User
) -> None:
    needs(kind, "assign_owner")
    chosen = _records(kind, acme, 1)
    client.force_login(alice)
    response = _apply(client, kind, chosen, "assign_owner", owner=charlie.pk)
    assert "Choose an owner who is a member" in client.get(response.url).content.decode()
    assert _owner(kind, _fresh(kind, acme, chosen)[0]) is None


# --- The list's form and the cost -------------------------------------------------------


def test_the_list_offers_its_own_bulk_actions_to_editors_only(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, bob: User
) -> None:
    needs(kind, "assign_owner")
    chosen = _records(kind, acme, 1, owner=alice)
    client.force_login(alice)
    page = client.get(f"{_list(kind)}?owner={alice.pk}").content.decode()
    assert f'action="/o/acme/{kind.url_prefix}/bulk/"' in page
    assert f'name="ids" value="{chosen[0].pk}"' in page
    assert f'name="query" value="owner={alice.pk}"' in page
    assert "All 1 matching" in page
    assert '<option value="delete" data-field="">Move to the Trash</option>' in page
    for action in _foreign_actions(kind):  # a company's toolbar offers no stage
        assert f'value="{action.key}"' not in page
        assert f'name="{action.field}"' not in _toolbar(page)
    client.force_login(bob)
    assert 'name="ids"' not in client.get(_list(kind)).content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_it_applies_in_a_fixed_number_of_queries(
    client: Client, kind: registry.Kind, acme: Organization, alice: User, rows: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:  # fmt: skip
    needs(kind, "tags")
    chosen = _records(kind, acme, rows)
    client.force_login(alice)
    # Session, user, organisation, membership, both walls and their savepoints; the
    # targets; the tag (found or created, audited); the records' tags, the new links, the
    # records' updated_at, the records (for their History), one event per record in one
    # insert, the bulk audit event. None of them per row.
    with django_assert_max_num_queries(21):
        _apply(client, kind, chosen, "add_tag", tag="VIP")
    assert _bulk_events(kind, acme)[0][1]["count"] == [None, rows]


# --- Merge: the toolbar's way to the merge page ---------------------------------------------


MERGED = [kind.key for kind in registry.kinds() if kind.merge]


@pytest.mark.parametrize("record_kind", MERGED)
def test_it_takes_the_selected_rows_to_the_merge_page(
    client: Client, acme: Organization, alice: User, record_kind: str
) -> None:
    kind = registry.kind(record_kind)
    first, second = _records(kind, acme, 2)
    client.force_login(alice)
    assert "Merge the selected…" in client.get(_list(kind)).content.decode()
    response = client.post(f"{_list(kind)}bulk/", {"action": "merge", "scope": "selected",
                                                   "ids": [first.pk, second.pk]})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == (
        f"/o/acme/{kind.url_prefix}/merge/?ids={first.pk}&ids={second.pk}"
    )


@pytest.mark.parametrize("record_kind", MERGED)
@pytest.mark.parametrize("scope", ["one row", "all matching"])
def test_it_asks_for_two_to_ten_selected_rows_to_merge(
    client: Client, acme: Organization, alice: User, scope: str, record_kind: str
) -> None:
    kind = registry.kind(record_kind)
    (record,) = _records(kind, acme, 1)
    client.force_login(alice)
    data = {"action": "merge", "scope": "all" if scope == "all matching" else "selected",
            "ids": [record.pk]}  # fmt: skip
    response = client.post(f"{_list(kind)}bulk/", data, follow=True)
    assert "To merge, select from 2 to 10 rows." in response.content.decode()


@pytest.mark.parametrize("record_kind", [k.key for k in registry.kinds() if not k.merge])
def test_a_kind_that_is_not_merged_offers_no_merge(
    client: Client, acme: Organization, rita: User, record_kind: str
) -> None:
    kind = registry.kind(record_kind)
    first, second = _records(kind, acme, 2)
    client.force_login(rita)
    assert "Merge the selected…" not in client.get(_list(kind)).content.decode()
    data = {"action": "merge", "scope": "selected", "ids": [first.pk, second.pk]}
    assert client.post(f"{_list(kind)}bulk/", data).status_code == 403
