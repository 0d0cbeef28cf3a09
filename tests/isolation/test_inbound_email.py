"""/inbound/email/<token>/, outside /o/<org>/: a token files into its own organisation only."""

import pytest
from django.test import Client

from crm.tenancy import activate
from interactions.inbound import mailbox_rotate
from tests.interactions.messages import PLAIN
from tests.isolation.registry import seed_rows, snapshot

pytestmark = pytest.mark.django_db


def test_a_token_files_into_its_own_organisation_only(client: Client, acme, alice, globex, charlie):
    seed_rows(acme, alice)
    seed_rows(globex, charlie)
    with activate(globex):
        token = mailbox_rotate(org=globex, by=charlie)
    before = snapshot(acme)
    response = client.post(f"/inbound/email/{token}/", PLAIN, content_type="message/rfc822")
    assert response.status_code == 201
    assert snapshot(acme) == before


def test_another_organisations_id_with_a_token_answers_404(client: Client, acme, globex):
    with activate(globex):
        secret = mailbox_rotate(org=globex, by=None).partition(".")[2]
    with activate(acme):
        mailbox_rotate(org=acme, by=None)
    before = snapshot(acme)
    # Globex's secret, presented as Acme's: it must not open Acme's mailbox.
    response = client.post(f"/inbound/email/{acme.pk}.{secret}/", PLAIN, content_type="text/plain")
    assert response.status_code == 404
    assert snapshot(acme) == before
