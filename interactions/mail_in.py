"""Inbound email: one raw RFC 822 message (bytes) in, what an interaction stores out.

`parse()` is pure: no models, no database, no clock. It reads with the standard library's
`email` package (`policy.default`) and tolerates what real mail contains: missing headers,
wrong or unknown charsets, raw 8-bit headers and bodies, bad dates, broken MIME boundaries.
The email package raises many kinds of errors on hostile input, so each field is read on
its own and falls back rather than losing the message. The one exception is `Refused`, for
empty input, input that is not an email, and input over one of the caps.

The caps also bound the time a message takes: the email package's header parser is slow
(and quadratic on some inputs, such as runs of quotes), so it reads at most MAX_PARTS parts
and only the start of very long structured headers.
"""

import codecs
import contextlib
import email.utils
import functools
import hashlib
import itertools
import mimetypes
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import Any, NamedTuple, TypeVar

from interactions import html_body
from interactions.mail_text import clean, decode, header_text, one_line, unescape_bytes

MB = 1024 * 1024
MAX_BYTES = 25 * MB
MAX_ATTACHMENTS = 100
MAX_ATTACHMENT_BYTES = 25 * MB
MAX_PARTS = 500  # MIME parts, containers included; real mail has a few dozen at most
MAX_DEPTH = 32  # parts inside parts; real mail stays under 10
MAX_FIELDS = 10_000  # header fields, of all parts together
MAX_LINES = 1_000_000  # 25 MB of base64 is 330,000 lines
MAX_ID_LENGTH = 255
MAX_REFERENCES = 100
SYNTHETIC_ID_DOMAIN = "message-id.invalid"  # RFC 2606: .invalid is never a real host

_T = TypeVar("_T")


class Refused(ValueError):
    """Input the CRM will not store as a message; the reason is written for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Address(NamedTuple):
    name: str
    address: str  # lower case; an internationalised domain in its Unicode form


class Attachment(NamedTuple):
    filename: str  # a bare file name, safe to store and to offer for download
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Parsed:
    """What one inbound message carries, ready to be stored as an interaction."""

    message_id: str  # without angle brackets; synthetic (…@message-id.invalid) when missing
    in_reply_to: str | None
    references: tuple[str, ...]  # oldest first, as in the header
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None  # in UTC; None when missing or unreadable
    text: str
    html: str | None  # sanitised; None when the message has no HTML body
    attachments: tuple[Attachment, ...]
    is_auto_reply: bool
    is_bounce: bool

    def thread_keys(self) -> tuple[str, ...]:
        """The message ids to find this message's thread by, nearest ancestor first."""
        keys = dict.fromkeys(k for k in (self.in_reply_to, *reversed(self.references)) if k)
        keys.pop(self.message_id, None)
        return tuple(keys)


def parse(
    raw: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_attachments: int = MAX_ATTACHMENTS,
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
) -> Parsed:
    """Read one raw message; raise `Refused` for input that cannot be one, and only then."""
    raw = bytes(raw)
    if not raw.strip():
        raise Refused("The message is empty.")
    if len(raw) > max_bytes:
        raise Refused(f"The message is {_size(len(raw))}, over the limit of {_size(max_bytes)}.")
    if max(raw.count(b"\n"), raw.count(b"\r")) > MAX_LINES:  # the parser's time goes by line
        raise Refused(f"The message has more than {MAX_LINES:,} lines.")
    budget = _Budget()
    # Files saved by hand often start with a byte order mark or a blank line, which would
    # otherwise end the headers before the first one.
    msg = budget.read(raw.removeprefix(codecs.BOM_UTF8).lstrip())
    headers = _headers(msg)
    if not any(one_line(_first(headers, name)) for name in _EMAIL_HEADERS):
        raise Refused(
            "This is not an email: it has none of From, To, Cc, Subject, Date or Message-ID."
        )
    walk = _walk(msg, budget)
    plain = next((p for p in walk.leaves if _is_body(p, "text/plain")), None)
    rich = next((p for p in walk.leaves if _is_body(p, "text/html")), None)
    html = html_body.sanitise(_text_of(rich)) if rich is not None else None
    text = _text_of(plain).strip("\n").rstrip() if plain is not None else ""
    if not text.strip() and html:
        text = clean(_safely(html_body.to_text, "", html))
    others = (p for p in walk.leaves if p is not plain and p is not rich)
    attachments = _attachments(others, max_attachments, max_attachment_bytes)
    senders = _addresses(headers.get("from", [])) or _addresses(headers.get("sender", []))
    subject = header_text(_first(headers, "subject"))
    ids = _message_ids(_first(headers, "message-id"))
    parents = _message_ids(_first(headers, "in-reply-to"))
    references = _references(" ".join(headers.get("references", [])))
    return Parsed(
        message_id=ids[0] if ids else f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_ID_DOMAIN}",
        in_reply_to=parents[0] if parents else None,
        references=tuple(references),
        subject=subject,
        sender=senders[0] if senders else None,
        to=_addresses(headers.get("to", [])),
        cc=_addresses(headers.get("cc", [])),
        reply_to=_addresses(headers.get("reply-to", [])),
        date=_date(_first(headers, "date")),
        text=text,
        html=html,
        attachments=tuple(attachments),
        is_auto_reply=_is_auto_reply(headers, subject),
        is_bounce=walk.has_report or (_is_daemon(senders) and walk.has_delivery_status),
    )


_TICKET = re.compile(r"\[#([0-9]{1,18})\]")


def ticket_number(subject: str) -> int | None:
    """The ticket a subject names as "[#1001]", the first one if it names several."""
    match = _TICKET.search(subject)
    number = int(match[1]) if match else 0
    return number or None  # "[#0]" names no ticket


# --- Reading the structure ----------------------------------------------------------------

# The header parser's time grows with the square of a value's delimiters: Content-Type and
# the like are read up to their 1,000th character or 48th delimiter, which no real one has.
_MIME_HEADER_CHARS = 1000
_MIME_DELIMITERS = 48
_DELIMITER = re.compile(r'[;"()\\,<>@:]')


class _Policy(EmailPolicy):
    """policy.default, counting header fields against a budget, and reading only the start
    of a long one, once: the feed parser asks for the same Content-Type many times."""

    budget: Any = None

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        if self.budget is not None:
            self.budget.field()
        return super().header_source_parse(sourcelines)

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):  # already parsed
            return value
        value = value.replace("\r", "").replace("\n", "")[:_MIME_HEADER_CHARS]
        cut = next(itertools.islice(_DELIMITER.finditer(value), _MIME_DELIMITERS, None), None)
        return _parsed_header(name.lower(), value[: cut.start()] if cut else value)


@functools.lru_cache(maxsize=512)
def _parsed_header(name: str, value: str) -> Any:
    """A header as policy.default reads it (immutable, so safe to share), or empty if the
    value breaks the parser: a Content-Type it cannot read is text/plain."""
    header = _safely(policy.default.header_factory, None, name, value)
    return policy.default.header_factory(name, "") if header is None else header


_POLICY = _Policy()
_AS_SENT = _POLICY.clone(refold_source="none")  # headers written back exactly as they came
_TOO_DEEP = f"The message's parts are nested more than {MAX_DEPTH} deep."


class _Budget:
    """What one message may cost the parser, counted as it reads: the parse stops, early, at
    more parts or header fields than any real message has."""

    def __init__(self) -> None:
        self.parts = MAX_PARTS + 1  # the parser calls the factory once to try it
        self.fields = MAX_FIELDS
        self.recoveries = 3  # broken multiparts read again, each costing another parse
        self.policy = _POLICY.clone(budget=self)  # type: ignore[call-arg]  # our own attribute

    def part(self, policy: EmailPolicy) -> EmailMessage:
        self.parts -= 1
        if self.parts < 0:
            raise Refused(f"The message has more than {MAX_PARTS} MIME parts.")
        return EmailMessage(policy=policy)

    def field(self) -> None:
        self.fields -= 1
        if self.fields < 0:
            raise Refused(f"The message has more than {MAX_FIELDS:,} header fields.")

    def read(self, raw: bytes) -> Message:
        try:
            return BytesParser(_class=self.part, policy=self.policy).parsebytes(raw)  # type: ignore[arg-type]
        except RecursionError:  # the parser recurses into nested parts
            raise Refused(_TOO_DEEP) from None


@dataclass
class _Walk:
    leaves: list[Message]
    has_report: bool = False
    has_delivery_status: bool = False


def _walk(msg: Message, budget: _Budget) -> _Walk:
    """The message's leaf parts in order, without recursion. An enclosed message (a
    forwarded message/rfc822) is one leaf, kept whole, and never taken for the body."""
    walk = _Walk(leaves=[])
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Refused(_TOO_DEEP)
        content_type = _content_type(part)
        if content_type == "multipart/report":
            report = _safely(lambda p: str(p.get_param("report-type")).lower(), "", part)
            walk.has_report |= report in ("delivery-status", "global-delivery-status")
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            walk.has_delivery_status = True
        if part.is_multipart() and not content_type.startswith("message/"):
            children = part.get_payload()
            assert isinstance(children, list)  # what is_multipart() means
            stack.extend((child, depth + 1) for child in reversed(children))
        elif content_type.startswith("multipart/") and budget.recoveries > 0:
            budget.recoveries -= 1
            recovered = _recover(part, budget)
            if recovered is None:
                walk.leaves.append(part)
            else:
                stack.append((recovered, depth + 1))
        else:
            walk.leaves.append(part)
    return walk


def _recover(part: Message, budget: _Budget) -> Message | None:
    """A multipart whose boundary is missing or wrong, read again with the first line that
    looks like one as its boundary, as mail clients do."""
    body = _payload(part)
    found = re.search(rb"^--([!-~][ -~]{0,69}?)[ \t]*\r?$", body, re.MULTILINE)
    if found is None:
        return None
    boundary = found[1].replace(b"\\", b"").replace(b'"', b"")
    recovered = budget.read(
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n\n' + body
    )
    return recovered if recovered.is_multipart() else None


_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]{1,64}/[a-z0-9!#$&^_.+-]{1,128}")


def _content_type(part: Message) -> str:
    # RFC 2045: a content type that cannot be read is text/plain.
    found = _safely(lambda p: p.get_content_type().lower(), "", part)
    return found if _MIME_TYPE.fullmatch(found) else "text/plain"


def _filename(part: Message) -> str:
    return _safely(lambda p: str(p.get_filename() or ""), "", part)


def _is_body(part: Message, content_type: str) -> bool:
    kind = _content_type(part)
    if kind.startswith("multipart/"):
        kind = "text/plain"  # an unreadable multipart: its raw content is better than nothing
    disposition = _safely(lambda p: p.get_content_disposition(), None, part)
    return kind == content_type and disposition != "attachment" and not _filename(part)


def _payload(part: Message) -> bytes:
    """The part's content with its transfer encoding (base64, quoted-printable) undone."""
    if part.is_multipart():  # message/*: the enclosed message or status blocks, as sent
        enclosed = part.get_payload()
        return b"".join(_safely(lambda m: m.as_bytes(policy=_AS_SENT), b"", m) for m in enclosed)
    content = _safely(lambda p: p.get_payload(decode=True), None, part)
    if isinstance(content, bytes):
        return content
    return str(_safely(lambda p: p.get_payload(), "", part)).encode("utf-8", "surrogateescape")


_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset=["']?([A-Za-z0-9_.:-]{1,40})""", re.I)


def _text_of(part: Message) -> str:
    content = _payload(part)
    charset = _safely(lambda p: p.get_content_charset(), None, part)
    if charset is None and _content_type(part) == "text/html":
        found = _META_CHARSET.search(content[:2048])
        charset = found[1].decode("ascii") if found else None
    return clean(decode(content, charset))


def _attachments(parts: Iterable[Message], most: int, most_bytes: int) -> list[Attachment]:
    found: list[Attachment] = []
    total = 0
    for part in parts:
        content = _payload(part)
        name = _filename(part)
        if not content and not name:
            continue  # an empty part left over from the structure, not something sent
        content_type = _content_type(part)
        if content_type.startswith("multipart/"):
            content_type = "text/plain"
        found.append(
            Attachment(_safe_filename(name, content_type, len(found) + 1), content_type, content)
        )
        total += len(content)
    if len(found) > most:
        raise Refused(f"The message has {len(found)} attachments, over the limit of {most}.")
    if total > most_bytes:
        raise Refused(
            f"The message's attachments add up to {_size(total)}, "
            f"over the limit of {_size(most_bytes)}."
        )
    return found


_NAME_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
# Direction marks and overrides: "invoice\u202efdp.exe" shows as "invoiceexe.pdf".
_NAME_INVISIBLE = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_EXTENSIONS = mimetypes.MimeTypes()  # Python's own table, not the machine's: the same everywhere
_MORE_EXTENSIONS = {
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "message/global": ".eml",
    "text/calendar": ".ics",
}


def _safe_filename(name: str, content_type: str, number: int) -> str:
    name = unicodedata.normalize("NFC", header_text(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # "../../etc/passwd" is "passwd"
    name = _NAME_INVISIBLE.sub("", _NAME_UNSAFE.sub("_", name)).strip(". ")
    if not name:
        extension = _EXTENSIONS.guess_extension(content_type) or _MORE_EXTENSIONS.get(content_type)
        return f"part-{number}{extension or ''}"
    if len(name.encode()) > 200:  # file systems allow 255 bytes: leave room for a suffix
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension) > 16:
            stem, dot, extension = name, "", ""
        stem = stem.encode()[: 200 - len(dot + extension)].decode("utf-8", "ignore")
        name = f"{stem.rstrip('. ')}{dot}{extension}"
    return name


# --- Headers ------------------------------------------------------------------------------

_EMAIL_HEADERS = ("from", "sender", "to", "cc", "subject", "date", "message-id")


def _headers(msg: Message) -> dict[str, list[str]]:
    """Each header's raw values by lower-case name, unfolded, in the message's order."""
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        unfolded = str(value).replace("\r", "").replace("\n", "")
        found.setdefault(name.lower(), []).append(unfolded)
    return found


_HEADER_CHARS = 16 * 1024  # of a Subject, Message-ID, Date…: no real one is longer


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0][:_HEADER_CHARS] if values else ""


def _message_ids(value: str) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References header, without angle brackets."""
    value = one_line(unescape_bytes(value))
    ids = ["".join(found.split()) for found in re.findall(r"<([^<>]*)>", value)]
    if not ids and "<" not in value:
        ids = [word for word in value.split() if "@" in word]  # old mailers left out the <>
    return [_bounded_id(i) for i in ids if i]


def _references(value: str) -> list[str]:
    """The ids in References, the thread's root and its nearest ancestors if there are many."""
    if len(value) > 2 * _HEADER_CHARS:  # an id cut in two at a seam has lost a bracket
        value = f"{value[:_HEADER_CHARS]} {value[-_HEADER_CHARS:]}"
    ids = list(dict.fromkeys(_message_ids(value)))
    return ids if len(ids) <= MAX_REFERENCES else ids[:1] + ids[1 - MAX_REFERENCES :]


def _bounded_id(message_id: str) -> str:
    # An id is a key in a unique index: a hostile 1 MB id must not reach the database.
    if len(message_id) <= MAX_ID_LENGTH:
        return message_id
    return f"{hashlib.sha256(message_id.encode()).hexdigest()}@long.{SYNTHETIC_ID_DOMAIN}"


_ADDRESS_CHARS = 16 * 1024  # of each address field: some 500 addresses
# Something before an @, and a host name or an [address literal] after it: "Foo Bar", "<>"
# and what a parser leaves of a broken header ("x <y@z>\"") are no address.
_ADDRESS = re.compile(r"[^\s@]+@(?:[^\s<>\"(),;:@\\\[\]]+|\[[^\[\]\s]+\])")


def _addresses(values: Iterable[str]) -> tuple[Address, ...]:
    found: list[Address] = []
    for chunk in _address_chunks(",".join(values)[:_ADDRESS_CHARS]):
        pairs = _safely(_registry_pairs, None, chunk)
        if pairs is None:  # the older parser, more lenient
            pairs = _safely(_legacy_pairs, None, chunk) or []
        for name, spec in pairs:
            address = _address(spec)
            if _ADDRESS.fullmatch(address):
                found.append(Address(header_text(name), address))
    return tuple(found)


def _registry_pairs(value: str) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in _parsed_header("to", value).addresses]


def _legacy_pairs(value: str) -> list[tuple[str, str]]:
    return email.utils.getaddresses([value])


def _address_chunks(value: str) -> list[str]:
    """An address list split at its commas, quotes and brackets respected, so that the header
    parser reads one address at a time. A "chunk" with more characters or delimiters than any
    address has is junk, and would cost the parser seconds."""
    chunks: list[str] = []
    start = depth = 0
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in "<(":
            depth += 1
        elif not quoted and char in ">)":
            depth = max(depth - 1, 0)
        elif char == "," and not quoted and not depth:
            chunks.append(value[start:index])
            start = index + 1
    chunks.append(value[start:])
    return [c for c in chunks if len(c) <= 500 and len(_DELIMITER.findall(c)) <= 24 and c.strip()]


def _address(spec: str) -> str:
    spec = one_line(unescape_bytes(spec)).lower()
    local, at, domain = spec.rpartition("@")
    if not at:
        return spec
    # IDNA: "xn--bcher-kva.example" and "BÜCHER.example" are both "bücher.example"; a name
    # that is not valid IDNA stays as written.
    with contextlib.suppress(ValueError, IndexError):
        domain = domain.rstrip(".").encode("idna").decode("idna").lower()
    return f"{local}@{domain}"


def _is_daemon(senders: tuple[Address, ...]) -> bool:
    return bool(senders) and senders[0].address.partition("@")[0] in ("mailer-daemon", "postmaster")


def _date(value: str) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(one_line(unescape_bytes(value[:200])))
        if when.tzinfo is None:  # "-0000": UTC, with no word on the local zone
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


_AUTO_SUBJECT = re.compile(
    r"(out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoresponse"
    r"|automatische antwort|abwesenheitsnotiz|réponse automatique|respuesta automática"
    r"|risposta automatica|automatisch antwoord)\b",
    re.IGNORECASE,
)


def _is_auto_reply(headers: dict[str, list[str]], subject: str) -> bool:
    auto_submitted = one_line(_first(headers, "auto-submitted")).split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if one_line(_first(headers, "precedence")).lower() in ("bulk", "junk", "list", "auto_reply"):
        return True
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated"):
        value = one_line(_first(headers, name)).lower()
        if name in headers and value not in ("no", "false", "0"):
            return True
    return bool(_AUTO_SUBJECT.match(subject))


# --- Helpers ------------------------------------------------------------------------------


def _safely(read: Callable[..., _T], default: _T, *args: Any) -> _T:
    """Read one field through the email package, which raises many kinds of errors on
    malformed input (IndexError, AttributeError, HeaderParseError…): one bad field must not
    lose the message."""
    try:
        return read(*args)
    except MemoryError:
        raise
    except Exception:
        return default


def _size(count: int) -> str:
    if count >= MB:
        return f"{count / MB:.1f} MB".replace(".0 MB", " MB")
    if count >= 1024:
        return f"{count / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{count} bytes"
