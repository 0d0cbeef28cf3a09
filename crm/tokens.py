"""The tokens of public URLs that resolve their own organisation, with no signed-in member:
`<organisation id>.<secret>` (an inbound email address, a calendar feed, a web form).

    token = org_token(org, secret)       # shown once; only secret_hash(secret) is stored
    org_id, secret = split(token)        # org_id 0 for a malformed token: no such row

The organisation part is read without ever raising, so that a wrong token answers as a
missing one does; a malformed one names id 0, which no organisation has, and costs the
same queries as any other wrong token.
"""

import hashlib
import secrets

# A bigint has at most 19 digits; an id of 19 digits could still overflow it.
_MOST_DIGITS = 18


def new_secret() -> str:
    """43 characters of [A-Za-z0-9_-]: 256 random bits."""
    return secrets.token_urlsafe(32)


def org_token(org_pk: int, secret: str) -> str:
    return f"{org_pk}.{secret}"


def split(token: str) -> tuple[int, str]:
    """(organisation id, secret) of a token; id 0 when its organisation part is not an
    id: ASCII digits only ("²".isdigit() is true, and int() refuses it), within a bigint."""
    org_id, _, secret = token.partition(".")
    valid = org_id.isascii() and org_id.isdigit() and len(org_id) <= _MOST_DIGITS
    return (int(org_id) if valid else 0), secret


def secret_hash(secret: str) -> str:
    """What is stored of a secret: its sha256, in hex (a path's lone surrogates included)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
