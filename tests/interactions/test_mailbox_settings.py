"""/o/<org>/settings/email-in/: the inbound address, its rotation, and the lead setting."""

import pytest

from crm.tenancy import activate
from interactions.inbound import mailbox_org, mailbox_rotate
from interactions.models import Mailbox

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/settings/email-in/"


def test_it_shows_an_admin_that_there_is_no_address_yet(client, alice):
    client.force_login(alice)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "There is no address yet" in response.content.decode()


def test_it_shows_the_new_address_once(client, acme, alice):
    client.force_login(alice)
    response = client.post(PAGE + "rotate/")
    body = response.content.decode()
    token = body.split("/inbound/email/")[1].split("/")[0]
    assert mailbox_org(token) == acme
    assert "shown only this once" in body
    assert "no-store" in response["Cache-Control"]
    assert token not in client.get(PAGE).content.decode()


def test_it_retires_the_old_address_on_rotation(client, acme, alice):
    with activate(acme):
        old = mailbox_rotate(org=acme, by=None)
    client.force_login(alice)
    client.post(PAGE + "rotate/")
    assert mailbox_org(old) is None


def test_it_turns_lead_creation_off(client, acme, alice):
    client.force_login(alice)
    assert client.post(PAGE, {}).status_code == 302
    with activate(acme):
        assert Mailbox.objects.get().create_leads is False
    assert client.post(PAGE, {"create_leads": "on"}).status_code == 302
    with activate(acme):
        assert Mailbox.objects.get().create_leads is True


def test_it_refuses_a_rep(client, rita):
    client.force_login(rita)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE + "rotate/").status_code == 403


def test_it_hides_the_page_from_outsiders(client, acme, charlie):
    client.force_login(charlie)
    assert client.get(PAGE).status_code == 404


def test_it_is_in_the_settings_navigation(client, alice):
    link = f'<a href="{PAGE}" aria-current="page">Email in</a>'
    client.force_login(alice)
    assert link in client.get(PAGE).content.decode()
    assert f'href="{PAGE}"' in client.get("/o/acme/settings/").content.decode()
