"""Requests for two organisations, interleaved on one reused connection, stay apart."""

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, as in production


def _setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.org_id', true)")
        return cursor.fetchone()[0]


def test_interleaved_requests_on_one_connection_never_see_each_other(alice, charlie) -> None:
    acme_client, globex_client = Client(), Client()
    acme_client.force_login(alice)
    globex_client.force_login(charlie)
    _setting()
    raw = connection.connection  # the one connection every request below reuses
    for _ in range(3):
        acme_page = acme_client.get("/o/acme/settings/members/").content.decode()
        assert "alice@acme.test" in acme_page
        assert "charlie@globex.test" not in acme_page
        assert _setting() in ("", None)  # nothing left behind on the connection
        globex_page = globex_client.get("/o/globex/settings/members/").content.decode()
        assert "charlie@globex.test" in globex_page
        assert "alice@acme.test" not in globex_page
        assert _setting() in ("", None)
    assert connection.connection is raw
