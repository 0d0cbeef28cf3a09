"""The URLs of many records on one page, reversed once per URL name and organisation.

`reverse()` matches the URL's patterns on every call: a timeline or a list of tasks drawing
a few links per entry paid for it some hundred times a page. The URLs here take the
organisation's slug and the record's id, in that order, and differ only by the id.
"""

from functools import lru_cache

from django.urls import get_script_prefix, reverse

_SAMPLE = 0  # the id reversed in its place, then replaced


def record_url(name: str, org_slug: str, pk: int) -> str:
    """reverse(name, args=[org_slug, pk])."""
    head, tail = _parts(name, org_slug, get_script_prefix())
    return f"{head}{int(pk)}{tail}"


@lru_cache(maxsize=2048)
def _parts(name: str, org_slug: str, script_prefix: str) -> tuple[str, str]:
    sample = reverse(name, args=[org_slug, _SAMPLE])
    head, found, tail = sample.rpartition(f"/{_SAMPLE}/")
    if not found:
        raise ValueError(f"{name}: the record's id is not a segment of its URL")
    return f"{head}/", f"/{tail}"
