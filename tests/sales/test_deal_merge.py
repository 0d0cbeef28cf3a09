"""Deals follow their contacts and companies through a merge, and come back with its undo."""

import pytest

from crm.records import merging
from crm.tenancy import activate
from sales.models import Deal, DealContact
from tests.factories import CompanyFactory, ContactFactory, DealFactory, merge

pytestmark = pytest.mark.django_db


def test_a_merged_contacts_deals_move_to_the_one_that_stays(acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@example.com")
    twin = ContactFactory(org=acme, first_name="Ada", email="ada.l@example.com")
    grace = ContactFactory(org=acme, first_name="Grace")
    mine = DealFactory(org=acme, title="Ada's", contact=ada)
    theirs = DealFactory(org=acme, title="Twin's", contact=twin)
    # Both on one deal as its other contacts: the link of the one merged away goes.
    both = DealFactory(org=acme, title="Both", contact=grace, contacts=[ada, twin])
    done = merge(acme, ada, [twin], by=alice)
    with activate(acme):
        assert set(Deal.objects.filter(contact=ada).values_list("title", flat=True)) == {
            "Ada's", "Twin's"}  # fmt: skip
        assert list(DealContact.objects.filter(deal=both).values_list("contact", flat=True)) == [
            ada.pk]  # fmt: skip
        merging.merge_undo(org=acme, merge=done, by=alice)
        assert Deal.objects.get(pk=theirs.pk).contact_id == twin.pk
        assert Deal.objects.get(pk=mine.pk).contact_id == ada.pk


def test_a_merged_companys_deals_move_too(acme, alice) -> None:
    north = CompanyFactory(org=acme, name="Northwind")
    copy = CompanyFactory(org=acme, name="Northwind Ltd")
    deal = DealFactory(org=acme, company=copy)
    merge(acme, north, [copy], by=alice)
    with activate(acme):
        assert Deal.objects.get(pk=deal.pk).company_id == north.pk
