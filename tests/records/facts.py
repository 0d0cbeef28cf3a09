"""Reading a record page's facts as a person reads them (records/_facts.html)."""

import html
import re

_TAGS = re.compile(r"<[^>]+>")


def fact_text(page: str, label: str) -> str | None:
    """What the page shows for the fact labelled `label` (its value, without the words only
    screen readers hear or the link beside it), or None when it shows no such fact."""
    found = re.search(
        rf'<dt class="fact__label">{re.escape(label)}</dt>\s*<dd class="fact__value">(.*?)</dd>',
        page,
        re.S,
    )
    if found is None:
        return None
    value = re.sub(r'<a class="fact__link".*?</a>|<span class="fact__saved".*?</span>', "",
                   found[1], flags=re.S)  # fmt: skip
    value = re.sub(r'<span class="visually-hidden">.*?</span>', "", value, flags=re.S)
    return " ".join(html.unescape(_TAGS.sub(" ", value)).split())
