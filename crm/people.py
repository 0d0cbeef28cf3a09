"""How the product shows a person: their name, never their address, beside an initials
avatar in a colour derived from the name. Pure functions of strings, so that a template
tag and a list cell rendered in Python (crm.records.columns) write the same markup."""

import re
import unicodedata
import zlib
from html import escape

from django.utils.safestring import SafeString

# The avatar colours: app.css's .avatar--c1 … .avatar--c8, each dark enough for white
# initials to meet WCAG AA in both themes.
AVATAR_COLOURS = 8
# Where an address's local part breaks into words ("ada.lovelace", "j_smith+crm").
_WORD_BREAKS = re.compile(r"[\s._+\-]+")


def display_name(first_name: str, last_name: str, email: str) -> str:
    """The full name, else the part of the address before the @."""
    full = " ".join(f"{first_name} {last_name}".split())
    return full or email.partition("@")[0]


def split_name(name: str) -> tuple[str, str]:
    """ "Maria de la Cruz" → ("Maria", "de la Cruz"): the first word, then the rest, so that
    joining them again gives back the name as it was typed."""
    first, _, rest = " ".join(name.split()).partition(" ")
    return first, rest


def initials(name: str) -> str:
    """Two letters: the first and last words' first letters ("Ada Lovelace" → "AL"), or the
    first two of a single word ("ada" → "AD"); "?" for no name."""
    # Letters and digits only: "O'Brien" → "OB", not "O'".
    name = unicodedata.normalize("NFC", name)
    words = [word for word in (re.sub(r"\W", "", w) for w in _WORD_BREAKS.split(name)) if word]
    if not words:
        return "?"
    letters = words[0][0] + words[-1][0] if len(words) > 1 else words[0][:2]
    return letters.upper()


def avatar_class(name: str) -> str:
    """One of the avatar colours, the same for a name wherever and whenever it shows."""
    # CRC-32 rather than hash(): Python salts str hashes per process.
    return f"avatar--c{zlib.crc32(name.casefold().encode()) % AVATAR_COLOURS + 1}"


def avatar_html(name: str, *, size: str = "") -> SafeString:
    """The avatar's markup (components/_avatar.html renders this too). Decorative: the
    name is always written beside it or in the control it sits in."""
    sized = f" avatar--{escape(size)}" if size else ""
    return SafeString(  # nosec B703  # the size and initials escaped; the class a digit
        f'<span class="avatar{sized} {avatar_class(name)}" aria-hidden="true">'
        f"{escape(initials(name))}</span>"
    )


def person_html(name: str, *, size: str = "sm") -> SafeString:
    """The avatar with the name beside it: how a list cell, a fact or a History entry shows
    a member."""
    return SafeString(  # nosec B703  # avatar_html is safe; the name escaped
        f'<span class="person">{avatar_html(name, size=size)}'
        f'<span class="person__name">{escape(name)}</span></span>'
    )
