"""The organisation's words that misspelt searches are matched against, kept by the database."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from contacts import privacy, services
from contacts.models import Contact, SearchWord
from crm.models import Organization, User
from crm.records.search import search_ids
from crm.records.trash import trash_purge
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory, trash

pytestmark = pytest.mark.django_db


def _words(org: Organization) -> set[str]:
    with activate(org):
        return set(SearchWord.objects.values_list("word", flat=True))


def _near(org: Organization, term: str, limit: int = 1001) -> list[str]:
    """The names a search for `term` finds, in the order the database found them."""
    with activate(org):
        ids = search_ids(Contact, term, limit=limit) or []
        names = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "last_name"))
    return [names[pk] for pk in ids]


def test_it_keeps_the_words_of_a_new_contact(acme: Organization) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", job_title="Analyst",
             email="ada.l@engines.example", phone="+442079460958")  # fmt: skip
    # Addresses, numbers and words shorter than a trigram are no near misses of anything.
    assert _words(acme) == {"ada", "lovelace", "analyst"}


def test_it_forgets_a_word_when_no_contact_has_it_any_more(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    with activate(acme):
        services.contact_update(org=acme, contact=ada, by=None, last_name="King")
    assert _words(acme) == {"ada", "king"}


def test_it_keeps_a_word_another_contact_still_has(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    ContactFactory(org=acme, first_name="Byron", last_name="Lovelace")
    with activate(acme):
        services.contact_update(org=acme, contact=ada, by=None, last_name="King")
    assert "lovelace" in _words(acme)


def test_it_keeps_the_words_of_a_contact_in_the_trash(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    with activate(acme):
        trash(acme, ada, by=None)
    assert "lovelace" in _words(acme)  # it may be restored


def test_it_forgets_the_words_of_a_contact_deleted_for_good(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    ContactFactory(org=acme, first_name="Grace", last_name="Hopper")
    with activate(acme):
        trash(acme, ada, by=None)
        trash_purge(org=acme, now=timezone.now() + timedelta(days=31))
    assert _words(acme) == {"grace", "hopper"}


def test_it_forgets_an_erased_contacts_name(acme: Organization, alice: User) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", job_title="Analyst")
    with activate(acme):
        privacy.contact_erase(org=acme, contact=ada, by=alice)
    assert _words(acme) == {"erased", "contact"}


def test_it_follows_a_company_renamed_on_its_contacts(acme: Organization) -> None:
    kite = CompanyFactory(org=acme, name="Kite Analytics")
    ContactFactory(org=acme, first_name="Grace", last_name="Hopper", company=kite)
    with activate(acme):
        services.company_update(org=acme, company=kite, by=None, name="Falcon Analytics")
    assert _words(acme) == {"grace", "hopper", "falcon", "analytics"}


def test_it_keeps_each_organisations_words_apart(acme: Organization, globex: Organization):
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    ContactFactory(org=globex, first_name="Grace", last_name="Hopper")
    assert _words(globex) == {"grace", "hopper"}
    with connection.cursor() as cursor:  # no organisation active: no words at all
        cursor.execute("SELECT count(*) FROM contacts_searchword")
        assert cursor.fetchone() == (0,)


def test_its_near_misses_never_reach_another_organisation(
    acme: Organization, globex: Organization
) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    ContactFactory(org=globex, first_name="Ada", last_name="Loveless")
    assert _near(globex, "lovelase") == ["Loveless"]


def test_its_check_of_unused_words_sees_only_the_active_organisation(
    acme: Organization, globex: Organization
) -> None:
    ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    with activate(globex), connection.cursor() as cursor:
        cursor.execute("SELECT crm_search_words_unused(ARRAY['lovelace'])")
        assert cursor.fetchall() == [("lovelace",)]  # Acme's contact is not Globex's


def test_it_finds_the_closest_spelling_first(acme: Organization) -> None:
    for last in ["Jones", "Johnson", "Jones"]:
        ContactFactory(org=acme, first_name="Sam", last_name=last)
    assert _near(acme, "jonhson", limit=1) == ["Johnson"]
    assert sorted(_near(acme, "jonhson")) == ["Johnson", "Jones", "Jones"]


def test_it_matches_every_word_of_a_misspelt_search(acme: Organization) -> None:
    ContactFactory(org=acme, first_name="John", last_name="Smith")
    ContactFactory(org=acme, first_name="John", last_name="Hopper")
    assert _near(acme, "jonh smiht") == ["Smith"]


def test_it_reads_a_word_without_near_misses_as_a_beginning(acme: Organization) -> None:
    kite = CompanyFactory(org=acme, name="Kite 4521")
    ContactFactory(org=acme, first_name="John", last_name="Smith", company=kite)
    ContactFactory(org=acme, first_name="John", last_name="Smithers")
    assert _near(acme, "smiht 452") == ["Smith"]


def test_the_nightly_resync_mends_words_left_out_of_step(acme: Organization) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    ContactFactory(org=acme, first_name="Grace", last_name="Hopper")
    with activate(acme), connection.cursor() as cursor:
        # A contact deleted past the services, and a word lost to a race between writers.
        cursor.execute("DELETE FROM contacts_contact WHERE id = %s", [ada.pk])
        cursor.execute("DELETE FROM contacts_searchword WHERE word = 'hopper'")
    assert _words(acme) == {"ada", "lovelace", "grace"}
    with activate(acme):
        assert services.search_words_resync(org=acme) == {"added": 1, "removed": 2}
    assert _words(acme) == {"grace", "hopper"}
