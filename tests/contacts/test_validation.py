"""What the contact and company forms (and the services behind them) accept: a website
domain and never a script, a real country, an address at an internationalised domain, and
whole numbers that the database can sort."""

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from contacts import services
from contacts.models import Company, Contact
from crm.models import Organization, User
from crm.records.custom_fields import custom_field_save
from crm.tenancy import activate

pytestmark = pytest.mark.django_db

CONTACT = {"first_name": "Zoë", "last_name": "Weber", "email": "", "phone": "", "company": "",
           "lifecycle": "lead", "tags": "", "owner": "", "country": ""}  # fmt: skip


def _errors(response: Any) -> list[str]:
    return re.findall(r'class="field__error"[^>]*>([^<]*)<', response.content.decode())


@pytest.mark.parametrize("domain", ["javascript:alert(1)", "java script.com", "<b>x</b>.com"])
def test_a_company_domain_is_a_domain_never_a_script(
    client: Client, alice: User, acme: Organization, domain: str
) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/companies/new/", {"name": "Initech", "domain": domain})
    assert response.status_code == 200
    assert any("is not a website domain" in error for error in _errors(response))
    with activate(acme):
        assert not Company.objects.exists()


def test_a_pasted_address_keeps_its_domain(client: Client, alice: User, acme: Organization):
    client.force_login(alice)
    client.post(
        "/o/acme/companies/new/", {"name": "Initech", "domain": "https://www.Initech.com/about"}
    )
    with activate(acme):
        assert Company.objects.get().domain == "initech.com"


@pytest.mark.parametrize("url", ["/o/acme/contacts/new/", "/o/acme/companies/new/"])
def test_a_country_is_one_that_exists(client: Client, alice: User, acme: Organization, url: str):
    client.force_login(alice)
    data = CONTACT if "contacts" in url else {"name": "Initech"}
    refused = client.post(url, {**data, "country": "ZZ"})
    assert "“ZZ” is not a country we know: use its code, e.g. FR." in _errors(refused)
    assert client.post(url, {**data, "country": "fr"}).status_code == 302
    with activate(acme):
        model = Contact if "contacts" in url else Company
        assert list(model.objects.values_list("country", flat=True)) == ["FR"]


def test_an_address_at_an_internationalised_domain_is_kept(
    client: Client, alice: User, acme: Organization
) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/contacts/new/", {**CONTACT, "email": "Zoe@Bücher.example"})
    assert response.status_code == 302
    with activate(acme):
        assert Contact.objects.get().email == "zoe@bücher.example"


def test_a_whole_number_fits_the_database(client: Client, alice: User, acme: Organization):
    with activate(acme):
        custom_field_save(org=acme, by=alice, record_kind="contact", key="seats",
                          label="Seats", kind="number", choices=[])  # fmt: skip
    client.force_login(alice)
    huge = client.post("/o/acme/contacts/new/", {**CONTACT, "custom_seats": "9" * 23})
    assert any("less than or equal to 9223372036854775807" in e for e in _errors(huge))
    with activate(acme):
        assert not Contact.objects.exists()
        with pytest.raises(ValidationError, match="Enter a whole number between"):
            services.contact_create(org=acme, by=alice, first_name="A", custom={"seats": 2**64})
        largest = services.contact_create(
            org=acme, by=alice, first_name="A", custom={"seats": 2**63 - 1}
        )
        assert largest.custom == {"seats": 2**63 - 1}
