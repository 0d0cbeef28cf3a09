"""interactions.selectors.timeline, and the contact page's timeline and quick log."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from crm.tenancy import activate
from interactions.models import Interaction
from interactions.selectors import cursor_token, parse_cursor, timeline
from tests.factories import ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_it_pages_by_keyset_without_gaps_or_duplicates(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    made = [InteractionFactory(org=acme, contact=contact, occurred_at=AT) for _ in range(7)]
    made += [InteractionFactory(org=acme, contact=contact, occurred_at=AT.replace(hour=9))]
    seen, before = [], None
    with activate(acme):
        while True:
            page = timeline(contact, before=parse_cursor(cursor_token(before)) if before else None,
                            limit=3)  # fmt: skip
            seen += [entry.pk for entry in page.entries]
            if page.next_cursor is None:
                break
            before = page.next_cursor
    assert seen == [i.pk for i in sorted(made, key=lambda i: (i.occurred_at, i.pk), reverse=True)]


def test_it_filters_by_channel(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    call = InteractionFactory(org=acme, contact=contact, channel="call")
    InteractionFactory(org=acme, contact=contact, channel="note")
    with activate(acme):
        assert [e.pk for e in timeline(contact, channel="call").entries] == [call.pk]


@pytest.mark.parametrize("count", [3, 30])
def test_the_contact_page_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, count: int, django_assert_num_queries
) -> None:
    contact = ContactFactory(org=acme)
    for _ in range(count):
        InteractionFactory(org=acme, contact=contact, owner=alice)
    client.force_login(alice)
    client.get(f"/o/acme/contacts/{contact.pk}/")
    with django_assert_num_queries(QUERIES):
        assert client.get(f"/o/acme/contacts/{contact.pk}/").status_code == 200


# The page's own, its timeline's interactions, done tasks, deal stage changes and ticket
# events, its Tasks, Deals and Tickets cards (the quick log's last channel comes from the
# cache); three of them the test's own (see tests/contacts/test_contact_pages.py).
QUERIES = 17


def _post(client, contact, htmx=False, **data):
    data = {"channel": "call", "direction": "outbound", "occurred_at": "2026-03-01T10:00",
            "subject": "Called", **data}  # fmt: skip
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/o/acme/contacts/{contact.pk}/interactions/", data, headers=headers)


def test_the_quick_log_saves_and_redirects_without_javascript(client: Client, acme, alice):
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    response = _post(client, contact)
    assert response.status_code == 302
    assert "Called" in client.get(response["Location"]).content.decode()


def test_the_quick_log_answers_htmx_with_the_entry_and_an_empty_form(client: Client, acme, alice):
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    body = _post(client, contact, htmx=True, subject="Fresh call").content.decode()
    assert 'hx-swap-oob="afterbegin:#timeline-entries"' in body
    assert "Fresh call" in body
    assert 'name="subject" maxlength="200"' in body
    assert 'value="Fresh call"' not in body


@pytest.mark.parametrize(
    "data",
    [{"channel": "pigeon"}, {"occurred_at": "2999-01-01T10:00"},
     {"occurred_at": "1900-01-01T10:00"}, {"subject": "x" * 300}, {"subject": "a\x00b"},
     {"channel": "note", "outcome": "busy"},
     {"occurred_at": "yesterday"}],
)  # fmt: skip
def test_the_quick_log_refuses_bad_input(client: Client, acme, alice, data) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    for htmx in (False, True):
        response = _post(client, contact, htmx=htmx, **data)
        assert response.status_code in (200, 400)
        assert (
            "field__error" in response.content.decode() or "errorlist" in response.content.decode()
        )
    with activate(acme):
        assert not Interaction.objects.exists()


def test_a_viewer_may_not_log(client: Client, acme, bob) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(bob)
    assert _post(client, contact).status_code == 403
