"""Reading an uploaded table: CSV in the encodings and delimiters people's tools write, or XLSX.

Whatever the file, `read_table` answers a `Table` (its header row and its rows as lists of
text) or raises `UnreadableFile` with a message a person can act on: nothing else
escapes, whatever was uploaded (but MemoryError, which the caller's memory cap raises).

The work is bounded whatever the file: a workbook is measured from its zip directory
before any of it is unpacked (`check_workbook`), XML declaring entities is refused
(openpyxl reads through defusedxml), the header must end within MAX_CELL characters, and
reading stops past twice IMPORT_MAX_ROWS rows, blank ones counted. `precheck` does the
cheap part of this on the upload itself; the rest runs in a worker.
"""

import csv
import io
import quopri
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from openpyxl import load_workbook

# Spreadsheet exports put no more than this many characters in a cell; csv's own default
# (131,072) is close. A longer "cell" means a broken file, not a long note.
MAX_CELL = 100_000
# More columns than this is not a table of records but a broken file, or the wrong one.
MAX_COLUMNS = 200
DELIMITERS = ",;\t|"
# What an export neutralises with a leading quote (crm.records.exports.neutralise).
_NEUTRALISED = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAGIC = b"PK\x03\x04"
# Parts of a workbook we would unpack (sheets, shared strings, styles…): more is no workbook.
MAX_PARTS = 1_000
# A part that unpacks to more than this many times its packed size is a zip bomb, not a
# spreadsheet (an ordinary sheet packs 5 to 20 times), once it is larger than SMALL_PART.
MAX_RATIO = 100
SMALL_PART = 1024 * 1024
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


class UnreadableFile(ValueError):
    """The upload is not a table we can read; the message says why, for the person."""


Records = Callable[[], Iterator[tuple[int, list[str]]]]


@dataclass
class Table:
    """A file's header row, and its rows read afresh on each call of `rows()`."""

    format: str  # "csv" or "xlsx"
    headers: list[str]
    records: Records = field(repr=False)
    header_number: int = 1
    encoding: str = ""
    delimiter: str = ""

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number as a spreadsheet shows it, cells as wide as the header) for every
        row after the header that is not blank."""
        width = len(self.headers)
        for number, cells in self.records():
            if number <= self.header_number or not any(cells):
                continue
            yield number, cells if len(cells) == width else (cells + [""] * width)[:width]


def read_table(path: Path) -> Table:
    """The table in the file at `path`, told apart by its content rather than its name."""
    found = precheck(path)
    if found == "xlsx":
        return _read_xlsx(path)
    if found == "vcf":
        return _read_vcf(path.read_bytes())
    return _read_csv(path.read_bytes())


def precheck(path: Path) -> str:
    """ "xlsx" or "csv", from what can be seen cheaply, without reading the rows: the first
    bytes, and a workbook's zip directory. UnreadableFile if that is enough to refuse it."""
    with path.open("rb") as file:
        start = file.read(65536)
    if not start:
        raise UnreadableFile("The file is empty.")
    if start[:4] == _XLSX_MAGIC:
        check_workbook(path)
        return "xlsx"
    text, _ = decode(start)
    if "\x00" in text:
        raise UnreadableFile("This is not a CSV or Excel file: it holds binary data.")
    return "vcf" if text.lstrip().upper().startswith("BEGIN:VCARD") else "csv"


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose zip directory says it unpacks to too much: more than
    IMPORT_MAX_UNPACKED_BYTES in all, or a part packed more than MAX_RATIO times. The sizes
    it declares bind what it unpacks to: zipfile stops at a part's declared size."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _broken_workbook(error) from None
    limit = settings.IMPORT_MAX_UNPACKED_BYTES
    if len(parts) > MAX_PARTS:
        raise UnreadableFile(
            f"The workbook holds {len(parts):,} parts: that is not a spreadsheet we can read."
        )
    if sum(part.file_size for part in parts) > limit:
        raise UnreadableFile(
            f"The workbook unpacks to more than {limit // 1024 // 1024} MB: save it as CSV, "
            "or split it into several files."
        )
    for part in parts:
        if part.file_size > SMALL_PART and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise UnreadableFile(
                "The workbook unpacks to far more than its size: it is mostly empty rows or "
                "cells, or not a spreadsheet. Save it as CSV, or delete the empty rows."
            )


def _broken_workbook(error: BaseException) -> UnreadableFile:
    return UnreadableFile(
        "This file looks like an Excel workbook but cannot be opened: save it again as XLSX or "
        f"CSV ({type(error).__name__})."
    )


def _too_many_rows() -> UnreadableFile:
    limit = settings.IMPORT_MAX_ROWS
    return UnreadableFile(
        f"The file goes on past row {2 * limit:,}, blank rows counted: an import reads "
        f"{limit:,} rows at most. Split it into several imports, or delete the empty rows."
    )


# --- CSV ----------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: a byte-order mark when there is
    one, else UTF-8, else Windows-1252 (what Excel on Windows writes)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), "utf-16" if encoding == "utf-16" else "utf-8"
            except UnicodeDecodeError:
                raise UnreadableFile(
                    "The file says it is Unicode text but is not: save it again as CSV."
                ) from None
    if b"\x00" in data[:65536]:
        text = _utf16_without_bom(data)
        if text is None:
            raise UnreadableFile("This is not a CSV or Excel file: it holds binary data.")
        return text, "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        raise UnreadableFile(
            "The file's text encoding is not one we read: save it as CSV UTF-8."
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    # UTF-16 text of Latin script has a NUL in every other byte; binary files do not.
    sample = data[:4096]
    odd, even = sample[1::2], sample[0::2]
    for zeros, encoding in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if zeros and zeros.count(0) / len(zeros) > 0.9:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the one of , ; tab | that it holds most of,
    outside quotes; a comma when there is none (a one-column file)."""
    header = _first_record(text)
    counts = {d: _count_outside_quotes(header, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_record(text: str) -> str:
    quoted = False
    for index, char in enumerate(text[:MAX_CELL]):
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            return text[:index]
    if len(text) > MAX_CELL:
        raise UnreadableFile(
            f"The first row is longer than {MAX_CELL:,} characters: this is not a table of "
            "records, or its quotes are unbalanced."
        )
    return text


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    if "\x00" in text:
        raise UnreadableFile("This is not a CSV or Excel file: it holds binary data.")
    if not text or text.isspace():
        raise UnreadableFile("The file is empty.")
    delimiter = sniff_delimiter(text)
    most = 2 * settings.IMPORT_MAX_ROWS

    def records() -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            for number, cells in enumerate(reader, start=1):
                if number > most:
                    raise _too_many_rows()
                yield number, [_cell_text(cell) for cell in cells[: MAX_COLUMNS + 1]]
        except csv.Error as error:
            raise UnreadableFile(
                f"Row {reader.line_num} cannot be read as CSV ({error}): check its quotes."
            ) from None

    csv.field_size_limit(MAX_CELL)
    number, headers = _header(records())
    return Table("csv", headers, records, number, encoding, delimiter)


def _cell_text(value: str) -> str:
    value = value.replace("\x00", "").strip()
    # Our exports put a quote before what a spreadsheet would run as a formula: take it off.
    if value[:1] == "'" and value[1:2] in _NEUTRALISED:
        return value[1:].strip()
    return value


# --- XLSX ---------------------------------------------------------------------------------


def _read_xlsx(path: Path) -> Table:
    try:
        # A file object, so that openpyxl goes by the content, not the name's extension.
        book = load_workbook(path.open("rb"), read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as error:  # whatever a broken or hostile workbook makes openpyxl raise
        raise _broken_workbook(error) from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise UnreadableFile("The workbook has no sheet.")
    most = 2 * settings.IMPORT_MAX_ROWS

    def records() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            # openpyxl yields the rows a sheet skips as empty ones: a sheet whose one cell
            # is in row 10**9 is refused here, not read to the end.
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > most:
                    raise _too_many_rows()
                yield number, [_xlsx_text(value) for value in values[: MAX_COLUMNS + 1]]
        except (UnreadableFile, MemoryError):
            raise
        except Exception as error:
            where = f"past row {number}" if number else "from its first row"
            raise UnreadableFile(
                f"The workbook cannot be read {where}: save it again as XLSX or CSV "
                f"({type(error).__name__})."
            ) from None

    number, headers = _header(records())
    return Table("xlsx", headers, records, number)


def _xlsx_text(value: Any) -> str:
    """A cell as the text a person typed: whole numbers without ".0", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return _cell_text(str(value))[:MAX_CELL]


# --- vCard -----------------------------------------------------------------------------------

# The columns a vCard file reads as, named as an import suggests fields for them.
VCARD_HEADERS = ["First name", "Last name", "Email", "Other emails", "Phone", "Other phones",
                 "Company", "Job title", "Street", "City", "Region", "Postal code", "Country",
                 "Tags"]  # fmt: skip
_VCARD_ESCAPES = re.compile(r"\\(.)")


def _read_vcf(data: bytes) -> Table:
    """A vCard file (2.1, 3.0 or 4.0: what phones, Apple Contacts, Google and Outlook export)
    as a table: one row per card, in the columns of VCARD_HEADERS."""
    text, encoding = decode(data)
    cards = list(_cards(text))
    if not cards:
        raise UnreadableFile("The file has no contact card (BEGIN:VCARD … END:VCARD).")
    if len(cards) > 2 * settings.IMPORT_MAX_ROWS:
        raise _too_many_rows()
    rows = [_card_row(card) for card in cards]

    def records() -> Iterator[tuple[int, list[str]]]:
        yield from enumerate(rows, start=1)

    return Table("vcf", list(VCARD_HEADERS), records, 0, encoding)


def _cards(text: str) -> Iterator[list[tuple[str, dict[str, str], str]]]:
    """Each card's properties as (name, parameters, value), lines unfolded and decoded."""
    card: list[tuple[str, dict[str, str], str]] | None = None
    for line in _unfolded(text):
        name, params, value = _property(line)
        if name == "BEGIN" and value.upper() == "VCARD":
            card = []
        elif name == "END" and card is not None:
            yield card
            card = None
        elif card is not None and name:
            card.append((name, params, value))


def _unfolded(text: str) -> Iterator[str]:
    """Lines joined back: a line that starts with a space or tab continues the one before
    (RFC 6350), as does one after a quoted-printable line ending in "=" (vCard 2.1)."""
    current = ""
    for raw in text.splitlines():
        if raw[:1] in (" ", "\t") and current:
            current += raw[1:]
        elif current.endswith("=") and "QUOTED-PRINTABLE" in current.split(":", 1)[0].upper():
            current = current[:-1] + raw
        else:
            if current:
                yield current[:MAX_CELL]
            current = raw
    if current:
        yield current[:MAX_CELL]


def _property(line: str) -> tuple[str, dict[str, str], str]:
    head, _, value = line.partition(":")
    name, *parts = head.split(";")
    name = name.rsplit(".", 1)[-1].strip().upper()  # "item1.EMAIL" is EMAIL
    params: dict[str, str] = {}
    for part in parts:
        key, _, found = part.partition("=")
        if found:
            params[key.strip().upper()] = found.strip().strip('"').upper()
        else:  # vCard 2.1: "EMAIL;WORK;PREF:" and "ENCODING" values alone
            params.setdefault("TYPE", "")
            params["TYPE"] += "," + key.strip().upper()
            if key.strip().upper() == "QUOTED-PRINTABLE":
                params["ENCODING"] = "QUOTED-PRINTABLE"
    if params.get("ENCODING") == "QUOTED-PRINTABLE":
        charset = params.get("CHARSET", "UTF-8").lower()
        try:
            value = quopri.decodestring(value.encode("latin-1", "replace")).decode(charset)
        except (LookupError, UnicodeDecodeError):
            value = quopri.decodestring(value.encode("latin-1", "replace")).decode("latin-1")
    return name, params, value


def _parts(value: str) -> list[str]:
    """A structured value's components (N, ADR, ORG), split at unescaped ";"."""
    parts, current, escaped = [], "", False
    for char in value:
        if escaped:
            current += "\n" if char in "nN" else char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ";":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _unescape(value: str) -> str:
    return _VCARD_ESCAPES.sub(lambda m: "\n" if m[1] in "nN" else m[1], value).strip()


def _preferred(values: list[tuple[dict[str, str], str]]) -> list[str]:
    """The values of a repeated property, the preferred (or work) one first."""

    def rank(item: tuple[dict[str, str], str]) -> int:
        kinds = item[0].get("TYPE", "") + "," + item[0].get("PREF", "")
        return 0 if "PREF" in kinds or item[0].get("PREF") else 1 if "WORK" in kinds else 2

    return [value for _, value in sorted(values, key=rank) if value]


def _card_row(card: list[tuple[str, dict[str, str], str]]) -> list[str]:
    found: dict[str, list[tuple[dict[str, str], str]]] = {}
    for name, params, value in card:
        found.setdefault(name, []).append((params, value))

    def first(name: str) -> str:
        return found[name][0][1] if name in found else ""

    family, given = ([*_parts(first("N")), "", ""])[:2] if "N" in found else ("", "")
    if not (family or given):  # no structured name: the formatted one, split
        given, _, family = _unescape(first("FN")).partition(" ")
    emails = _preferred([(p, _unescape(v)) for p, v in found.get("EMAIL", [])])
    # vCard 4 may write a number as a URI: "tel:+1-202-555-0100".
    phones = _preferred([(p, _unescape(v).removeprefix("tel:")) for p, v in found.get("TEL", [])])
    company = _parts(first("ORG"))[0] if "ORG" in found else ""
    addresses = _preferred([(p, v) for p, v in found.get("ADR", [])])
    address = ([*_parts(addresses[0]), *[""] * 7])[:7] if addresses else [""] * 7
    _, _, street, city, region, postal, country = address
    categories = [_unescape(c) for c in first("CATEGORIES").split(",") if c.strip()]
    row = [given, family, emails[0] if emails else "", "; ".join(emails[1:]),
           phones[0] if phones else "", "; ".join(phones[1:]), company,
           _unescape(first("TITLE")), street, city, region, postal, country,
           "; ".join(categories)]  # fmt: skip
    return [_cell_text(value)[:MAX_CELL] for value in row]


# --- Both ---------------------------------------------------------------------------------


def _header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    """The first non-blank row's number, and its names as the header: blank or repeated
    names made unique, so that each column can be told apart on the mapping page."""
    header_number = 0
    headers: list[str] = []
    for number, cells in records:
        if any(cells):
            header_number, headers = number, cells
            break
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise UnreadableFile("The file has no header row: its first row must name the columns.")
    if len(headers) > MAX_COLUMNS:
        raise UnreadableFile(
            f"The first row has {len(headers):,} columns; an import takes at most {MAX_COLUMNS}."
        )
    seen: set[str] = set()
    unique = []
    for index, name in enumerate(headers, start=1):
        name = name or f"Column {index}"
        while name.lower() in seen:
            name = f"{name} ({index})"
        seen.add(name.lower())
        unique.append(name[:200])
    return header_number, unique


def sample(table: Table, limit: int = 3) -> list[list[str]]:
    """The first few rows, for the mapping page."""
    found = []
    for _, cells in table.rows():
        found.append(cells)
        if len(found) == limit:
            break
    return found
