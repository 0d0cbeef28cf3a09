"""The audit log is append-only for the app role (crm migration 0005): no event can be
rewritten or deleted by the product, except erasing a person's data from it; an operator
prunes old events with `manage.py audit_prune`, as the owner role."""

from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from crm.audit import ERASED, audit_erase
from crm.models import AuditEvent, Organization, User
from crm.tenancy import activate


def _event(org: Organization, actor: User | None = None, at: datetime | None = None,
           **changes: Any) -> AuditEvent:  # fmt: skip
    with activate(org):
        return AuditEvent.objects.create(
            org=org, action="contact.updated", actor=actor, object_type="contacts.contact",
            object_id="7", object_repr="Ada Lovelace", changes=changes, at=at or timezone.now(),
        )  # fmt: skip


def _refused(org: Organization, event: AuditEvent, **values: Any) -> bool:
    """Whether the app role's UPDATE of the event with these values is refused."""
    with activate(org):
        try:
            with transaction.atomic():
                AuditEvent.objects.filter(pk=event.pk).update(**values)
        except DatabaseError:
            return True
    return False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {"action": "contact.created"},
        {"object_id": "8"},
        {"object_type": "contacts.company"},
        {"at": datetime(2020, 1, 1, tzinfo=UTC)},
        {"ip": "10.0.0.1"},
        {"changes": {"email": ["a@x.test", "b@x.test"]}},
        {"changes": {"email": [ERASED, ERASED], "phone": [ERASED, ERASED]}},
        {"changes": {}},
        {"object_repr": "Someone else"},
    ],
)
def test_the_app_cannot_rewrite_an_event(acme, alice, values) -> None:
    event = _event(acme, alice, email=["ada@x.test", "ada@y.test"])
    assert _refused(acme, event, **values)
    with activate(acme):
        assert AuditEvent.objects.get(pk=event.pk).changes == {
            "email": ["ada@x.test", "ada@y.test"]
        }


@pytest.mark.django_db
def test_the_app_cannot_give_an_event_another_actor(acme, alice, bob) -> None:
    event = _event(acme, alice)
    assert _refused(acme, event, actor=bob)
    assert not _refused(acme, event, actor=None)  # the user's account was deleted


@pytest.mark.django_db
def test_the_app_cannot_delete_an_event(acme, alice) -> None:
    event = _event(acme, alice)
    with activate(acme):
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_erasing_a_persons_data_is_the_one_rewrite(acme, alice) -> None:
    event = _event(acme, alice, email=["ada@x.test", "ada@y.test"], phone=[None, "+441"])
    with activate(acme):
        assert audit_erase(AuditEvent.objects.filter(pk=event.pk), shown_as="Erased") == 1
        event.refresh_from_db()
    assert event.changes == {"email": [ERASED, ERASED], "phone": [ERASED, ERASED]}
    assert (event.object_repr, event.action, event.actor) == ("Erased", "contact.updated", alice)


# --- The operator's command ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the command connects as the owner role
def test_an_operator_prunes_old_events_and_it_says_so(acme, globex, alice) -> None:
    old = _event(acme, alice, at=datetime(2024, 5, 1, tzinfo=UTC))
    kept = _event(acme, alice, at=datetime(2025, 2, 1, tzinfo=UTC))
    theirs = _event(globex, at=datetime(2024, 5, 1, tzinfo=UTC))
    out = StringIO()
    call_command("audit_prune", "--before", "2025-01-01", stdout=out)
    assert "Would delete (run again with --yes) 2 audit events" in out.getvalue()
    call_command("audit_prune", "--before", "2025-01-01", "--org", "acme", "--yes", stdout=out)
    assert "Deleted 1 audit events from before 2025-01-01." in out.getvalue()
    with activate(acme):
        assert set(AuditEvent.objects.values_list("pk", flat=True)) - {kept.pk} == {
            AuditEvent.objects.get(action="audit.pruned").pk
        }
        assert AuditEvent.objects.get(action="audit.pruned").changes == {
            "before": [None, "2025-01-01"],
            "count": [None, 1],
        }
        assert not AuditEvent.objects.filter(pk=old.pk).exists()
    with activate(globex):
        assert AuditEvent.objects.filter(pk=theirs.pk).exists()
