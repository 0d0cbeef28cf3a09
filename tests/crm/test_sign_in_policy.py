"""Signing in: failed passwords slow an account down rather than lock its owner out, the
client's address comes through the deployment's proxies, and sessions end when idle or old."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from crm.models import AuditEvent, Organization, User
from crm.requests import client_ip
from crm.tenancy import activate
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _sign_in(client: Client, email: str, password: str, **headers: Any) -> Any:
    return client.post(LOGIN, {"login": email, "password": password}, **headers)


def _fail(client: Client, email: str, times: int, **headers: Any) -> None:
    for _ in range(times):
        response = _sign_in(client, email, "not the password", **headers)
        assert "The email address and/or password you specified are not correct." in (
            response.content.decode()
        )


def test_five_failures_are_free_and_the_sixth_waits_even_with_the_right_password(
    client: Client, rita: User
) -> None:
    _fail(client, rita.email, 5)
    response = _sign_in(client, rita.email, PASSWORD)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Too many failed sign-ins for this account. Try its password again in 30 seconds" in body
    assert "sign in with a code sent to your email" in body
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert _sign_in(client, rita.email, PASSWORD)["Location"] == "/"


def test_each_failure_past_the_fifth_doubles_the_wait_up_to_fifteen_minutes(
    client: Client, rita: User
) -> None:
    start = timezone.now()
    _fail(client, rita.email, 5)
    waits = []
    for step in range(8):
        moment = start + timedelta(minutes=16 * (step + 1))  # past the wait: the try counts
        with time_machine.travel(moment, tick=False):
            _fail(client, rita.email, 1)
            body = _sign_in(client, rita.email, PASSWORD).content.decode()
        waits.append(re.search(r"again in (\d+ \w+)", body).group(1))  # type: ignore[union-attr]
    assert waits == ["1 minute", "2 minutes", "4 minutes", "8 minutes", "15 minutes",
                     "15 minutes", "15 minutes", "15 minutes"]  # fmt: skip


def test_a_try_during_the_wait_does_not_lengthen_it_nor_touch_other_accounts(
    client: Client, rita: User, alice: User
) -> None:
    _fail(client, rita.email, 5)
    for _ in range(10):
        assert "again in 30 seconds" in _sign_in(client, rita.email, PASSWORD).content.decode()
    assert _sign_in(client, alice.email, PASSWORD)["Location"] == "/"


def test_the_owner_signs_in_with_an_emailed_code_meanwhile_which_clears_the_count(
    client: Client, rita: User
) -> None:
    _fail(client, rita.email, 5)
    assert "again in 30 seconds" in _sign_in(client, rita.email, PASSWORD).content.decode()
    response = client.post("/accounts/login/code/", {"email": rita.email})
    assert response.status_code == 302
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", str(mail.outbox[-1].body), re.MULTILINE)
    assert code, mail.outbox[-1].body
    response = client.post(response["Location"], {"code": code.group(1)})
    assert response["Location"] == "/"
    client.logout()
    assert _sign_in(client, rita.email, PASSWORD)["Location"] == "/"  # no wait any more


def test_failures_count_per_client_behind_a_trusted_proxy(
    client: Client, rita: User, alice: User, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    office = {"HTTP_X_FORWARDED_FOR": "198.51.100.7", "REMOTE_ADDR": "10.0.0.2"}
    home = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "REMOTE_ADDR": "10.0.0.2"}
    for n in range(20):  # spread over accounts, so that only the address's limit counts
        _fail(client, f"nobody{n}@acme.test", 1, **office)
    refused = _sign_in(client, alice.email, PASSWORD, **office).content.decode()
    assert "Too many failed login attempts" in refused
    assert _sign_in(client, alice.email, PASSWORD, **home)["Location"] == "/"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [(0, "203.0.113.9", "10.0.0.2"), (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
     (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"), (2, "203.0.113.9", "10.0.0.2"),
     (1, "not an address", "10.0.0.2"), (1, "", "10.0.0.2")],
)  # fmt: skip
def test_the_client_address_is_read_from_the_right_of_the_forwarded_header(
    settings: Any, count: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_audit_log_keeps_the_address_the_proxy_saw(
    client: Client, alice: User, acme: Organization, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client.force_login(alice)
    client.post(
        "/o/acme/settings/",
        {"name": "Acme Corp", "slug": "acme", "base_currency": "EUR", "time_zone": "UTC",
         "fiscal_year_start_month": "1"},
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2",
    )  # fmt: skip
    with activate(acme):
        event = AuditEvent.objects.get(action="org.updated")
    assert event.ip == "203.0.113.9"


def _sign_in_at(client: Client, user: User, moment: Any) -> None:
    with time_machine.travel(moment, tick=False):
        client.force_login(user)


def _get_at(client: Client, moment: Any, path: str = "/o/acme/", **headers: Any) -> Any:
    with time_machine.travel(moment, tick=False):
        return client.get(path, **headers)


def test_a_session_idle_for_twelve_hours_ends_and_comes_back_to_the_page(
    client: Client, rita: User, acme: Organization
) -> None:
    start = timezone.now()
    _sign_in_at(client, rita, start)
    assert _get_at(client, start).status_code == 200
    assert _get_at(client, start + timedelta(hours=11)).status_code == 200  # touched
    assert _get_at(client, start + timedelta(hours=22)).status_code == 200  # 11 hours idle
    later = start + timedelta(hours=34, minutes=1)
    response = _get_at(client, later, "/o/acme/contacts/?q=ada")
    assert response["Location"] == "/accounts/login/?next=/o/acme/contacts/%3Fq%3Dada"
    page = _get_at(client, later, response["Location"]).content.decode()
    assert "You were signed out after 12 hours without activity." in page
    assert _get_at(client, later, "/o/acme/contacts/").status_code == 302


def test_htmx_is_sent_to_sign_in_as_a_whole_page(
    client: Client, rita: User, acme: Organization
) -> None:
    start = timezone.now()
    _sign_in_at(client, rita, start)
    _get_at(client, start)
    response = _get_at(client, start + timedelta(hours=13), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_a_session_ends_seven_days_after_sign_in_however_active(
    client: Client, rita: User, acme: Organization
) -> None:
    start = timezone.now()
    _sign_in_at(client, rita, start)
    for hours in range(6, 7 * 24, 6):
        assert _get_at(client, start + timedelta(hours=hours)).status_code == 200
    later = start + timedelta(days=7, minutes=1)
    response = _get_at(client, later)
    assert response.status_code == 302
    page = _get_at(client, later, response["Location"]).content.decode()
    assert "You were signed out after 168 hours since you signed in." in page
