"""contacts.imports.reading and fields: files as tools write them, headers as people name them."""

from pathlib import Path

import pytest

from contacts.imports import CONTACT_TARGETS, size
from crm.records import registry
from crm.records.imports.fields import country, suggest
from crm.records.imports.reading import Table, UnreadableFile, read_table
from tests.contacts.imports import csv_bytes, xlsx_bytes

ROWS = [["First Name", "Email", "Notes"], ["Zoë", "zoe@example.com", "line one\nline two; still"],
        ["", "", ""], ["Ben", "ben@example.com", ""]]  # fmt: skip
EXPECTED = [(2, ["Zoë", "zoe@example.com", "line one\nline two; still"]),
            (4, ["Ben", "ben@example.com", ""])]  # fmt: skip


def _read(tmp_path: Path, data: bytes, name: str = "file.csv") -> Table:
    path = tmp_path / name
    path.write_bytes(data)
    return read_table(path)


@pytest.mark.parametrize(
    ("delimiter", "encoding", "found"),
    [(",", "utf-8", "utf-8"), (";", "utf-8-sig", "utf-8"), ("\t", "utf-16", "utf-16"),
     ("|", "cp1252", "windows-1252"), (",", "utf-16-le", "utf-16")],
)  # fmt: skip
def test_it_reads_csv_in_each_delimiter_and_encoding(
    tmp_path: Path, delimiter: str, encoding: str, found: str
) -> None:
    table = _read(tmp_path, csv_bytes(ROWS, delimiter=delimiter, encoding=encoding))
    assert (table.delimiter, table.encoding) == (delimiter, found)
    assert table.headers == ["First Name", "Email", "Notes"]
    assert list(table.rows()) == EXPECTED


def test_it_reads_the_first_sheet_of_a_workbook_whatever_its_name(tmp_path: Path) -> None:
    data = xlsx_bytes([["Name", "Employees", "Since"], ["Initech", 120, None], [None, None, None],
                       ["Globex", 12.5, "2020-01-31"]])  # fmt: skip
    table = _read(tmp_path, data, "export.csv")  # mislabelled: read by its content
    assert table.format == "xlsx"
    assert list(table.rows()) == [
        (2, ["Initech", "120", ""]),
        (4, ["Globex", "12.5", "2020-01-31"]),
    ]


def test_it_names_blank_and_repeated_headers_and_pads_short_rows(tmp_path: Path) -> None:
    table = _read(tmp_path, b"Email,,Email\na@example.com\n")
    assert table.headers == ["Email", "Column 2", "Email (3)"]
    assert list(table.rows()) == [(2, ["a@example.com", "", ""])]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"\n\n  \n", "empty"), (bytes(range(256)) * 8, "binary data"),
     (b"PK\x03\x04broken", "cannot be opened"), (b"\xef\xbb\xbf\xff\xfe", "save it again")],
)  # fmt: skip
def test_it_explains_files_it_cannot_read(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message):
        _read(tmp_path, data)


def test_it_suggests_fields_from_the_headers_people_use() -> None:
    headers = ["E-mail Address", "Email 1", "First Name", "Company Name", "Mobile Phone",
               "Lifecycle Stage", "Tags", "Home Phone", "Notes"]  # fmt: skip
    known = {target.key: target for target in CONTACT_TARGETS}
    assert suggest(registry.kind("contact"), headers, known) == [
        "email", "other_emails", "first_name", "company", "phone", "lifecycle", "tags",
        "other_phones", "",
    ]  # fmt: skip


# The contact exports of the tools people leave (their headers as those tools write them),
# with what each column should fill; columns that fill nothing are left out.
OTHER_TOOLS = {
    "Google Contacts": [
        ("Name", ""), ("Given Name", "first_name"), ("Family Name", "last_name"),
        ("Group Membership", "tags"), ("E-mail 1 - Type", ""), ("E-mail 1 - Value", "email"),
        ("E-mail 2 - Type", ""), ("E-mail 2 - Value", "other_emails"),
        ("Phone 1 - Type", ""), ("Phone 1 - Value", "phone"),
        ("Organization 1 - Name", "company"), ("Organization 1 - Title", "job_title"),
        ("Address 1 - Street", "street"), ("Address 1 - City", "city"),
        ("Address 1 - Postal Code", "postal_code"), ("Address 1 - Country", "country"),
    ],
    "Google Contacts (2023)": [
        ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Organization Name", "company"), ("Organization Title", "job_title"),
        ("Labels", "tags"), ("E-mail 1 - Label", ""), ("E-mail 1 - Value", "email"),
        ("Phone 1 - Label", ""), ("Phone 1 - Value", "phone"),
    ],
    "Outlook": [
        ("First Name", "first_name"), ("Last Name", "last_name"), ("Company", "company"),
        ("Job Title", "job_title"), ("Business Street", "street"), ("Business City", "city"),
        ("Business State", "region"), ("Business Postal Code", "postal_code"),
        ("Business Country/Region", "country"), ("Business Phone", "phone"),
        ("Mobile Phone", "other_phones"), ("E-mail Address", "email"),
        ("E-mail 2 Address", "other_emails"),
    ],
    "HubSpot": [
        ("Record ID", "external_id"), ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Email", "email"), ("Phone Number", "phone"), ("Mobile Phone Number", "other_phones"),
        ("Contact owner", "owner"), ("Lifecycle Stage", "lifecycle"),
        ("Street Address", "street"), ("State/Region", "region"),
        ("Country/Region", "country"), ("Original Source", "source"),
    ],
    "Salesforce": [
        ("Contact ID", "external_id"), ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Account Name", "company"), ("Title", "job_title"), ("Email", "email"),
        ("Mailing Street", "street"), ("Mailing State/Province", "region"),
        ("Mailing Zip/Postal Code", "postal_code"), ("Mailing Country", "country"),
        ("Lead Source", "source"), ("Contact Owner", "owner"),
    ],
    "Pipedrive": [
        ("Person - ID", "external_id"), ("Person - Name", "full_name"),
        ("Person - Organization", "company"), ("Person - Email - Work", "email"),
        ("Person - Email - Home", "other_emails"), ("Person - Phone - Work", "phone"),
        ("Person - Phone - Mobile", "other_phones"), ("Person - Owner", "owner"),
        ("Person - Labels", "tags"),
    ],
    "Zoho CRM": [
        ("Record Id", "external_id"), ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Account Name", "company"), ("Email", "email"), ("Mobile", "phone"),
        ("Mailing Street", "street"), ("Mailing City", "city"), ("Mailing State", "region"),
        ("Mailing Zip", "postal_code"), ("Mailing Country", "country"),
        ("Contact Owner", "owner"), ("Lead Source", "source"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("tool", OTHER_TOOLS)
def test_it_recognises_the_columns_of_other_tools_exports(tool: str) -> None:
    headers, expected = zip(*OTHER_TOOLS[tool], strict=True)
    known = {target.key: target for target in CONTACT_TARGETS}
    assert suggest(registry.kind("contact"), list(headers), known) == list(expected)


def test_it_reads_countries_and_sizes_as_people_write_them() -> None:
    assert [country(v) for v in ("FR", "fra", "United Kingdom", "uk", "Deutschland")] == [
        "FR", "FR", "GB", "GB", "DE"
    ]  # fmt: skip
    assert [size(v) for v in ("11-50", "11 - 50 employees", "5001+")] == ["11-50", "11-50", "5001+"]


def test_it_takes_off_the_quote_an_export_puts_before_formulas(tmp_path: Path) -> None:
    table = _read(tmp_path, csv_bytes([["Phone", "Note"], ["'+44 20 7946 0958", "'=SUM(A1)"]]))
    assert list(table.rows()) == [(2, ["+44 20 7946 0958", "=SUM(A1)"])]
