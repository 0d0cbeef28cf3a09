"""Passkeys in a real browser: a rep adds one (Chromium's virtual authenticator stands in
for a phone or a security key), then signs in with it alone, and with it as a second
factor after the password."""

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from crm.models import Organization, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM, IN_CI

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def authenticator(page: Page) -> str:
    """A platform authenticator with user verification, as a phone's is."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    found = session.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }})  # fmt: skip
    return str(found["authenticatorId"])


def _log_in_with_password(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()


def _add_passkey(page: Page, url: str) -> None:
    page.goto(f"{url}/accounts/2fa/webauthn/add/")
    if page.get_by_label("Password").count():  # allauth asks for the password again first
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("My phone")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add", exact=True).click()


def test_a_rep_adds_a_passkey_and_signs_in_with_it_alone(
    page: Page, live_server: Any, acme: Organization, rita: User, authenticator: str
) -> None:
    _log_in_with_password(page, live_server.url, rita.email)
    expect(page).to_have_url(f"{live_server.url}/o/acme/")
    _add_passkey(page, live_server.url)
    page.wait_for_url("**/accounts/2fa/recovery-codes/**")  # allauth offers recovery codes
    assert Authenticator.objects.filter(user=rita, type="webauthn").count() == 1

    _log_out(page, live_server.url, rita)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/")


def test_a_passkey_is_the_second_factor_after_the_password(
    page: Page, live_server: Any, acme: Organization, rita: User, authenticator: str
) -> None:
    _log_in_with_password(page, live_server.url, rita.email)
    _add_passkey(page, live_server.url)
    page.wait_for_url("**/accounts/2fa/recovery-codes/**")
    _log_out(page, live_server.url, rita)
    _log_in_with_password(page, live_server.url, rita.email)
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(f"{live_server.url}/o/acme/")


def _log_out(page: Page, url: str, user: User) -> None:
    page.goto(f"{url}/o/acme/")
    page.locator(".menu__trigger", has_text=f"Account menu for {user.display_name}").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{url}/accounts/login/")
