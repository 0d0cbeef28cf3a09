"""interactions.html_body: what of a message's HTML may be shown in a page, and the same
HTML read as plain text. Pure: no database."""

import time

import pytest

from interactions.html_body import MAX_CHARS, sanitise, to_text


def test_it_keeps_text_formatting_lists_quotes_and_tables() -> None:
    html = (
        "<h2>Offer</h2><p>Hello <b>there</b>, <em>see</em> <code>x</code></p>"
        "<blockquote>quoted</blockquote><ul><li>one</li></ul>"
        '<table><tr><td colspan="2">cell</td></tr></table>'
    )
    assert sanitise(html) == html.replace("<tr>", "<tbody><tr>").replace(
        "</table>", "</tbody></table>"
    )


@pytest.mark.parametrize(
    "html",
    ["<script>alert(1)</script>", "<style>p { color: red }</style>", "<title>Title</title>",
     "<iframe src='https://example.com'>frame</iframe>", "<svg><text>svg</text></svg>",
     "<!--[if mso]><p>mso only</p><![endif]-->", "<template><p>later</p></template>"],
)  # fmt: skip
def test_it_drops_what_is_no_text_with_its_content(html: str) -> None:
    assert sanitise(html + "<p>kept</p>") == "<p>kept</p>"


def test_it_drops_handlers_styles_classes_and_ids() -> None:
    html = '<p onclick="steal()" style="position:fixed" class="x" id="y" dir="rtl">x</p>'
    assert sanitise(html) == '<p dir="rtl">x</p>'


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "vbscript:x",
     "/o/acme/settings/", "../settings/", "//evil.example/x", "cid:logo@example.com"],
)  # fmt: skip
def test_it_drops_links_that_are_not_web_mail_or_phone_addresses(href: str) -> None:
    assert sanitise(f'<a href="{href}">x</a>') == '<a rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    "href", ["https://example.com/?a=1", "http://example.com/", "mailto:a@b.c", "tel:+3312"]
)
def test_it_keeps_web_mail_and_phone_links_without_opener_or_referrer(href: str) -> None:
    html = sanitise(f'<a href="{href}" target="_blank">x</a>')
    assert html == f'<a href="{href.replace("&", "&amp;")}" rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    "image",
    ['<img src="https://tracker.example/pixel.gif">', '<img src="cid:logo@example.com">',
     '<img src="data:image/png;base64,iVBORw0KGgo=">', "<picture><source srcset=x.png></picture>"],
)  # fmt: skip
def test_it_drops_images_remote_and_inline(image: str) -> None:
    assert sanitise(f"<p>a{image}b</p>") == "<p>ab</p>"


def test_it_reads_html_nested_too_deep_for_the_parser_as_text() -> None:
    started = time.perf_counter()
    html = sanitise("<div><span>" * 50_000 + "deep text")  # half a minute for the parser
    assert time.perf_counter() - started < 2
    assert html == "deep text"


def test_it_cuts_html_past_its_size_cap() -> None:
    assert len(sanitise("<p>" + "x" * (MAX_CHARS + 10) + "</p>")) < MAX_CHARS + 10


def test_it_reads_blocks_lists_and_cells_as_lines() -> None:
    html = sanitise(
        "<p>Hello\n   <b>there</b></p><div>line one</div><div>line two</div>a<br>b<br><br>c"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
    )
    assert to_text(html) == "Hello there\n\nline one\nline two\na\nb\n\nc\n\n- one\n- two\n\na b\nc"


def test_it_writes_a_links_address_after_its_text() -> None:
    html = sanitise(
        '<a href="https://example.com/?a=1&b=2">the offer</a> <a href="https://example.com/">'
        'https://example.com/</a> <a href="mailto:ann@example.com">ann@example.com</a> <a>bare</a>'
    )
    assert (
        to_text(html)
        == "the offer (https://example.com/?a=1&b=2) https://example.com/ ann@example.com bare"
    )


def test_it_unescapes_entities_in_text() -> None:
    assert to_text(sanitise("<p>1 &lt; 2 &amp;&nbsp;3 &eacute;</p>")) == "1 < 2 & 3 é"
