"""Text in mail: bytes in declared, wrong or unknown charsets, RFC 2047 encoded words, raw
8-bit headers; read the way mail clients read them, into text a database can store."""

import base64
import binascii
import codecs
import re

# Labels that mail clients read as the larger character sets senders really use.
_WIDER = {"iso8859-1": "cp1252", "ascii": "utf-8", "gb2312": "gb18030", "gbk": "gb18030",
          "euc_kr": "cp949", "shift_jis": "cp932"}  # fmt: skip
# Codecs that would interpret the text rather than decode it.
_NOT_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        name = codecs.lookup(charset.strip().strip("\"'")).name
    except (LookupError, ValueError, TypeError):
        return None  # "x-unknown" and the like
    return None if name in _NOT_CHARSETS else _WIDER.get(name, name)


def decode(content: bytes, charset: str | None) -> str:
    """Bytes as text: in the declared charset if they fit it, else UTF-8, else Windows-1252,
    else Latin-1, which reads any byte."""
    for name in (_codec(charset), "utf-8", "cp1252"):
        if name:
            try:
                return content.decode(name)
            except (UnicodeError, LookupError):
                continue
    return content.decode("latin-1")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean(value: str) -> str:
    # PostgreSQL stores no NUL, and a lone surrogate cannot be written as UTF-8.
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))


def one_line(value: str) -> str:
    return " ".join(clean(value).split())


def header_text(value: str) -> str:
    """A header's value (a subject, a name) as one line of text."""
    return one_line(decode_words(unescape_bytes(value)))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, also where broken mailers put them (inside quotes,
    against other text), joining adjacent words first: a character may be split over two."""
    out: list[str] = []
    run: list[tuple[str, bytearray]] = []  # adjacent words' bytes, by charset
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        data = _word_bytes(match[2], match[3])
        if not (run and data is not None and not gap.strip()):  # a gap between words is no text
            out.extend(decode(bytes(b), charset) for charset, b in run)
            run = []
            out.append(gap)
        position = match.end()
        charset = match[1].split("*", 1)[0]  # RFC 2231 may add a language: utf-8*en
        if data is None:
            out.append(match[0])
        elif run and run[-1][0].lower() == charset.lower():
            run[-1][1].extend(data)
        else:
            run.append((charset, bytearray(data)))
    out.extend(decode(bytes(b), charset) for charset, b in run)
    out.append(value[position:])
    return "".join(out)


def _word_bytes(encoding: str, text: str) -> bytes | None:
    if encoding in "qQ":
        return binascii.a2b_qp(text.encode("utf-8", "surrogateescape"), header=True)
    letters = text.rstrip("=")
    if not re.fullmatch(r"[A-Za-z0-9+/]+", letters):
        return None  # not base64: the word stays as written
    try:  # the padding is often missing
        return base64.b64decode(letters + "=" * (-len(letters) % 4))
    except binascii.Error:
        return None


_ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]+")


def unescape_bytes(value: str) -> str:
    """Raw 8-bit bytes in a header reach us as surrogate escapes: read them as UTF-8, else
    as Windows-1252, as mail clients do."""
    return _ESCAPED_BYTES.sub(
        lambda m: decode(m[0].encode("utf-8", "surrogateescape"), None), value
    )
