"""interactions.mail_in under random input: whatever bytes arrive, parse() returns a message
or raises Refused, and nothing else; the same both times; and what it returns can be stored
(no NUL, no lone surrogate, safe file names, aware dates, bounded ids)."""

import re
from datetime import UTC
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactions.mail_in import MAX_ID_LENGTH, MAX_REFERENCES, Parsed, Refused, parse
from tests.interactions.messages import CORPUS

EXAMPLES = settings(
    max_examples=300, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip

REASONS = re.compile(
    r"The message is empty\.|This is not an email: .*|The message is .*, over the limit of .*"
    r"|The message has \d+ attachments, .*|The message's attachments add up to .*"
    r"|The message has more than [\d,]+ (MIME parts|header fields|lines)\."
    r"|The message's parts are nested more than \d+ deep\."
)
HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Sender", "Subject", "Date", "Message-ID", "In-Reply-To",
    "References", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
    "MIME-Version", "Auto-Submitted", "Precedence", "X-Autoreply",
]  # fmt: skip
# Pieces that mean something to a mail parser, to mix into random values.
PIECES = [
    b"=?utf-8?q?", b"=?iso-2022-jp?b?", b"=?x-unknown?q?=E9", b"?=", b"<", b">", b"@", b'"',
    b"(", b")", b"\\", b",", b";", b":", b"=", b"*0*=utf-8''%C3%A9", b"boundary=", b"--",
    b"multipart/mixed", b"text/html", b"base64", b"quoted-printable", b"\n", b"\r\n", b"\n ",
    b"\x00", b"\xe9", b"\xc3\xa9", b"\xff\xfe", b"<script>", b"<div>", b"&#0;", b"\xed\xa0\x80",
]  # fmt: skip
VALUES = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=12)), max_size=12).map(
    b"".join
)
HEADERS = st.lists(
    st.tuples(st.sampled_from(HEADER_NAMES), VALUES).map(lambda h: h[0].encode() + b": " + h[1]),
    max_size=10,
).map(b"\n".join)
MESSAGES = st.builds(lambda head, body: head + b"\n\n" + body, HEADERS, VALUES)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A corpus message with bytes inserted, deleted, replaced, repeated or cut off."""
    raw = bytearray(draw(st.sampled_from(list(CORPUS.values()))))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(raw)))
        end = draw(st.integers(at, min(len(raw), at + 40)))
        operation = draw(st.sampled_from(["insert", "delete", "replace", "repeat", "cut"]))
        if operation == "insert":
            raw[at:at] = draw(st.one_of(st.sampled_from(PIECES), st.binary(max_size=20)))
        elif operation == "delete":
            del raw[at:end]
        elif operation == "replace":
            raw[at:end] = draw(st.binary(min_size=end - at, max_size=end - at))
        elif operation == "repeat":
            raw[at:at] = raw[at:end] * draw(st.integers(1, 5))
        else:
            del raw[at:]
    return bytes(raw)


def _outcome(raw: bytes) -> Parsed | str:
    try:
        return parse(raw)
    except Refused as refused:
        reason = refused.reason
    assert REASONS.fullmatch(reason), reason  # one of the documented refusals
    return reason


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _assert_storable(parsed: Parsed) -> None:
    fields = [getattr(parsed, f) for f in Parsed.__dataclass_fields__]
    for text in _strings(tuple(fields)):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate
    assert 0 < len(parsed.message_id) <= MAX_ID_LENGTH + 100
    assert len(parsed.references) <= MAX_REFERENCES
    assert parsed.date is None or parsed.date.tzinfo == UTC
    for address in (parsed.sender, *parsed.to, *parsed.cc, *parsed.reply_to):
        assert address is None or (
            "@" in address.address and address.address == address.address.lower()
        )
    for attachment in parsed.attachments:
        assert attachment.filename
        assert not re.search(r"[/\\\x00-\x1f]|^\.", attachment.filename)
        assert len(attachment.filename.encode()) <= 210


def _check(raw: bytes) -> None:
    first = _outcome(raw)
    assert _outcome(raw) == first  # deterministic
    if isinstance(first, Parsed):
        _assert_storable(first)
        assert first.thread_keys() == first.thread_keys()


@EXAMPLES
@given(st.binary(max_size=3000))
def test_it_parses_or_refuses_any_bytes(raw: bytes) -> None:
    _check(raw)


@EXAMPLES
@given(MESSAGES)
def test_it_parses_or_refuses_random_headers_and_bodies(raw: bytes) -> None:
    _check(raw)


@EXAMPLES
@given(mutated())
def test_it_parses_or_refuses_mutations_of_real_messages(raw: bytes) -> None:
    _check(raw)


@EXAMPLES
@given(VALUES, VALUES)
def test_it_never_refuses_a_message_with_a_sender(subject: bytes, body: bytes) -> None:
    raw = b"From: Ann <Ann@Example.com>\nSubject: " + subject + b"\n\n" + body
    parsed = _outcome(raw)
    assert isinstance(parsed, Parsed), parsed
    assert parsed.sender is not None
    assert parsed.sender.address == "ann@example.com"
    _assert_storable(parsed)
