"""contacts.services.trash_purge and its task: the Trash is emptied after 30 days."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from contacts import services, tasks
from contacts.models import Company, Contact
from crm.models import AuditEvent, Organization, User
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, trash

pytestmark = pytest.mark.django_db


def _exists(org: Organization, contact: Contact) -> bool:
    with activate(org):
        return Contact.objects.filter(pk=contact.pk).exists()


def _purge(org: Organization, days: int) -> dict[str, int]:
    with time_machine.travel(timezone.now() + timedelta(days=days)), activate(org):
        return services.trash_purge(org=org)


def test_it_deletes_a_contact_for_good_after_thirty_days(acme: Organization, alice: User):
    contact = ContactFactory(org=acme, by=alice, first_name="Ada")
    trash(acme, contact, by=alice)
    assert _purge(acme, days=31) == {"contact": 1, "company": 0}
    assert not _exists(acme, contact)
    with activate(acme):
        event = AuditEvent.objects.get(action="contact.purged")
    assert (event.actor, event.changes) == (None, {"count": [None, 1]})


def test_it_keeps_a_contact_in_the_trash_for_thirty_days(acme: Organization, alice: User):
    contact = ContactFactory(org=acme, by=alice, first_name="Ada")
    trash(acme, contact, by=alice)
    assert _purge(acme, days=29) == {"contact": 0, "company": 0}
    assert _exists(acme, contact)
    with activate(acme):
        assert not AuditEvent.objects.filter(action="contact.purged").exists()


def test_it_never_purges_a_contact_that_is_not_in_the_trash(acme: Organization) -> None:
    contact = ContactFactory(org=acme, first_name="Ada")
    _purge(acme, days=365)
    assert _exists(acme, contact)


def test_the_task_purges_only_its_organisations_trash(
    acme: Organization, globex: Organization
) -> None:
    ours, theirs = (
        ContactFactory(org=acme, first_name="Ada"),
        ContactFactory(org=globex, first_name="Grace"),
    )
    trash(acme, ours)
    trash(globex, theirs)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        tasks.trash_purge.apply(kwargs={"org_id": acme.pk}).get()
    assert not _exists(acme, ours)
    assert _exists(globex, theirs)


def test_the_task_is_safe_to_run_twice(acme: Organization) -> None:
    contact = ContactFactory(org=acme, first_name="Ada")
    trash(acme, contact)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        tasks.trash_purge.apply(kwargs={"org_id": acme.pk}).get()
        tasks.trash_purge.apply(kwargs={"org_id": acme.pk}).get()
    assert not _exists(acme, contact)
    with activate(acme):
        assert AuditEvent.objects.filter(action="contact.purged").count() == 1


def test_purging_a_company_detaches_its_contacts(acme: Organization, alice: User) -> None:
    company = CompanyFactory(org=acme, by=alice, name="Northwind Traders")
    contact = ContactFactory(org=acme, by=alice, first_name="Ada", company=company)
    trash(acme, company, by=alice)
    assert _purge(acme, days=31) == {"contact": 0, "company": 1}
    with activate(acme):
        contact.refresh_from_db()
        assert not Company.objects.filter(pk=company.pk).exists()
        assert AuditEvent.objects.filter(action="company.purged").exists()
    assert (contact.company_id, contact.company_name) == (None, "")
