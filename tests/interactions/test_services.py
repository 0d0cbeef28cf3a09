"""interactions.services: logging, editing and deleting an interaction."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.models import AuditEvent
from crm.tenancy import activate
from interactions.models import Interaction
from interactions.services import interaction_delete, interaction_log, interaction_update
from tests.factories import CompanyFactory, ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def _log(acme, by, **values):
    values = {"channel": "call", "direction": "outbound", "subject": "Hello", **values}
    with activate(acme):
        return interaction_log(org=acme, by=by, **values)


def test_it_moves_the_last_interaction_forward_only(acme, alice) -> None:
    contact = ContactFactory(org=acme)
    now = timezone.now()
    _log(acme, alice, contact=contact, occurred_at=now - timedelta(days=1))
    _log(acme, alice, contact=contact, occurred_at=now - timedelta(days=3))  # older: no change
    with activate(acme):
        contact.refresh_from_db()
    assert contact.last_interaction_at == now - timedelta(days=1)
    _log(acme, alice, contact=contact, occurred_at=now)
    with activate(acme):
        contact.refresh_from_db()
    assert contact.last_interaction_at == now


def test_it_links_the_contacts_company_and_audits(acme, alice) -> None:
    company = CompanyFactory(org=acme)
    contact = ContactFactory(org=acme, company=company)
    interaction = _log(acme, alice, contact=contact)
    assert (interaction.company_id, interaction.author_id) == (company.pk, alice.pk)
    with activate(acme):
        assert AuditEvent.objects.filter(action="interaction.logged").count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"occurred_at": timezone.now() + timedelta(days=30)}, "occurred_at"),
        ({"occurred_at": timezone.now() - timedelta(days=365 * 40)}, "occurred_at"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "nul\x00byte"}, "subject"),
        ({"channel": "email", "outcome": "busy"}, "outcome"),
        ({"duration": 10**7}, "duration"),
    ],
)
def test_it_refuses_bad_values_and_saves_nothing(acme, alice, values, field) -> None:
    with pytest.raises(ValidationError) as error:
        _log(acme, alice, **values)
    assert field in error.value.message_dict
    with activate(acme):
        assert not Interaction.objects.exists()


def test_it_sanitises_html_and_logs_a_message_once(acme, alice) -> None:
    html = '<p onclick="x()">Hi<script>alert(1)</script></p>'
    first = _log(acme, None, body_html=html, external_id="<m1@example.com>", author=None)
    again = _log(acme, None, external_id="<m1@example.com>", author=None)
    assert first.pk == again.pk
    assert first.body_html == "<p>Hi</p>"


def test_only_the_author_or_a_manager_may_change_it(acme, alice, rita, bob) -> None:
    from tests.conftest import member

    other_rep = member(acme, "otto@acme.test", "rep", "Otto Other")
    interaction = InteractionFactory(org=acme, owner=rita)
    with activate(acme):
        interaction_update(org=acme, interaction=interaction, by=rita, subject="Mine")
        interaction_update(org=acme, interaction=interaction, by=alice, subject="Admin's")
        for user in (other_rep, bob):
            with pytest.raises(PermissionDenied):
                interaction_update(org=acme, interaction=interaction, by=user, subject="No")
            with pytest.raises(PermissionDenied):
                interaction_delete(org=acme, interaction=interaction, by=user)
        interaction_delete(org=acme, interaction=interaction, by=rita)
        interaction.refresh_from_db()
        assert interaction.subject == "Admin's"
        assert interaction.deleted_at is not None
        assert AuditEvent.objects.filter(action="interaction.trashed").count() == 1
