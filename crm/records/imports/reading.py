"""Reading an uploaded table: CSV in the encodings and delimiters people's tools write, or XLSX.

Whatever the file, `read_table` answers a `Table` (its header row and its rows as lists of
text) or raises `UnreadableFile` with a message a person can act on: nothing else
escapes, whatever was uploaded.
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

# Spreadsheet exports put no more than this many characters in a cell; csv's own default
# (131,072) is close. A longer "cell" means a broken file, not a long note.
MAX_CELL = 100_000
# More columns than this is not a table of records but a broken file, or the wrong one.
MAX_COLUMNS = 200
DELIMITERS = ",;\t|"
# What an export neutralises with a leading quote (crm.records.exports.neutralise).
_NEUTRALISED = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAGIC = b"PK\x03\x04"
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
    with path.open("rb") as file:
        start = file.read(4)
    if not start:
        raise UnreadableFile("The file is empty.")
    if start == _XLSX_MAGIC:
        return _read_xlsx(path)
    return _read_csv(path.read_bytes())


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
    quoted, end = False, len(text)
    for index, char in enumerate(text[:MAX_CELL]):
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            end = index
            break
    return text[:end]


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
    if not text.strip():
        raise UnreadableFile("The file is empty.")
    delimiter = sniff_delimiter(text)

    def records() -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, [_cell_text(cell) for cell in cells]
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
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError,
            TypeError) as error:  # fmt: skip
        raise UnreadableFile(
            "This file looks like an Excel workbook but cannot be opened: save it again as "
            f"XLSX or CSV ({type(error).__name__})."
        ) from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise UnreadableFile("The workbook has no sheet.")

    def records() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [_xlsx_text(value) for value in values]
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as error:
            raise UnreadableFile(
                f"The workbook cannot be read past row {number}: save it again as XLSX or "
                f"CSV ({type(error).__name__})."
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
