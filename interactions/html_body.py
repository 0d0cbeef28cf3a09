"""HTML bodies of interactions: sanitised with nh3 on the way in, and read as plain text.

What survives is a conservative set of tags for text, lists, quotes and tables, with no
styles, classes or ids, so that a message cannot restyle or overlay the page that shows it.
Links keep http, https, mailto and tel addresses only, and get rel="noopener noreferrer";
relative links are dropped, because in a message they would point into the CRM itself.
Images are dropped, remote and inline alike: a remote image is how a sender learns whether,
when and from where a message was read (tracking pixels), the app's Content-Security-Policy
(img-src 'self' data:) would block it anyway, and an inline cid: image needs the URL of its
stored attachment, which only the ingestion can give it.
"""

import html
import re

import nh3

MAX_CHARS = 2 * 1024 * 1024  # sanitising runs at a few MB a second: the rest is cut off

_SANITISER = nh3.Cleaner(
    tags={
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul",
    },
    # Dropped with their content: what is not text for a reader, or would show as text.
    clean_content_tags={
        "script", "style", "title", "template", "noscript", "iframe", "object", "embed",
        "svg", "math", "textarea", "select",
    },
    attributes={
        "*": {"dir", "lang"}, "a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"},
        "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
    },
    url_schemes={"http", "https", "mailto", "tel"},
    url_relative="deny",
    link_rel="noopener noreferrer",
    strip_comments=True,
)  # fmt: skip


def sanitise(markup: str) -> str:
    """The HTML that may be shown in a page: see the module's docstring for what is kept."""
    markup = markup[:MAX_CHARS]
    if not _shallow(markup):
        markup = _flattened(markup)
    return _SANITISER.clean(markup).strip()


# The HTML parser behind nh3 checks the open elements at each tag: its time grows with the
# depth times the number of tags, and 40,000 nested <div>s take half a minute. Elements that
# close themselves (void ones, or a <p> or <li> followed by another) do not nest.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^<>]*?(/?)>")
_NOT_NESTING = {
    "area", "base", "br", "col", "colgroup", "dd", "dt", "embed", "hr", "img", "input", "li",
    "link", "meta", "option", "p", "param", "rb", "rp", "rt", "source", "tbody", "td", "tfoot",
    "th", "thead", "tr", "track", "wbr",
}  # fmt: skip
_MAX_WORK = 2_000_000  # about a tenth of a second of the parser's time


def _shallow(markup: str) -> bool:
    if markup.count("<") < 1000:
        return True
    depth = work = 0
    for match in _TAG.finditer(markup):
        if match[2].lower() in _NOT_NESTING or match[3]:
            continue
        depth = max(depth - 1, 0) if match[1] else depth + 1
        work += depth
        if work > _MAX_WORK:
            return False
    return True


def _flattened(markup: str) -> str:
    """HTML nested too deeply to sanitise in time, as its text."""
    markup = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", markup, flags=re.I | re.S)
    return re.sub(r"<[^<>]*>", " ", markup)


_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S)
_HREF = re.compile(r'\bhref="([^"]*)"')
_PARAGRAPH = re.compile(r"</?(?:blockquote|dl|h[1-6]|hr|ol|p|pre|table|ul)\b[^>]*>")
_LINE = re.compile(r"</?(?:caption|dd|div|dt|li|tr)\b[^>]*>")
# Blocks ask for a blank line (\x02) or a new line (\x01); between two blocks the larger wins.
_BREAKS = re.compile(r"\s*[\x01\x02][\x01\x02\s]*")


def to_text(sanitised: str) -> str:
    """HTML that sanitise() returned, as plain text: blocks on their own lines, list items
    marked, a link's address after its text."""
    text = re.sub(r"\s+", " ", sanitised)  # in HTML a line break in text is a space
    text = _LINK.sub(_link_as_text, text)
    text = re.sub(r"<li\b[^>]*>", "\x01- ", text)
    text = re.sub(r"<t[dh]\b[^>]*>", " ", text)  # the cells of a row, on one line
    text = re.sub(r"<br\b[^>]*>", "\x03", _LINE.sub("\x01", _PARAGRAPH.sub("\x02", text)))
    text = _BREAKS.sub(lambda m: "\n\n" if "\x02" in m[0] else "\n", text)
    text = html.unescape(re.sub(r"<[^>]*>", "", text)).replace("\x03", "\n")
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _link_as_text(match: re.Match[str]) -> str:
    href = _HREF.search(match[1])
    target = html.unescape(href[1]).removeprefix("mailto:").removeprefix("tel:") if href else ""
    shown = html.unescape(re.sub(r"<[^>]*>", "", match[2]))
    if not target or target in shown:
        return match[2]
    return f"{match[2]} ({html.escape(target)})"
