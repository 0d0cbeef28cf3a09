"""interactions.mail_in: raw messages as mail servers hand them over, read into what an
interaction stores; and what it refuses. Pure: no database."""

import base64
import contextlib
import random
from datetime import UTC, datetime

import pytest

from interactions.mail_in import (
    MAX_DEPTH,
    MAX_PARTS,
    Address,
    Refused,
    parse,
    ticket_number,
)
from tests.interactions.messages import (
    ALTERNATIVE,
    ATTACHMENTS,
    BASE64_LATIN1,
    BOUNCE,
    BROKEN_BOUNDARY,
    DAEMON_STATUS,
    DEFECTIVE_HEADERS,
    ENCODED_SUBJECTS,
    HTML_ONLY,
    NO_BOUNDARY_AT_ALL,
    PLAIN,
    QUOTED_PRINTABLE,
    RAW_LATIN1_HEADERS,
    RAW_UTF8_HEADERS,
    UNKNOWN_CHARSET,
    eml,
    with_subject,
)


def test_it_reads_a_plain_message() -> None:
    parsed = parse(PLAIN)
    assert parsed.message_id == "quote-1@acme.example"
    assert parsed.subject == "Quote for 20 seats"  # runs of spaces and the folding collapsed
    assert parsed.sender == ("Rita Rep", "rita@acme.example")
    assert parsed.to == (("Bob Buyer", "bob@globex.example"), ("", "carol@globex.example"))
    assert parsed.cc == (Address("Dan, Sales", "dan@acme.example"),)
    assert parsed.reply_to == (("", "support@acme.example"),)
    assert parsed.date == datetime(2026, 3, 3, 13, 5, 9, tzinfo=UTC)
    assert parsed.text == "Hi Bob,\n\nHere is the quote for 20 seats."
    assert (parsed.html, parsed.attachments) == (None, ())
    assert not parsed.is_auto_reply
    assert not parsed.is_bounce


def test_it_gives_the_thread_keys_nearest_ancestor_first() -> None:
    parsed = parse(PLAIN)
    assert parsed.in_reply_to == "ask-7@globex.example"
    assert parsed.references == (
        "ask-1@globex.example",
        "ask-5@globex.example",
        "ask-7@globex.example",
    )
    assert parsed.thread_keys() == (
        "ask-7@globex.example",
        "ask-5@globex.example",
        "ask-1@globex.example",
    )


def test_it_reads_message_ids_as_mailers_write_them() -> None:
    raw = eml("""
        From: a@example.com
        Message-ID: no-brackets@example.com
        In-Reply-To: "Bob's message of Monday" <parent@example.com> (comment)
        References: <root@example.com> <root@example.com> <folded@
         example.com> <parent@example.com>

        hi
    """)
    parsed = parse(raw)
    assert parsed.message_id == "no-brackets@example.com"
    assert parsed.in_reply_to == "parent@example.com"
    assert parsed.references == ("root@example.com", "folded@example.com", "parent@example.com")


def test_it_keeps_a_huge_message_id_to_a_bounded_stable_key() -> None:
    raw = b"From: a@example.com\nMessage-ID: <" + b"x" * 5000 + b"@example.com>\n\nhi\n"
    first, again = parse(raw), parse(raw)
    assert len(first.message_id) < 255
    assert first.message_id == again.message_id


def test_it_keeps_the_root_and_the_nearest_of_very_many_references() -> None:
    ids = " ".join(f"<r{i}@example.com>" for i in range(500))
    parsed = parse(f"From: a@example.com\nReferences: {ids}\n\nhi\n".encode())
    assert len(parsed.references) == 100
    assert parsed.references[:2] == ("r0@example.com", "r401@example.com")
    assert parsed.references[-1] == "r499@example.com"


@pytest.mark.parametrize("raw", [PLAIN.replace(b"Message-ID: <quote-1@acme.example>\n", b""),
                                 PLAIN.replace(b"<quote-1@acme.example>", b"<>")])  # fmt: skip
def test_it_makes_a_stable_id_for_a_message_without_one(raw: bytes) -> None:
    first = parse(raw)
    assert first.message_id.endswith("@message-id.invalid")
    assert parse(raw).message_id == first.message_id  # the same message twice: one interaction
    assert parse(raw + b"P.S.\n").message_id != first.message_id


def test_it_decodes_quoted_printable_utf8() -> None:
    assert parse(QUOTED_PRINTABLE).text == "Grüße aus Köln — this line is softly broken."


def test_it_decodes_a_base64_latin1_body() -> None:
    assert parse(BASE64_LATIN1).text == "Café crème à Noël, déjà vu."


@pytest.mark.parametrize(("raw", "subject"), ENCODED_SUBJECTS.values(), ids=ENCODED_SUBJECTS.keys())
def test_it_decodes_encoded_subjects(raw: bytes, subject: str) -> None:
    assert parse(with_subject(raw)).subject == subject


def test_it_decodes_encoded_display_names() -> None:
    raw = eml("""
        From: =?utf-8?q?Bj=C3=B6rn_=C3=85berg?= <bjorn@example.se>
        To: "=?iso-8859-1?q?Ren=E9e?=" <renee@example.fr>, =?utf-8?b?5bGx55Sw?= <yamada@example.jp>

        hi
    """)
    parsed = parse(raw)
    assert parsed.sender == ("Björn Åberg", "bjorn@example.se")
    assert parsed.to == (("Renée", "renee@example.fr"), ("山田", "yamada@example.jp"))


def test_it_falls_back_on_an_unknown_charset() -> None:
    parsed = parse(UNKNOWN_CHARSET)
    assert (parsed.subject, parsed.sender.name if parsed.sender else "") == ("Café", "José")
    assert parsed.text == "Café con leche, señor."


def test_it_reads_text_that_its_declared_charset_cannot_hold() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=us-ascii\n\nna\xc3\xafve\n"
    assert parse(raw).text == "naïve"  # UTF-8 sent as "us-ascii", as many mailers do


@pytest.mark.parametrize("raw", [RAW_UTF8_HEADERS, RAW_LATIN1_HEADERS], ids=["utf-8", "latin-1"])
def test_it_reads_raw_8bit_headers(raw: bytes) -> None:
    parsed = parse(raw)
    assert parsed.subject.startswith("Smörgåsbord")
    assert parsed.sender is not None
    assert parsed.sender.name.startswith("Zoë")
    assert "Välkommen!" in parsed.text


def test_it_sanitises_an_html_only_message() -> None:
    html = parse(HTML_ONLY).html or ""
    assert "<p>Hello <b>there</b></p>" in html
    for gone in ("<script", "xss", "onclick", "style", "class=", "javascript:", "/o/acme/",
                 "<img", "tracker.example", "<iframe", "frame text", "Title text"):  # fmt: skip
        assert gone not in html
    assert '<a href="https://example.com/offer" rel="noopener noreferrer">the offer</a>' in html


def test_it_renders_text_from_an_html_only_message() -> None:
    text = parse(HTML_ONLY).text
    assert text.startswith("Hello there\n\n")
    assert "the offer (https://example.com/offer)" in text
    assert "- one\n- two" in text
    assert "xss" not in text
    assert "Title text" not in text


def test_it_prefers_the_plain_part_and_keeps_the_html_one() -> None:
    parsed = parse(ALTERNATIVE)
    assert parsed.text == "Plain version."
    assert parsed.html == "<p>HTML <em>version</em>.</p>"
    assert parsed.attachments == ()  # the two bodies are not attachments


def test_it_keeps_attachments_under_safe_names() -> None:
    parsed = parse(ATTACHMENTS)
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("passwd", "application/octet-stream"),  # was ../../etc/passwd
        ("Résumé final.pdf", "application/pdf"),  # RFC 2231
        ("part-3.png", "image/png"),  # inline, without a name
        ("part-4.eml", "message/rfc822"),  # a forwarded message, kept whole
    ]
    assert parsed.attachments[0].content == b"root:x:0:0:root:/root:/bin/bash\n"
    assert b"Forwarded text." in parsed.attachments[3].content
    assert parsed.text == "See attached."  # not the forwarded message's text


@pytest.mark.parametrize(
    ("filename", "kept"),
    [('"..\\\\..\\\\windows\\\\win.ini"', "win.ini"), ('"/etc/shadow"', "shadow"),
     ('".."', "part-1.bin"), ('"invoice\u202efdp.exe"', "invoicefdp.exe"),
     ('"a<b>:c|d?.txt"', "a_b__c_d_.txt"), ('"=?utf-8?b?w6l0w6kucGRm?="', "été.pdf"),
     (f'"{"x" * 300}.pdf"', "x" * 196 + ".pdf")],
)  # fmt: skip
def test_it_makes_any_filename_a_safe_basename(filename: str, kept: str) -> None:
    raw = eml(f"""
        From: a@example.com
        Content-Type: multipart/mixed; boundary="B"

        --B
        Content-Type: application/octet-stream
        Content-Disposition: attachment; filename={filename}

        data
        --B--
    """, "utf-8")  # fmt: skip
    assert [a.filename for a in parse(raw).attachments] == [kept]


def test_it_leaves_the_date_empty_when_missing() -> None:
    assert parse(b"From: a@example.com\n\nhi\n").date is None


@pytest.mark.parametrize("date", ["yesterday", "32 Foo 2026 99:99:99", "1 Jan 2026 10:00 +9999",
                                  "1 Jan 99999999999999999999 10:00 +0000", ""])  # fmt: skip
def test_it_leaves_a_date_it_cannot_read_empty(date: str) -> None:
    assert parse(f"From: a@example.com\nDate: {date}\n\nhi\n".encode()).date is None


def test_it_reads_an_unzoned_date_as_utc() -> None:
    parsed = parse(b"From: a@example.com\nDate: 3 Mar 2026 14:05:09 -0000\n\nhi\n")
    assert parsed.date == datetime(2026, 3, 3, 14, 5, 9, tzinfo=UTC)


def test_it_lowercases_addresses_and_reads_internationalised_domains() -> None:
    raw = b"From: A@XN--BCHER-KVA.Example\nTo: b@B\xc3\x9cCHER.example, Foo Bar, <>\n\nhi\n"
    parsed = parse(raw)
    assert parsed.sender == ("", "a@bücher.example")
    assert parsed.to == (("", "b@bücher.example"),)  # "Foo Bar" and "<>" are no address


def test_it_takes_the_sender_header_when_from_has_no_address() -> None:
    parsed = parse(b"From: undisclosed\nSender: list@example.com\n\nhi\n")
    assert parsed.sender == ("", "list@example.com")


@pytest.mark.parametrize(
    "signal",
    [b"Auto-Submitted: auto-replied", b"Auto-Submitted: auto-generated; owner=x",
     b"Precedence: bulk", b"Precedence: junk", b"Precedence: list", b"X-Autoreply: yes",
     b"X-Autorespond: Out of office", b"Subject: Out of Office: Quote for 20 seats",
     b"Subject: Automatic reply: Quote", b"Subject: Automatische Antwort: Angebot"],
)  # fmt: skip
def test_it_flags_auto_replies(signal: bytes) -> None:
    assert parse(b"From: a@example.com\n" + signal + b"\n\nI am away.\n").is_auto_reply


@pytest.mark.parametrize(
    "header",
    [b"Auto-Submitted: no", b"Precedence: first-class", b"Subject: Re: out of office plans?"],
)  # fmt: skip
def test_it_does_not_flag_ordinary_mail(header: bytes) -> None:
    assert not parse(b"From: a@example.com\n" + header + b"\n\nhi\n").is_auto_reply


def test_it_flags_a_delivery_status_notification() -> None:
    parsed = parse(BOUNCE)
    assert parsed.is_bounce
    assert parsed.text.startswith("I'm sorry")
    assert [a.content_type for a in parsed.attachments] == [
        "message/delivery-status",
        "text/rfc822-headers",
    ]


def test_it_flags_a_mailer_daemon_with_a_delivery_status() -> None:
    assert parse(DAEMON_STATUS).is_bounce


def test_it_does_not_take_a_delivery_status_from_anyone_for_a_bounce() -> None:
    raw = DAEMON_STATUS.replace(b"postmaster@mx.globex.example", b"bob@globex.example")
    assert not parse(raw).is_bounce


def test_it_recovers_parts_behind_a_wrong_boundary() -> None:
    parsed = parse(BROKEN_BOUNDARY)
    assert parsed.text == "Hello from the plain part."
    assert parsed.html == "<p>Hello from the HTML part.</p>"


def test_it_reads_a_multipart_without_parts_as_text() -> None:
    assert parse(NO_BOUNDARY_AT_ALL).text == "Just text where parts were announced."


def test_it_survives_headers_full_of_defects() -> None:
    parsed = parse(DEFECTIVE_HEADERS)
    assert parsed.message_id == "no-angle-brackets@globex.example"
    assert parsed.to == (("Carol", "carol@globex.example"),)
    assert (parsed.cc, parsed.date) == ((), None)
    assert parsed.subject == "=?utf-8?q?unterminated"


def test_it_reads_wire_format_and_saved_files_alike() -> None:
    crlf = parse(PLAIN.replace(b"\n", b"\r\n"))
    saved = parse(b"\xef\xbb\xbf\n\n" + PLAIN)  # a byte order mark and blank lines first
    mbox = parse(b"From rita@acme.example Tue Mar  3 14:05:09 2026\n" + PLAIN)
    assert crlf.text == saved.text == mbox.text == parse(PLAIN).text
    assert crlf.subject == saved.subject == mbox.subject == "Quote for 20 seats"


def test_it_drops_what_the_database_cannot_store() -> None:
    raw = b"From: a@x.example\nSubject: nul\x00 and =?utf-8?q?esc=1B?=\n\ntext\x00 with\x07 bell\n"
    parsed = parse(raw)
    assert (parsed.subject, parsed.text) == ("nul and esc", "text with bell")


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n\t"])
def test_it_refuses_an_empty_message(raw: bytes) -> None:
    with pytest.raises(Refused, match="empty"):
        parse(raw)


def test_it_refuses_a_message_over_the_size_cap() -> None:
    with pytest.raises(Refused, match=r"is 1\.5 MB, over the limit of 1 MB"):
        parse(PLAIN + b"x" * (3 * 512 * 1024 - len(PLAIN)), max_bytes=1024 * 1024)


def test_it_refuses_too_many_attachments() -> None:
    with pytest.raises(Refused, match="4 attachments, over the limit of 3"):
        parse(ATTACHMENTS, max_attachments=3)


def test_it_refuses_attachments_over_their_size_cap() -> None:
    with pytest.raises(Refused, match="attachments add up to"):
        parse(ATTACHMENTS, max_attachment_bytes=64)


def test_it_refuses_more_parts_than_any_real_message_has() -> None:
    parts = b"--B\nContent-Type: text/plain\n\nx\n" * (MAX_PARTS + 1)
    raw = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=B\n\n" + parts + b"--B--\n"
    with pytest.raises(Refused, match="MIME parts"):
        parse(raw)


@pytest.mark.parametrize(
    "depth", [MAX_DEPTH + 1, MAX_PARTS - 10]
)  # the second: past Python's recursion limit
def test_it_refuses_parts_nested_too_deep(depth: int) -> None:
    heads = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
    )
    with pytest.raises(Refused, match="nested"):
        parse(b"From: a@example.com\n" + heads + b"\nx\n")


@pytest.mark.parametrize(
    "raw",
    [b"just some text\nand more", b"X-Thing: 1\n\nbody", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
     bytes(random.Random(7).randrange(256) for _ in range(4096))],
)  # fmt: skip
def test_it_refuses_what_is_not_an_email(raw: bytes) -> None:
    with pytest.raises(Refused, match="not an email"):
        parse(raw)


def test_it_parses_or_refuses_random_bytes_and_nothing_else() -> None:
    generator = random.Random(2026)
    for _ in range(200):
        raw = bytes(generator.randrange(256) for _ in range(generator.randrange(1, 600)))
        with contextlib.suppress(Refused):
            parse(raw)


def test_it_accepts_a_base64_subject_without_padding() -> None:
    unpadded = base64.b64encode("Überweisung".encode()).rstrip(b"=")
    assert parse(with_subject(b"=?utf-8?b?" + unpadded + b"?=")).subject == "Überweisung"


@pytest.mark.parametrize(
    ("subject", "number"),
    [("Re: [#1001] Printer on fire", 1001), ("[#7]", 7), ("Fwd: [#12] and [#13]", 12),
     ("#1001", None), ("[1001]", None), ("[#]", None), ("[#0]", None), ("[# 1001]", None),
     ("", None), ("[#١٢]", None)],
)  # fmt: skip
def test_it_reads_the_ticket_number_from_a_subject(subject: str, number: int | None) -> None:
    assert ticket_number(subject) == number
