"""Every URL of every record kind, probed by a member limited to their own records for a
colleague's record: the same 404 as a record that does not exist, GET and POST, htmx or not.

Beside the cross-organisation matrix (test_url_matrix.py): there the walls between
organisations hold; here the visibility a role is given inside one.
"""

import re
from typing import Any

import pytest
from django.test import Client

from crm import services as crm_services
from crm.permissions import ACTIONS, CONFIGURABLE
from crm.records import registry
from crm.tenancy import activate
from tests.conftest import allow
from tests.factories import make_record
from tests.isolation.registry import FIELD, fill, url_kwargs, url_value
from tests.isolation.test_url_matrix import KEYWORD, ROUTES

pytestmark = pytest.mark.django_db

MISSING = 2_000_000_000


def _routes_of(kind: registry.Kind) -> list[str]:
    """The organisation's routes that take an id of this kind's records in their path."""
    keywords = {k for k, model in url_kwargs().items() if model is kind.model}
    return [route for route in ROUTES if set(KEYWORD.findall(route)) & keywords]


def _fill(route: str, record: Any) -> str:
    """The route naming `record` (or, given an int, that id for every keyword)."""
    keywords = KEYWORD.findall(route)
    if isinstance(record, int):
        return fill(route, dict.fromkeys(keywords, record))
    return fill(route, {k: url_value(k, record) for k in keywords if k != FIELD})


def _owning_role(kind: registry.Kind, rep: Any, agent: Any) -> tuple[str, Any]:
    """A role that owns records of the kind, and its member: a rep, or an agent for tickets
    (a rep reads tickets but is never given one)."""
    if "rep" in ACTIONS[kind.action("edit")]:
        return "rep", rep
    return "agent", agent


@pytest.mark.parametrize("record_kind", [kind.key for kind in registry.kinds()])
def test_a_colleagues_record_is_not_found_on_any_url(
    client: Client, acme, alice, rita, sam, record_kind: str
) -> None:
    kind = registry.kind(record_kind)
    # A member limited to their own records, in a role that owns records of the kind.
    role, member = _owning_role(kind, rita, sam)
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={role: "own"})
    for action in CONFIGURABLE:  # so that visibility, not a permission, answers
        allow(acme, action, role)
    theirs = make_record(record_kind, acme, 1, owner=alice)
    mine = make_record(record_kind, acme, 2, owner=member)
    routes = _routes_of(kind)
    assert routes, f"no URL takes an id of {kind.nouns}: name it in its app's seeder"
    client.force_login(member)
    assert client.get(kind.detail("acme", mine.pk), follow=True).status_code == 200
    for route in (r for r in routes if FIELD in KEYWORD.findall(r)):
        # The field's name filled in is a real one: her own record's answers.
        assert client.get(f"/o/acme/{_fill(route, mine)}").status_code in (200, 302), route
    for route in routes:
        for method in ("GET", "POST"):
            for htmx in ({}, {"HX-Request": "true"}):
                answer = client.generic(method, f"/o/acme/{_fill(route, theirs)}", headers=htmx)
                where = f"{method} {route} {htmx}"
                if answer.status_code in (403, 405):
                    # Refused before any lookup: the same for an id that exists nowhere.
                    missing = client.generic(
                        method, f"/o/acme/{_fill(route, MISSING)}", headers=htmx
                    )
                    assert missing.status_code == answer.status_code, where
                    continue
                assert answer.status_code == 404, where
                assert str(theirs) not in answer.content.decode(), where
    if kind.merge:
        merge_page = f"{kind.url('merge', 'acme')}?ids={mine.pk}&ids={theirs.pk}"
        assert client.get(merge_page).status_code == 404
    with activate(acme):
        assert kind.visible(member.memberships.get()).filter(pk=theirs.pk).count() == 0


@pytest.mark.parametrize("record_kind", [kind.key for kind in registry.kinds() if kind.searchable])
def test_a_colleagues_record_is_not_found_by_the_quick_search(
    client: Client, acme, alice, rita, sam, record_kind: str
) -> None:
    kind = registry.kind(record_kind)
    role, member = _owning_role(kind, rita, sam)
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={role: "own"})
    theirs = make_record(record_kind, acme, 1, owner=alice)
    mine = make_record(record_kind, acme, 2, owner=member)
    client.force_login(member)
    q = next(word for word in str(mine).split() if word.isalpha())  # a word both share
    for htmx in ({}, {"HX-Request": "true"}):
        body = client.get("/o/acme/find/", {"q": q}, headers=htmx).content.decode()
        assert kind.detail("acme", mine.pk) in body, htmx
        assert kind.detail("acme", theirs.pk) not in body, htmx
        assert str(theirs) not in body, htmx


def test_every_kind_has_urls_to_probe() -> None:
    assert all(_routes_of(kind) for kind in registry.kinds())
    assert re.search(r"<int:contact_id>", " ".join(_routes_of(registry.kind("contact"))))
    for key in ("contact", "company"):  # each fact edited in place, and shown again
        field = f"{registry.kind(key).url_prefix}/<int:{key}_id>/field/<slug:field_name>/"
        assert {field, f"{field}value/"} <= set(_routes_of(registry.kind(key)))


def test_in_any_segment_a_member_limited_to_their_own_sees_only_their_own_members(
    client: Client, acme, alice, rita
) -> None:
    from contacts.segments import services as segments

    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    theirs = make_record("contact", acme, 1, owner=alice)
    mine = make_record("contact", acme, 2, owner=rita)
    with activate(acme):
        segment = segments.segment_save(org=acme, by=alice, name="Everyone", rules_tree=None)
        segments.segment_refresh(org=acme, segment_id=segment.pk)
    client.force_login(rita)
    page = f"/o/acme/segments/{segment.pk}/"
    for url, query in (
        (page, {}),  # its members
        (page, {"contact": theirs.pk}),  # why is a colleague's contact here
        (page, {"who": theirs.email}),
        ("/o/acme/contacts/", {"segment": segment.pk}),  # the list filtered to it
        (f"/o/acme/segments/{segment.pk}/edit/", {}),  # the builder's count is the rules'
    ):
        body = client.get(url, query).content.decode()
        assert str(theirs) not in body, (url, query)
        assert f"/o/acme/contacts/{theirs.pk}/" not in body, (url, query)
    assert str(mine) in client.get(page).content.decode()
