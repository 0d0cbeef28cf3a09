"""Editing one fact of a record in place, the contract of every kind that declares its facts
(crm.records.facts): contacts, companies, and the projects only the tests declare, which
show that a kind needs nothing but its declaration."""

import re

import pytest
from django.test import Client

from crm.models import AuditEvent, Organization, User
from crm.records import registry
from crm.records.versions import version_of
from crm.tenancy import activate
from tests.factories import make_record

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
KINDS = [kind.key for kind in registry.kinds() if kind.facts]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> registry.Kind:
    return registry.kind(request.param)


def _facts(kind: registry.Kind) -> list[str]:
    """The names of the kind's built-in facts that a form changes."""
    assert kind.facts is not None
    return [fact.name for fact in kind.facts.facts if fact.form_fields]


def test_the_kinds_that_edit_in_place() -> None:
    assert {"contact", "company", "project"} <= set(KINDS)


def test_each_fact_changes_fields_of_the_kinds_edit_form(kind: registry.Kind) -> None:
    assert kind.facts is not None
    fields = set(kind.facts.form.base_fields)
    assert "version" in fields
    for fact in kind.facts.facts:
        assert set(fact.form_fields) <= fields, fact.name


def test_its_page_links_each_fact_to_its_form(client: Client, acme, alice, kind) -> None:
    record = make_record(kind.key, acme, 1, owner=alice)
    client.force_login(alice)
    page = client.get(kind.detail("acme", record.pk)).content.decode()
    for name in _facts(kind):
        assert f'href="{kind.url("field", "acme", record.pk, name)}"' in page, name


def test_each_fact_opens_a_form_of_its_own_fields(client: Client, acme, alice, kind) -> None:
    assert kind.facts is not None
    record = make_record(kind.key, acme, 1, owner=alice)
    client.force_login(alice)
    for fact in (fact for fact in kind.facts.facts if fact.form_fields):
        body = client.get(kind.url("field", "acme", record.pk, fact.name), headers=HTMX)
        names = set(re.findall(r'name="(\w+)"', body.content.decode()))
        assert names - {"csrfmiddlewaretoken"} == {*fact.form_fields, "version"}, fact.name


def test_a_save_changes_the_fact_and_its_history(
    client: Client, acme: Organization, alice: User, kind: registry.Kind
) -> None:
    record = make_record(kind.key, acme, 1, owner=alice)
    name = _facts(kind)[0]  # a name, of every kind so far
    client.force_login(alice)
    data = {name: "Renamed", "version": version_of(record)}
    body = client.post(kind.url("field", "acme", record.pk, name), data, headers=HTMX)
    assert "Renamed" in body.content.decode()
    with activate(acme):
        record.refresh_from_db()
        event = AuditEvent.objects.filter(action=f"{kind.key}.updated").get()
    assert getattr(record, name) == "Renamed"
    assert event.changes[name][1] == "Renamed"


def test_a_viewer_may_not(client: Client, acme, alice, bob, kind) -> None:
    record = make_record(kind.key, acme, 1, owner=alice)
    client.force_login(bob)
    name = _facts(kind)[0]
    url = kind.url("field", "acme", record.pk, name)
    assert client.get(url).status_code == 403
    assert client.post(url, {name: "Renamed"}).status_code == 403
    page = client.get(kind.detail("acme", record.pk)).content.decode()
    assert "/field/" not in page
