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


def test_it_reads_countries_and_sizes_as_people_write_them() -> None:
    assert [country(v) for v in ("FR", "fra", "United Kingdom", "uk", "Deutschland")] == [
        "FR", "FR", "GB", "GB", "DE"
    ]  # fmt: skip
    assert [size(v) for v in ("11-50", "11 - 50 employees", "5001+")] == ["11-50", "11-50", "5001+"]


def test_it_takes_off_the_quote_an_export_puts_before_formulas(tmp_path: Path) -> None:
    table = _read(tmp_path, csv_bytes([["Phone", "Note"], ["'+44 20 7946 0958", "'=SUM(A1)"]]))
    assert list(table.rows()) == [(2, ["+44 20 7946 0958", "=SUM(A1)"])]
