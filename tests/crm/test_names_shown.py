"""Wherever a member shows, their name beside an initials avatar, never their address: a
list's Owner column, owner choices, a record page, History and the audit log."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm.models import Organization, Role, User
from crm.people import person_html
from crm.permissions import ACTIONS
from crm.records import registry
from tests.conftest import member
from tests.factories import ContactFactory, make_record

pytestmark = pytest.mark.django_db

OWNED = [kind.key for kind in registry.kinds() if kind.owner_field]


def _owner_cells(page: str) -> list[str]:
    """The person markup of each row's Owner cell."""
    return [part.split("</td>", 1)[0] for part in page.split('<td><span class="person">')[1:]]


def test_the_contact_lists_owner_column_shows_names_and_no_email(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    ContactFactory(org=acme, first_name="Ada", owner=rita)
    ContactFactory(org=acme, first_name="Grace", owner=alice)
    client.force_login(alice)
    page = client.get("/o/acme/contacts/").content.decode()
    cells = _owner_cells(page)
    assert len(cells) == 2
    assert str(person_html("Rita Reyes")) in page
    assert str(person_html("Alice Archer")) in page
    assert not any("@" in cell for cell in cells)
    assert "rita@acme.test" not in page  # nor in the owner filter or the bulk bar's choices


def test_a_nameless_owner_shows_as_the_addresss_local_part(
    client: Client, acme: Organization, alice: User
) -> None:
    dana = member(acme, "dana.scully@acme.test", Role.REP)
    ContactFactory(org=acme, first_name="Ada", owner=dana)
    client.force_login(alice)
    page = client.get("/o/acme/contacts/").content.decode()
    assert str(person_html("dana.scully")) in page
    assert "dana.scully@acme.test" not in page


@pytest.mark.parametrize("key", OWNED)
def test_every_owner_column_reads_names_with_the_rows(
    client: Client, key: str, acme: Organization, alice: User
) -> None:
    kind = registry.kind(key)
    client.force_login(alice)
    url = f"/o/acme/{kind.url_prefix}/?columns=owner"
    client.get(url)  # what a first page reads once (the session, the organisation's fields)
    counts = []
    for n in range(1, 5):  # each row owned by someone else: a name read apiece would show
        role = Role.REP if Role.REP in ACTIONS[kind.action("edit")] else Role.AGENT  # tickets
        owner = member(acme, f"owner{n}@acme.test", role, f"Owner Number{n}")
        make_record(key, acme, n, owner=owner)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url).content.decode()
        assert len(_owner_cells(page)) == n
        counts.append(len(queries))
    assert "Owner Number4" in page
    assert len(set(counts)) == 1, counts


def test_owner_choices_are_names(client: Client, acme: Organization, alice: User, rita) -> None:
    client.force_login(alice)
    listed = client.get("/o/acme/contacts/").content.decode()
    assert ">Rita Reyes</option>" in listed  # the owner filter and the bulk bar's Assign
    form = client.get("/o/acme/contacts/new/").content.decode()
    assert ">Rita Reyes</option>" in form
    assert "rita@acme.test" not in listed + form


def test_a_record_page_shows_its_owner_by_name(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    contact = ContactFactory(org=acme, first_name="Ada", owner=rita)
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{contact.pk}/").content.decode()
    assert "Rita Reyes" in page
    assert "rita@acme.test" not in page


def test_history_says_who_by_name(client: Client, acme: Organization, alice: User, rita) -> None:
    contact = ContactFactory(org=acme, first_name="Ada", by=rita)
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{contact.pk}/").content.decode()
    history = page.split('id="history-title"', 1)[1]
    assert f"<strong>{person_html('Rita Reyes')}</strong>" in history
    assert "rita@acme.test" not in page


def test_the_audit_log_names_who_did_it_and_offers_members_by_name(
    client: Client, acme: Organization, alice: User, rita: User
) -> None:
    ContactFactory(org=acme, first_name="Ada", by=rita)
    client.force_login(alice)
    page = client.get("/o/acme/settings/audit/").content.decode()
    results = page.split('<section id="results"', 1)[1]
    assert f"<strong>{person_html('Rita Reyes')}</strong>" in results
    assert ">Rita Reyes (Sales rep)</option>" in page  # the Who filter
    assert "@acme.test" not in page


def test_the_audit_log_calls_events_without_a_member_system(
    client: Client, acme: Organization, alice: User
) -> None:
    ContactFactory(org=acme, first_name="Ada")  # by=None: an import or a background job
    client.force_login(alice)
    page = client.get("/o/acme/settings/audit/").content.decode()
    assert "<strong>System</strong>" in page


def test_the_members_page_shows_each_name_with_the_address_beneath(
    client: Client, acme: Organization, alice: User, bob: User
) -> None:
    client.force_login(alice)
    page = client.get("/o/acme/settings/members/").content.decode()
    assert "Bob Brown" in page
    assert page.index("Bob Brown") < page.index("bob@acme.test")
    assert 'aria-hidden="true">BB</span>' in page
