"""The quick log's fields by channel: a meeting's attendees, a social message's network and
handle, kept in the interaction's details and shown on its timeline entry and page."""

import pytest
from django.test import Client

from crm.tenancy import activate
from interactions.models import Interaction
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _post(client: Client, contact, **data):
    data = {"direction": "outbound", "occurred_at": "2026-03-01T10:00", "subject": "Met",
            **data}  # fmt: skip
    return client.post(f"/o/acme/contacts/{contact.pk}/interactions/", data)


def _only(acme) -> Interaction:
    with activate(acme):
        return Interaction.objects.get()


def test_it_keeps_a_meetings_attendees(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    _post(client, contact, channel="meeting", attendees="Ada Lovelace,  Grace Hopper ,")
    assert _only(acme).details == {"attendees": ["Ada Lovelace", "Grace Hopper"]}
    page = client.get(f"/o/acme/contacts/{contact.pk}/").content.decode()
    assert "With Ada Lovelace, Grace Hopper" in page


def test_it_keeps_a_social_messages_network_and_handle(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    _post(client, contact, channel="social", network="linkedin", handle=" @ada ")
    interaction = _only(acme)
    assert interaction.details == {"network": "linkedin", "handle": "@ada"}
    page = client.get(f"/o/acme/interactions/{interaction.pk}/").content.decode()
    assert "LinkedIn · @ada" in page


def test_it_refuses_attendees_for_a_call_and_stores_nothing(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    response = _post(client, contact, channel="call", attendees="Ada")
    assert response.status_code == 400
    assert "Only a meeting has attendees." in response.content.decode()
    with activate(acme):
        assert not Interaction.objects.exists()


def test_the_edit_form_brings_the_details_back(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    _post(client, contact, channel="meeting", attendees="Ada, Grace")
    page = client.get(f"/o/acme/interactions/{_only(acme).pk}/edit/").content.decode()
    assert 'value="Ada, Grace"' in page


def test_editing_keeps_the_details_the_form_does_not_show(client: Client, acme, alice) -> None:
    contact = ContactFactory(org=acme)
    client.force_login(alice)
    _post(client, contact, channel="meeting", attendees="Ada")
    interaction = _only(acme)
    with activate(acme):
        Interaction.objects.filter(pk=interaction.pk).update(
            details={"attendees": ["Ada"], "message_id": "<kept@example.com>"}
        )
    data = {"channel": "meeting", "direction": "outbound", "occurred_at": "2026-03-01T10:00",
            "subject": "Met again", "attendees": ""}  # fmt: skip
    client.post(f"/o/acme/interactions/{interaction.pk}/edit/", data)
    assert _only(acme).details == {"message_id": "<kept@example.com>"}
