"""Logging from a contact's page in a browser: the keyboard alone, the new entry on top of
the timeline without a reload, and the channel's own fields only when they apply."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crm.models import Organization, User
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import ContactFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


def test_a_call_logged_from_the_keyboard_tops_the_timeline(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace")
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/contacts/{ada.pk}/")
    expect(page.get_by_text("No interactions yet")).to_be_visible()

    form = page.locator("#quick-log")
    form.get_by_label("Channel").select_option("note")
    expect(form.get_by_label("Outcome")).to_be_hidden()  # a call's, not a note's
    form.get_by_label("Channel").select_option("call")
    expect(form.get_by_label("Outcome")).to_be_visible()
    form.get_by_label("Subject").fill("Asked about the renewal")
    form.get_by_label("Subject").press("Enter")

    entry = page.locator(".timeline__entry").first
    expect(entry).to_contain_text("Asked about the renewal")
    expect(entry).to_contain_text("Call")
    expect(page.get_by_text("No interactions yet")).to_be_hidden()
    expect(page.locator("#quick-log").get_by_label("Subject")).to_have_value("")
    assert page.url.endswith(f"/contacts/{ada.pk}/")  # no reload, no redirect
