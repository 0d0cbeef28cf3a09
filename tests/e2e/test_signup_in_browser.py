import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM, IN_CI

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


def _submit(page: Page) -> None:
    page.locator("main form button[type=submit]").last.click()


def test_it_signs_up_confirms_and_logs_in_through_the_browser(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_role("link", name="Sign up").first.click()

    page.get_by_label("Your name").fill("Erin Baker")
    page.get_by_label("Email").fill("erin@example.com")
    page.get_by_label("Organisation name").fill("Erin's Bakery")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password (again)").fill("short")
    _submit(page)
    expect(page.locator(".field__error").first).to_contain_text("too short")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    _submit(page)
    expect(page.locator("h1")).to_contain_text("Verify Your Email Address")

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", str(mail.outbox[-1].body))
    assert link
    page.goto(link.group(0).replace("http://testserver", live_server.url))
    _submit(page)  # confirming signs the new owner in and opens their organisation

    expect(page).to_have_url(re.compile(r"/o/erins-bakery/$"))
    expect(page.locator(".menu__org")).to_have_text("Erin's Bakery")
    expect(page.locator(".sidenav [aria-current=page]")).to_have_text("Home")
    page.locator(".menu__trigger", has_text="Account menu for Erin Baker").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
