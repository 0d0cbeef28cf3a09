"""An export read back by the importer: every column lands where it came from."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from contacts import services
from contacts.models import Contact
from crm.models import Organization, User
from crm.records.models import ImportJob
from crm.tenancy import activate
from tests.contacts.imports import check, media, run, upload

pytestmark = pytest.mark.django_db

COLUMNS = "name,email,phone,company,stage,owner,tags,job_title,source,country,city"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


def test_an_exported_list_imports_back_unchanged(
    client: Client, alice: User, acme: Organization
) -> None:
    with activate(acme):
        services.contact_save(
            org=acme, by=alice, company_name="Northwind", tag_names=["VIP", "Partner"],
            first_name="Ada", last_name="Lovelace", email="ada@example.com",
            phone="020 7946 0958", country="GB", city="London", lifecycle="customer",
            job_title="=Countess", source="Referral", owner=alice,
        )  # fmt: skip
    client.force_login(alice)
    exported = client.get(f"/o/acme/contacts/export/?format=csv&columns={COLUMNS}").content
    job = check(acme, alice, upload(acme, alice, exported, name="contacts.csv"))
    assert job.status == ImportJob.Status.CHECKED, job.error
    assert "" not in [key for key, header in zip(job.mapping, job.headers, strict=True)
                      if header != "Created"]  # fmt: skip
    assert job.totals["unchanged"] == 1, job.problems
    with activate(acme):
        assert Contact.objects.get().job_title == "=Countess"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_into_another_organisation_owned_by_the_importer(
    client: Client, alice: User, acme: Organization, globex: Organization, charlie: User,
    fmt: str,
) -> None:  # fmt: skip
    with activate(acme):
        services.contact_save(
            org=acme, by=alice, company_name="Northwind", tag_names=["VIP"], first_name="Ada",
            last_name="Lovelace", email="ada@example.com", owner=alice,
        )  # fmt: skip
    client.force_login(alice)
    exported = client.get(f"/o/acme/contacts/export/?format={fmt}&columns={COLUMNS}").content
    job = run(globex, charlie, exported)
    assert job.totals["created"] == 1, job.problems
    assert job.totals["rejected"] == 0
    ((row, column, message, outcome),) = job.problems
    assert (row, column, outcome) == (2, "Owner email", "created")
    assert "No member of this organisation has the email “alice@acme.test”" in message
    with activate(globex):
        ada = Contact.objects.get()
    assert (ada.email, ada.owner_id, ada.company_name) == ("ada@example.com", charlie.pk,
                                                          "Northwind")  # fmt: skip
