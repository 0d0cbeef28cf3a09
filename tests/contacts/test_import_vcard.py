"""vCard files, as phones, Apple Contacts, Google and Outlook export them: read as one row
per card and imported like a CSV."""

from pathlib import Path
from typing import Any

import pytest

from contacts.models import Contact
from crm.models import Organization, User
from crm.records.imports.reading import read_table
from crm.tenancy import activate
from tests.contacts.imports import media, run, upload

pytestmark = pytest.mark.django_db

APPLE = """BEGIN:VCARD\r
VERSION:3.0\r
PRODID:-//Apple Inc.//macOS 15.1//EN\r
N:Lovelace;Ada;King;;\r
FN:Ada King Lovelace\r
ORG:Analytical Engines;Research\r
TITLE:Countess\r
item1.EMAIL;type=INTERNET;type=HOME:ada@home.example\r
EMAIL;type=INTERNET;type=WORK;type=pref:ada@engines.example\r
TEL;type=CELL;type=VOICE;type=pref:+44 20 7946 0958\r
item2.ADR;type=WORK;type=pref:;;12 St James's Square;London;;SW1Y 4JH;United Kingdom\r
CATEGORIES:VIP,Mathematics\r
NOTE:First programmer\\, they say\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:Grace Hopper\r
EMAIL;TYPE=work;PREF=1:grace@navy.example\r
TEL;VALUE=uri;TYPE=work:tel:+1-202-555-0100\r
END:VCARD\r
"""
ANDROID = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BC=\r\nller\r\n"
    "TEL;CELL:+49 30 123456\r\nEMAIL;HOME:jurgen@example.de\r\nEND:VCARD\r\n"
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    media(settings, tmp_path)


def _rows(tmp_path: Path, text: str) -> list[list[str]]:
    path = tmp_path / "contacts.txt"  # the content decides, not the name
    path.write_bytes(text.encode("utf-8"))
    table = read_table(path)
    assert table.format == "vcf"
    return [cells for _, cells in table.rows()]


def test_it_reads_each_card_as_a_row(tmp_path: Path) -> None:
    ada, grace = _rows(tmp_path, APPLE)
    assert ada == ["Ada", "Lovelace", "ada@engines.example", "ada@home.example",
                   "+44 20 7946 0958", "", "Analytical Engines", "Countess",
                   "12 St James's Square", "London", "", "SW1Y 4JH", "United Kingdom",
                   "VIP; Mathematics"]  # fmt: skip
    assert grace[:6] == ["Grace", "Hopper", "grace@navy.example", "", "+1-202-555-0100", ""]


def test_it_reads_the_quoted_printable_cards_of_old_phones(tmp_path: Path) -> None:
    (jurgen,) = _rows(tmp_path, ANDROID)
    assert jurgen[:5] == ["Jürgen", "Müller", "jurgen@example.de", "", "+49 30 123456"]


def test_a_vcard_file_imports_with_the_suggested_mapping(acme: Organization, alice: User) -> None:
    job = upload(acme, alice, APPLE.encode(), name="contacts.vcf")
    assert (job.format, job.samples[0][0]) == ("vcf", "Ada")
    assert job.mapping == ["first_name", "last_name", "email", "other_emails", "phone",
                           "other_phones", "company", "job_title", "street", "city",
                           "region", "postal_code", "country", "tags"]  # fmt: skip
    job = run(acme, alice, APPLE.encode())
    assert job.totals["created"] == 2, job.problems
    with activate(acme):
        ada = Contact.objects.get(first_name="Ada")
    assert (ada.email, ada.other_emails, ada.country, ada.company_name) == (
        "ada@engines.example", ["ada@home.example"], "GB", "Analytical Engines"
    )  # fmt: skip


def test_a_file_of_no_cards_says_so(acme: Organization, alice: User) -> None:
    job = upload(acme, alice, b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\n")
    assert job.status == "failed"
    assert "The file has no contact card" in job.error
