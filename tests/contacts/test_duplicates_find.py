"""contacts.duplicates.duplicates_find and its task: likely duplicates, listed in pairs."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from contacts import duplicates as finders
from contacts import services
from contacts.privacy import contact_erase
from crm.models import Organization, User
from crm.records import duplicates, merging, tasks
from crm.records.models import DuplicatePair
from crm.records.trash import trash_purge
from crm.tasks import fan_out
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, merge, trash

pytestmark = pytest.mark.django_db


def _find(org: Organization) -> dict[str, int]:
    with activate(org):
        return duplicates.duplicates_find(org=org)


def _pairs(org: Organization, record_kind: str = "contact") -> set[tuple[int, int, str]]:
    """The open pairs, as (lower id, higher id, reason)."""
    with activate(org):
        found = DuplicatePair.objects.filter(record_kind=record_kind, dismissed_at__isnull=True)
        return {(p.first_id, p.second_id, p.reason) for p in found}


# --- What is found -----------------------------------------------------------------------


def test_it_pairs_contacts_with_the_same_email_in_any_case(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    other = ContactFactory(org=acme, first_name="Augusta", other_emails=["ADA@engines.example "])
    ContactFactory(org=acme, first_name="Grace", email="grace@navy.example")
    assert _find(acme) == {"contact": 1, "company": 0}
    assert _pairs(acme) == {(ada.pk, other.pk, "email")}


def test_it_pairs_contacts_with_the_same_phone_number(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", phone="+442079460958")
    other = ContactFactory(org=acme, first_name="Augusta", phone="020 7946 0958", country="GB")
    _find(acme)
    assert _pairs(acme) == {(ada.pk, other.pk, "phone")}


def test_it_pairs_similar_names_at_the_same_company_only(acme: Organization) -> None:
    engines, navy = CompanyFactory(org=acme, name="Engines"), CompanyFactory(org=acme, name="Navy")
    jon = ContactFactory(org=acme, first_name="Jon", last_name="Smith", company=engines)
    john = ContactFactory(org=acme, first_name="John", last_name="Smith", company=engines)
    ContactFactory(org=acme, first_name="John", last_name="Smith", company=navy)
    ContactFactory(org=acme, first_name="Jane", last_name="Smith", company=engines)
    ContactFactory(org=acme, first_name="John", last_name="Smith")  # no company
    _find(acme)
    [(a, b, reason)] = _pairs(acme)
    assert (a, b, reason) == (jon.pk, john.pk, "name")


def test_it_pairs_companies_by_domain_and_by_similar_name(acme: Organization) -> None:
    northwind = CompanyFactory(org=acme, name="Northwind Traders", domain="northwind.example")
    nortwind = CompanyFactory(org=acme, name="The Nortwind Traders Ltd.")
    www = CompanyFactory(org=acme, name="Contoso", domain="www.northwind.example")
    CompanyFactory(org=acme, name="Studio 54")
    CompanyFactory(org=acme, name="Studio 55")  # numbers differ: another company
    assert _find(acme) == {"contact": 0, "company": 2}
    assert _pairs(acme, "company") == {
        (northwind.pk, nortwind.pk, "company_name"), (northwind.pk, www.pk, "domain")
    }  # fmt: skip


def test_it_scores_exact_matches_above_similar_names(acme: Organization) -> None:
    engines = CompanyFactory(org=acme, name="Engines")
    ContactFactory(org=acme, first_name="Jon", last_name="Smith", company=engines)
    ContactFactory(org=acme, first_name="John", last_name="Smith", company=engines)
    ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    ContactFactory(org=acme, first_name="Augusta", email="ada@engines.example")
    _find(acme)
    with activate(acme):
        scores = list(DuplicatePair.objects.values_list("reason", "score"))
    assert scores[0] == ("email", 1.0)
    assert scores[1][0] == "name"
    assert 0.6 <= scores[1][1] < 1


def test_it_skips_an_address_shared_by_many(acme: Organization) -> None:
    for n in range(finders.SHARED_VALUE_LIMIT + 1):
        ContactFactory(org=acme, first_name=f"Person {n}", email="info@engines.example")
    _find(acme)
    assert _pairs(acme) == set()


def test_it_never_pairs_across_organisations(acme: Organization, globex: Organization):
    ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    ContactFactory(org=globex, first_name="Ada", email="ada@engines.example")
    assert _find(acme) == {"contact": 0, "company": 0}
    assert _find(globex) == {"contact": 0, "company": 0}


def test_it_leaves_out_deleted_merged_and_erased_contacts(acme: Organization, alice: User):
    ada, trashed, merged, erased = (
        ContactFactory(org=acme, first_name="Ada", email="ada@engines.example") for _ in range(4)
    )
    with activate(acme):
        trash(acme, trashed, by=None)
        merge(org=acme, survivor=ada, others=[merged], values={}, by=None)
        contact_erase(org=acme, contact=erased, by=alice)
    _find(acme)
    assert _pairs(acme) == set()


# --- Running again -----------------------------------------------------------------------


def test_a_dismissed_pair_stays_dismissed(acme: Organization, alice: User) -> None:
    ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    ContactFactory(org=acme, first_name="Augusta", email="ada@engines.example")
    _find(acme)
    with activate(acme):
        pair = DuplicatePair.objects.get()
        duplicates.duplicate_dismiss(org=acme, pair=pair, by=alice)
    assert _find(acme) == {"contact": 0, "company": 0}
    with activate(acme):
        assert DuplicatePair.objects.get().dismissed_by == alice


def test_a_dismissed_pair_stays_dismissed_after_a_merge_is_undone(acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    augusta = ContactFactory(org=acme, first_name="Augusta", email="ada@engines.example")
    grace = ContactFactory(org=acme, first_name="Grace")
    _find(acme)
    with activate(acme):
        duplicates.duplicate_dismiss(org=acme, pair=DuplicatePair.objects.get(), by=alice)
        done = merge(org=acme, survivor=grace, others=[augusta], values={}, by=alice)
    _find(acme)
    with activate(acme):
        merging.merge_undo(org=acme, merge=done, by=alice)
    _find(acme)
    assert (ada.pk, augusta.pk, "email") not in _pairs(acme)
    with activate(acme):
        assert (
            DuplicatePair.objects.get(first_id=ada.pk, second_id=augusta.pk).dismissed_by == alice
        )


def test_a_dismissed_pair_goes_when_a_merged_record_is_purged(acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    augusta = ContactFactory(org=acme, first_name="Augusta", email="ada@engines.example")
    _find(acme)
    with activate(acme):
        duplicates.duplicate_dismiss(org=acme, pair=DuplicatePair.objects.get(), by=alice)
        grace = ContactFactory(org=acme, first_name="Grace")
        merge(org=acme, survivor=grace, others=[augusta], values={}, by=alice)
    with time_machine.travel(timezone.now() + timedelta(days=31)), activate(acme):
        trash_purge(org=acme)
        assert not DuplicatePair.objects.exists()


def test_it_forgets_pairs_that_no_longer_match_or_were_merged(acme: Organization) -> None:
    ada = ContactFactory(
        org=acme, first_name="Ada", email="ada@engines.example", phone="+442079460958"
    )
    augusta = ContactFactory(org=acme, first_name="Augusta", email="ada@engines.example")
    grace = ContactFactory(org=acme, first_name="Grace", phone="+442079460958")
    _find(acme)
    with activate(acme):
        services.contact_update(org=acme, contact=augusta, by=None, email="augusta@x.example")
        merge(org=acme, survivor=ada, others=[grace], values={}, by=None)
    _find(acme)
    assert _pairs(acme) == set()


def test_the_task_finds_only_its_organisations_duplicates(acme, globex) -> None:
    for org in (acme, globex):
        ContactFactory(org=org, first_name="Ada", email="ada@engines.example")
        ContactFactory(org=org, first_name="Augusta", email="ada@engines.example")
    tasks.duplicates_find.apply(kwargs={"org_id": acme.pk}).get()
    tasks.duplicates_find.apply(kwargs={"org_id": acme.pk}).get()  # safe to repeat
    assert len(_pairs(acme)) == 1
    assert _pairs(globex) == set()


def test_beat_looks_every_night_in_every_organisation(acme, globex) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["duplicates-find"]
    assert (entry["task"], entry["args"]) == ("crm.fan_out", ["records.duplicates_find"])
    for org in (acme, globex):
        ContactFactory(org=org, first_name="Ada", email="ada@engines.example")
        ContactFactory(org=org, first_name="Augusta", email="ada@engines.example")
    fan_out.apply(args=("records.duplicates_find",)).get()
    assert len(_pairs(acme)) == len(_pairs(globex)) == 1
