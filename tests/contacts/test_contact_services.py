"""contacts.services: contacts, tags and consent as the services write them; the demo data."""

from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from contacts import services
from contacts.models import Company, ConsentEvent, Contact, Tag
from crm.models import AuditEvent, Organization, User
from crm.tenancy import activate
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _update(org: Organization, contact: Contact, by: User, **fields: Any) -> Contact:
    with activate(org):
        return services.contact_update(org=org, contact=contact, by=by, **fields)


def _updates(org: Organization, contact: Contact) -> list[AuditEvent]:
    with activate(org):
        events = AuditEvent.objects.filter(action="contact.updated", object_id=str(contact.pk))
        return list(events)


# --- Phones and emails -------------------------------------------------------------------


def test_it_normalises_a_national_phone_with_the_contacts_country(acme: Organization) -> None:
    contact = ContactFactory(org=acme, first_name="Ada", phone="020 7946 0958", country="gb")
    with activate(acme):
        contact.refresh_from_db()
    assert contact.phone == "+442079460958"
    assert contact.country == "GB"


def test_it_keeps_an_international_phone_in_e164(acme: Organization) -> None:
    contact = ContactFactory(
        org=acme, first_name="Ada", phone="+1 (415) 555-0123", other_phones=["+33 1 44 55 60 00"]
    )
    assert contact.phone == "+14155550123"
    assert contact.other_phones == ["+33144556000"]


def test_it_reads_a_new_national_phone_with_the_stored_country(acme: Organization, alice: User):
    contact = ContactFactory(org=acme, first_name="Ada", country="GB")
    _update(acme, contact, alice, phone="020 7946 0958")
    with activate(acme):
        assert Contact.objects.get(pk=contact.pk).phone == "+442079460958"


def test_it_refuses_a_bad_phone_and_saves_nothing(acme: Organization, alice: User) -> None:
    with pytest.raises(ValidationError) as refused, activate(acme):
        services.contact_create(org=acme, by=alice, first_name="Ada", phone="12")
    assert list(refused.value.message_dict) == ["phone"]
    with activate(acme):
        assert not Contact.objects.exists()
        assert not AuditEvent.objects.filter(action="contact.created").exists()


def test_it_lower_cases_emails(acme: Organization) -> None:
    contact = ContactFactory(org=acme, email=" Ada@Example.COM ", other_emails=["ADA@Work.Example"])
    with activate(acme):
        contact.refresh_from_db()
    assert contact.email == "ada@example.com"
    assert contact.other_emails == ["ada@work.example"]


def test_it_needs_a_name_or_an_email(acme: Organization) -> None:
    with pytest.raises(ValidationError) as refused, activate(acme):
        services.contact_create(org=acme, by=None, job_title="CTO")
    assert refused.value.message_dict == {
        "first_name": ["Give at least a name or an email address."]
    }
    with activate(acme):
        assert not Contact.objects.exists()


# --- Tags --------------------------------------------------------------------------------


def test_it_reuses_a_tag_whatever_its_case(acme: Organization, alice: User) -> None:
    with activate(acme):
        (vip,) = services.tags_by_name(org=acme, names=["VIP"], by=alice)
        found = services.tags_by_name(org=acme, names=["vip", " Vip "], by=alice)
        assert Tag.objects.count() == 1
    assert found == [vip, vip]


def test_it_creates_the_missing_tags(acme: Organization, alice: User) -> None:
    with activate(acme):
        services.tags_by_name(org=acme, names=["VIP"], by=alice)
        tags = services.tags_by_name(org=acme, names=["vip", "Partner", ""], by=alice)
        assert sorted(Tag.objects.values_list("name", flat=True)) == ["Partner", "VIP"]
        created = AuditEvent.objects.filter(action="tag.created").count()
    assert [tag.name for tag in tags] == ["VIP", "Partner"]
    assert created == 2


# --- Updates -----------------------------------------------------------------------------


def test_it_records_what_an_update_changed(acme: Organization, alice: User) -> None:
    contact = ContactFactory(org=acme, first_name="Ada", job_title="Analyst", lifecycle="lead")
    _update(acme, contact, alice, job_title="CTO", lifecycle="customer", first_name="Ada")
    (event,) = _updates(acme, contact)
    assert event.actor == alice
    assert event.changes == {"job_title": ["Analyst", "CTO"], "lifecycle": ["lead", "customer"]}


def test_it_records_no_event_when_nothing_changed(acme: Organization, alice: User) -> None:
    contact = ContactFactory(org=acme, first_name="Ada", phone="+442079460958", country="GB")
    with activate(acme):
        tags = services.tags_by_name(org=acme, names=["VIP"], by=alice)
    _update(acme, contact, alice, tags=tags)
    # The same number typed nationally is the same number once normalised.
    _update(acme, contact, alice, first_name="Ada", phone="020 7946 0958", tags=tags)
    assert [event.changes for event in _updates(acme, contact)] == [{"tags": [[], ["VIP"]]}]


def test_it_copies_a_new_companys_name_onto_the_contact(acme: Organization, alice: User) -> None:
    old = CompanyFactory(org=acme, by=alice, name="Northwind Traders")
    new = CompanyFactory(org=acme, by=alice, name="Kite Analytics")
    contact = ContactFactory(org=acme, first_name="Ada", company=old)
    _update(acme, contact, alice, company=new)
    with activate(acme):
        contact.refresh_from_db()
    assert (contact.company_id, contact.company_name) == (new.pk, "Kite Analytics")
    assert _updates(acme, contact)[0].changes == {"company": [old.pk, new.pk]}


# --- Consent -----------------------------------------------------------------------------


def test_it_keeps_every_consent_change(acme: Organization, alice: User) -> None:
    contact = ContactFactory(org=acme, first_name="Ada")
    with activate(acme):
        for granted, how in [(True, "web form"), (False, "unsubscribe link")]:
            services.contact_set_consent(
                org=acme, contact=contact, purpose="email_marketing", granted=granted, how=how,
                by=alice,
            )  # fmt: skip
        history = list(ConsentEvent.objects.order_by("pk").values_list("granted", "how"))
        contact.refresh_from_db()
    assert history == [(True, "web form"), (False, "unsubscribe link")]
    assert contact.consent["email_marketing"]["granted"] is False
    assert contact.consent["email_marketing"]["how"] == "unsubscribe link"


def test_it_refuses_consent_without_saying_how(acme: Organization, alice: User) -> None:
    contact = ContactFactory(org=acme, first_name="Ada")
    with activate(acme), pytest.raises(ValidationError) as refused:
        services.contact_set_consent(
            org=acme, contact=contact, purpose="email_marketing", granted=True, how="  ", by=alice
        )
    assert list(refused.value.message_dict) == ["how"]
    with activate(acme):
        assert not ConsentEvent.objects.exists()
        assert Contact.objects.get(pk=contact.pk).consent == {}


# --- Demo data ---------------------------------------------------------------------------


def _seed_demo() -> Organization:
    call_command("seed_demo", "--org", "demo", stdout=StringIO())
    return Organization.objects.get(slug="demo")


def test_the_demo_has_ten_companies_and_sixty_contacts() -> None:
    demo = _seed_demo()
    with activate(demo):
        assert Company.objects.count() == 10
        assert Contact.objects.count() == 60
        assert Contact.objects.exclude(phone__startswith="+").count() == 0


def test_the_demo_seeds_its_contacts_only_once() -> None:
    _seed_demo()
    demo = _seed_demo()
    with activate(demo):
        assert Company.objects.count() == 10
        assert Contact.objects.count() == 60
