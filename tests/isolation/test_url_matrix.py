"""Every URL under /o/<org_slug>/, probed by a member of another organisation.

The patterns come from the URL resolver, not from a list: a new URL is probed the day it
is added, and one whose keywords the registry cannot fill fails here until it can.
"""

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.isolation.registry import (
    KEYWORD,
    fill,
    seed_rows,
    snapshot,
    url_kwargs,
    url_value,
)

pytestmark = pytest.mark.django_db

ORG_PREFIX = "o/<slug:org_slug>/"
# What would show that Acme's data reached Globex's admin.
ACME_MARKERS = ("acme.test", "Acme Secret Team", "Acme")
# A CSRF token is 64 random letters and digits: about one page in 100,000 has "Acme" in it.
TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")


def shows_acme(body: bytes) -> bool:
    text = TOKEN.sub("", body.decode())
    return any(marker in text for marker in ACME_MARKERS)


def org_routes() -> Iterator[str]:
    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and str(pattern.pattern) == ORG_PREFIX:
            yield from walk(pattern.url_patterns, "")


ROUTES = sorted(set(org_routes()))


@pytest.fixture
def probe(client: Client, acme, alice, globex, charlie):
    rows = seed_rows(acme, alice)
    seed_rows(globex, charlie)
    ids = {keyword: url_value(keyword, rows[model]) for keyword, model in url_kwargs().items()}
    client.force_login(charlie)  # a real admin of Globex: only the walls stop him
    return client, ids


def test_it_finds_the_organisation_urls() -> None:
    assert "settings/members/<int:membership_id>/role/" in ROUTES
    assert "find/" in ROUTES  # the quick search takes no id: its terms are probed below
    assert len(ROUTES) >= 10


@pytest.mark.parametrize("route", ROUTES)
def test_another_organisations_ids_answer_404_and_change_nothing(probe, acme, route: str) -> None:
    client, ids = probe
    before = snapshot(acme)
    path = fill(route, ids)
    for prefix in ("/o/globex/", "/o/acme/"):
        if prefix == "/o/globex/" and not KEYWORD.search(route):
            continue  # Globex's own page, with no Acme id in it: checked below
        for method in ("GET", "POST"):
            for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
                response = client.generic(method, prefix + path, **htmx)
                where = f"{method} {prefix}{path} {htmx}"
                if response.status_code == 405:
                    # A method the view never takes is refused before any lookup: the
                    # answer is the same for an id that exists nowhere, so it tells nothing.
                    missing = fill(route, dict.fromkeys(ids, 2_000_000_000))
                    assert client.generic(method, prefix + missing).status_code == 405, where
                    continue
                assert response.status_code == 404, where
                assert not shows_acme(response.content), where
    assert snapshot(acme) == before


@pytest.mark.parametrize("route", [r for r in ROUTES if not KEYWORD.search(r)])
def test_the_members_own_pages_show_none_of_another_organisations_data(probe, route) -> None:
    client, _ = probe
    response = client.get(f"/o/globex/{route}")
    assert response.status_code in (200, 302, 405)
    assert not shows_acme(response.content), route


@pytest.mark.parametrize("q", ["secret", "acme secret", "secret@acme.te", "client"])
def test_searching_finds_none_of_another_organisations_records(probe, q: str) -> None:
    client, _ = probe
    for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get("/o/globex/find/", {"q": q}, **htmx)
        assert response.status_code == 200
        assert not shows_acme(response.content), (q, htmx)
    # Globex's own rows, seeded alike, are found: the search itself ran.
    assert "Globex Secret" in client.get("/o/globex/find/", {"q": "secret"}).content.decode()
