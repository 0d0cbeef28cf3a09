"""Handwritten sample messages, as mail servers hand them over: the corpus that the example
tests read and the property tests mutate."""

import textwrap


def eml(text: str, encoding: str = "ascii") -> bytes:
    """A message written as an indented string, as raw bytes in the given encoding."""
    return textwrap.dedent(text).lstrip("\n").encode(encoding)


PLAIN = eml("""
    From: Rita Rep <Rita@Acme.Example>
    To: Bob Buyer <bob@globex.example>, carol@globex.example
    Cc: "Dan, Sales" <dan@acme.example>
    Reply-To: support@acme.example
    Subject: Quote for   20 seats
    Date: Tue, 3 Mar 2026 14:05:09 +0100
    Message-ID: <quote-1@acme.example>
    In-Reply-To: <ask-7@globex.example>
    References: <ask-1@globex.example>
     <ask-5@globex.example> <ask-7@globex.example>

    Hi Bob,

    Here is the quote for 20 seats.
""")

QUOTED_PRINTABLE = eml("""
    From: anna@example.de
    Subject: Gruesse
    Message-ID: <qp@example.de>
    MIME-Version: 1.0
    Content-Type: text/plain; charset="utf-8"
    Content-Transfer-Encoding: quoted-printable

    Gr=C3=BC=C3=9Fe aus K=C3=B6ln =E2=80=94 this line is soft=
    ly broken.
""")

BASE64_LATIN1 = eml("""
    From: claire@example.fr
    Subject: Devis
    Message-ID: <b64@example.fr>
    MIME-Version: 1.0
    Content-Type: text/plain; charset=ISO-8859-1
    Content-Transfer-Encoding: base64

    Q2Fm6SBjcuhtZSDgIE5v62wsIGTpauAgdnUuCg==
""")

ENCODED_SUBJECTS = {
    "iso-2022-jp": (b"=?iso-2022-jp?b?GyRCJCo4K0BRJGIkaiRON28bKEI=?=", "お見積もりの件"),
    "utf-8 B": (b"=?utf-8?b?QW5nZWJvdCBmw7xyIEvDtmxu?=", "Angebot für Köln"),
    "utf-8 Q": (b"=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", "Grüße aus Köln"),
    # One character split across two words, as long subjects are folded.
    "split": (b"=?utf-8?B?5pel5g==?=\n =?utf-8?B?nKzoqp7jga7jg4bjgrnjg4g=?=", "日本語のテスト"),
    "mixed": (b"Re: =?utf-8?q?caf=C3=A9?= tomorrow", "Re: café tomorrow"),
    "bad base64": (b"=?utf-8?b?###?= stays", "=?utf-8?b?###?= stays"),
}


def with_subject(subject: bytes) -> bytes:
    return b"From: a@example.com\nMessage-ID: <s@example.com>\nSubject: " + subject + b"\n\nhi\n"


UNKNOWN_CHARSET = (
    b"From: =?x-unknown?q?Jos=E9?= <jose@example.es>\n"
    b"Subject: =?x-unknown?q?Caf=E9?=\n"
    b"Message-ID: <unknown@example.es>\n"
    b'Content-Type: text/plain; charset="x-unknown"\n'
    b"Content-Transfer-Encoding: 8bit\n\n"
    b"Caf\xe9 con leche, se\xf1or.\n"
)

RAW_UTF8_HEADERS = eml(
    """
    From: Zoë Ångström <zoe@example.se>
    Subject: Smörgåsbord på fredag
    Message-ID: <raw-utf8@example.se>

    Välkommen!
    """,
    "utf-8",
)

RAW_LATIN1_HEADERS = eml(
    """
    From: Zoë <zoe@example.se>
    Subject: Smörgåsbord
    Message-ID: <raw-latin1@example.se>

    8-bit body with no charset: Välkommen!
    """,
    "latin-1",
)

HTML_ONLY = eml("""
    From: news@example.com
    Subject: Newsletter
    Message-ID: <html@example.com>
    MIME-Version: 1.0
    Content-Type: text/html; charset=utf-8

    <html><head><title>Title text</title><style>p { color: red }</style></head>
    <body>
    <p onclick="steal()" style="color:red" class="x" id="y">Hello <b>there</b></p>
    <script>alert("xss")</script>
    <a href="javascript:alert(1)">click me</a>
    <a href="/o/acme/settings/">settings</a>
    <a href="https://example.com/offer">the offer</a>
    <img src="https://tracker.example/pixel.gif" alt="">
    <ul><li>one</li><li>two</li></ul>
    <iframe src="https://example.com/frame">frame text</iframe>
    </body></html>
""")

ALTERNATIVE = eml("""
    From: bob@globex.example
    Subject: Both
    Message-ID: <alt@globex.example>
    MIME-Version: 1.0
    Content-Type: multipart/alternative; boundary="ALT"

    This is a multi-part message in MIME format.
    --ALT
    Content-Type: text/plain; charset=utf-8

    Plain version.
    --ALT
    Content-Type: text/html; charset=utf-8

    <p>HTML <em>version</em>.</p>
    --ALT--
""")

ATTACHMENTS = eml("""
    From: bob@globex.example
    Subject: Files
    Message-ID: <files@globex.example>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="MIX"

    --MIX
    Content-Type: multipart/alternative; boundary="ALT"

    --ALT
    Content-Type: text/plain

    See attached.
    --ALT
    Content-Type: text/html

    <p>See attached.</p>
    --ALT--
    --MIX
    Content-Type: application/octet-stream
    Content-Disposition: attachment; filename="../../etc/passwd"
    Content-Transfer-Encoding: base64

    cm9vdDp4OjA6MDpyb290Oi9yb290Oi9iaW4vYmFzaAo=
    --MIX
    Content-Type: application/pdf
    Content-Disposition: attachment; filename*=utf-8''R%C3%A9sum%C3%A9%20final.pdf
    Content-Transfer-Encoding: base64

    JVBERi0xLjQKJWZha2UK
    --MIX
    Content-Type: image/png
    Content-Disposition: inline
    Content-ID: <logo@globex.example>
    Content-Transfer-Encoding: base64

    iVBORw0KGgpmYWtl
    --MIX
    Content-Type: message/rfc822

    From: carol@globex.example
    Subject: The forwarded one

    Forwarded text.
    --MIX--
""")

BOUNCE = eml("""
    From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>
    To: rita@acme.example
    Subject: Undelivered Mail Returned to Sender
    Message-ID: <bounce-1@mx.acme.example>
    MIME-Version: 1.0
    Content-Type: multipart/report; report-type=delivery-status; boundary="DSN"

    --DSN
    Content-Type: text/plain

    I'm sorry to have to inform you that your message could not be delivered.
    --DSN
    Content-Type: message/delivery-status

    Reporting-MTA: dns; mx.acme.example

    Final-Recipient: rfc822; nobody@globex.example
    Action: failed
    Status: 5.1.1
    --DSN
    Content-Type: text/rfc822-headers

    From: rita@acme.example
    Message-ID: <quote-1@acme.example>
    --DSN--
""")

# Old mailers: a delivery-status part without the multipart/report around it.
DAEMON_STATUS = eml("""
    From: postmaster@mx.globex.example
    Subject: Delivery failure
    Message-ID: <bounce-2@mx.globex.example>
    Content-Type: multipart/mixed; boundary="B"

    --B
    Content-Type: text/plain

    Delivery failed.
    --B
    Content-Type: message/delivery-status

    Status: 5.0.0
    --B--
""")

BROKEN_BOUNDARY = eml("""
    From: bob@globex.example
    Subject: Broken
    Message-ID: <broken@globex.example>
    Content-Type: multipart/alternative; boundary="declared-but-never-used"

    --actual-boundary
    Content-Type: text/plain

    Hello from the plain part.
    --actual-boundary
    Content-Type: text/html

    <p>Hello from the HTML part.</p>
    --actual-boundary--
""")

NO_BOUNDARY_AT_ALL = eml("""
    From: bob@globex.example
    Subject: Broken
    Message-ID: <unbounded@globex.example>
    Content-Type: multipart/mixed

    Just text where parts were announced.
""")

# Headers with defects that the header parser reports and the message survives.
DEFECTIVE_HEADERS = eml("""
    From: <<<bob@@globex.example>>>, "unterminated <x@example.com>
    To: a@b@c, , "Carol" <carol@globex.example
    Cc: undisclosed-recipients:;
    Subject: =?utf-8?q?unterminated
    Date: 32 Foo 2026 99:99:99 +9999
    Message-ID: no-angle-brackets@globex.example
    Content-Type: text/plain; charset=; format=
    Content-Transfer-Encoding: base64

    not base64 at all!
""")

CORPUS = {
    "plain": PLAIN,
    "quoted-printable": QUOTED_PRINTABLE,
    "base64 latin-1": BASE64_LATIN1,
    "unknown charset": UNKNOWN_CHARSET,
    "raw utf-8 headers": RAW_UTF8_HEADERS,
    "raw latin-1 headers": RAW_LATIN1_HEADERS,
    "html only": HTML_ONLY,
    "alternative": ALTERNATIVE,
    "attachments": ATTACHMENTS,
    "bounce": BOUNCE,
    "daemon status": DAEMON_STATUS,
    "broken boundary": BROKEN_BOUNDARY,
    "defective headers": DEFECTIVE_HEADERS,
    **{f"subject {name}": with_subject(raw) for name, (raw, _) in ENCODED_SUBJECTS.items()},
}
