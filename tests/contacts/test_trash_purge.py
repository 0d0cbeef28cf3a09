"""What the purge of the Trash does for contacts and companies besides deleting their rows
(their kinds' purge hooks); the purge itself is tests/records/test_trash.py's."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from contacts.models import Company, Contact
from crm.models import AuditEvent, Organization, User
from crm.records.trash import trash_purge
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, trash

pytestmark = pytest.mark.django_db


def _purge(org: Organization, days: int) -> dict[str, int]:
    with time_machine.travel(timezone.now() + timedelta(days=days)), activate(org):
        return trash_purge(org=org)


def test_purging_a_company_detaches_its_contacts(acme: Organization, alice: User) -> None:
    company = CompanyFactory(org=acme, by=alice, name="Northwind Traders")
    contact = ContactFactory(org=acme, by=alice, first_name="Ada", company=company)
    trash(acme, company, by=alice)
    assert _purge(acme, days=31)["company"] == 1
    with activate(acme):
        contact.refresh_from_db()
        assert not Company.objects.filter(pk=company.pk).exists()
        assert AuditEvent.objects.filter(action="company.purged").exists()
    assert (contact.company_id, contact.company_name) == (None, "")
    assert contact.deleted_at is None


def test_a_contact_and_its_company_in_the_trash_go_together(acme: Organization) -> None:
    company = CompanyFactory(org=acme, name="Northwind Traders")
    contact = ContactFactory(org=acme, first_name="Ada", company=company)
    trash(acme, contact)
    trash(acme, company)
    purged = _purge(acme, days=31)
    assert (purged["contact"], purged["company"]) == (1, 1)
    with activate(acme):
        assert not Contact.objects.filter(pk=contact.pk).exists()
