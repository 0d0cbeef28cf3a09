"""/o/acme/<kind>/: what every kind's list does alike, over every registered kind: whose
records it shows, a search's pages, tags, the order by name, htmx and the empty states. A
kind's own filters, columns and query counts are its app's to test
(tests/contacts/test_contact_list.py, test_company_pages.py)."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm import services as crm_services
from crm.models import Organization, User
from crm.records import registry
from crm.tenancy import activate
from tests.factories import make_record
from tests.records.needs import needs

pytestmark = pytest.mark.django_db

KINDS = [kind.key for kind in registry.kinds()]
ROW = re.compile(r'id="select-(\d+)"')
HTMX = {"HX-Request": "true"}


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> registry.Kind:
    return registry.kind(request.param)


def _list(kind: registry.Kind) -> str:
    return f"/o/acme/{kind.url_prefix}/"


def _ids(response: Any) -> list[int]:
    """The rows of a list page, in order, by the ids of their checkboxes."""
    assert response.status_code == 200
    return [int(pk) for pk in ROW.findall(response.content.decode())]


# --- Whose records -----------------------------------------------------------------------


def test_it_lists_this_organisations_records_only(
    client: Client, kind: registry.Kind, acme: Organization, globex: Organization, alice: User
) -> None:
    mine = make_record(kind.key, acme, 1)
    make_record(kind.key, globex, 1)  # the same values, in Globex
    make_record(kind.key, globex, 987)  # and one whose number no Acme record comes near
    client.force_login(alice)
    assert _ids(client.get(_list(kind))) == [mine.pk]
    assert _ids(client.get(f"{_list(kind)}?q=987")) == []
    assert _ids(client.get(f"{_list(kind)}?q=001")) == [mine.pk]


def test_a_member_limited_to_own_records_lists_only_theirs(
    client: Client,
    kind: registry.Kind,
    acme: Organization,
    alice: User,
    worker: User,
    worker_role: str,
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={worker_role: "own"})
    mine = make_record(kind.key, acme, 1, owner=worker)
    make_record(kind.key, acme, 2, owner=alice)
    make_record(kind.key, acme, 3)  # nobody's
    client.force_login(worker)
    response = client.get(_list(kind))
    assert _ids(response) == [mine.pk]
    assert f"1–1 of 1 {kind.noun}" in response.content.decode()


# --- Search, tags and order --------------------------------------------------------------


def test_it_counts_and_pages_the_matches_of_a_search(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    needs(kind, "name_order")
    found = [make_record(kind.key, acme, n) for n in range(55)]  # 000 to 054: each has a 0
    make_record(kind.key, acme, 999)  # no 0: not found
    client.force_login(alice)
    response = client.get(_list(kind), {"q": "0", "page": "2"})
    assert _ids(response) == [record.pk for record in found[50:]]
    page = response.content.decode()
    assert f"51–55 of 55 {kind.nouns}" in page
    assert "Page 2 of 2" in page


def test_it_filters_by_tag(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    needs(kind, "tags")
    tagged = make_record(kind.key, acme, 1, tags=("VIP", "Other"))
    make_record(kind.key, acme, 2, tags=("Other",))
    assert kind.tags is not None
    with activate(acme):
        vip = kind.tags.tag_model._default_manager.get(name="VIP")
    client.force_login(alice)
    assert _ids(client.get(_list(kind), {"tag": vip.pk})) == [tagged.pk]


def test_it_sorts_by_name_by_default(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    needs(kind, "name_order")
    second, first = make_record(kind.key, acme, 2), make_record(kind.key, acme, 1)
    client.force_login(alice)
    assert _ids(client.get(_list(kind))) == [first.pk, second.pk]


def test_it_sorts_by_name_descending(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    one, zero, two = (make_record(kind.key, acme, n) for n in (1, 0, 2))
    client.force_login(alice)
    assert _ids(client.get(_list(kind), {"sort": "-name"})) == [two.pk, one.pk, zero.pk]


# --- The page around the results ---------------------------------------------------------


def test_it_answers_htmx_with_the_results_only(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    found = make_record(kind.key, acme, 1)
    make_record(kind.key, acme, 2)
    client.force_login(alice)
    response = client.get(_list(kind), {"q": "001"}, headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert _ids(response) == [found.pk]
    assert "<html" not in body
    assert 'role="search"' not in body


def test_it_invites_to_add_the_first_record(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    client.force_login(alice)
    body = client.get(_list(kind)).content.decode()
    assert f"No {kind.nouns} yet" in body
    assert f"No {kind.nouns} match" not in body
    if kind.new_url:
        assert f'href="/o/acme/{kind.url_prefix}/new/"' in body


def test_it_offers_to_clear_filters_that_match_nothing(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    make_record(kind.key, acme, 1)
    client.force_login(alice)
    body = client.get(_list(kind), {"q": "zzzzzz"}).content.decode()
    assert f"No {kind.nouns} match" in body
    assert f"No {kind.nouns} yet" not in body
    assert "Clear filters" in body


def test_a_page_whose_columns_follow_no_relation_joins_no_table(
    client: Client, kind: registry.Kind, acme: Organization, alice: User
) -> None:
    make_record(kind.key, acme, 1, owner=alice)
    client.force_login(alice)
    first = kind.columns[0].key
    with CaptureQueriesContext(connection) as queries:
        assert len(_ids(client.get(f"{_list(kind)}?columns={first}"))) == 1
    table = kind.model._meta.db_table
    rows = [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]]
    assert rows
    assert all("JOIN" not in sql for sql in rows)
