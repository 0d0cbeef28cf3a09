"""The list page in a browser: rows first at 1280x800, cards at 390 px, the toolbar's
filters as chips, the bulk bar that rises only with a selection, and the keyboard."""

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from contacts.models import Contact
from crm.models import Organization, User
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import ContactFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]

# A row counts when the whole of it is inside the viewport, under the sticky header.
ROWS_IN_VIEW = """() => [...document.querySelectorAll('[data-list] tbody tr')].filter((row) => {
  const box = row.getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}).length"""


def _people(org: Organization, owner: User, count: int = 40) -> list[Contact]:
    return [
        ContactFactory(
            org=org, owner=owner, first_name=f"Person{n:02}", last_name="Example",
            job_title="Head of purchasing and supply chain at a large firm",
            email=f"person{n:02}.with.a.rather.long.address@example.com",
            lifecycle=Contact.Lifecycle.LEAD if n % 2 else Contact.Lifecycle.CUSTOMER,
        )
        for n in range(count)
    ]  # fmt: skip


def test_a_desktop_list_shows_fifteen_rows_and_never_scrolls_sideways(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    _people(acme, alice)
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/contacts/")
    assert page.evaluate(ROWS_IN_VIEW) >= 15
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    table = page.locator("[data-list]").bounding_box()
    main = page.locator("main").bounding_box()
    assert table
    assert main
    assert table["x"] + table["width"] <= main["x"] + main["width"]
    # Long cells are cut, and keep their whole text in a title.
    email = page.locator("[data-list] tbody tr").first.locator("td.col-fact").first
    assert email.evaluate("(td) => td.scrollWidth > td.clientWidth")
    expect(email.get_by_role("link")).to_have_attribute("title", re.compile("^person00"))
    # No bulk bar until a row is selected.
    expect(page.get_by_role("region", name="Bulk actions")).to_be_hidden()
    # The header stays in view while the rows scroll under it.
    page.mouse.wheel(0, 1200)
    page.wait_for_timeout(100)
    header = page.locator("[data-list] thead th").nth(1).bounding_box()
    assert header
    assert 0 <= header["y"] < 100


def test_a_phone_shows_cards_and_keeps_the_filters_behind_one_button(
    browser: Browser, live_server: Any, acme: Organization, alice: User
) -> None:
    _people(acme, alice, 5)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/contacts/")
    expect(page.locator("[data-list] thead")).to_be_hidden()
    first = page.locator("[data-list] tbody tr").first
    expect(first.get_by_role("link", name=re.compile("Person00"))).to_be_visible()
    expect(first.locator("td.col-fact").first).to_be_visible()  # the email under the name
    expect(page.locator("#id_owner")).to_be_hidden()
    page.locator("summary", has_text="Filter").first.click()
    expect(page.locator("#id_owner")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("Escape")
    # The navigation is a drawer behind the top bar's menu button.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Companies")).to_be_hidden()
    page.get_by_label("Open the navigation").click()
    nav.get_by_role("link", name="Companies").click()
    page.wait_for_url("**/o/acme/companies/")
    expect(nav.get_by_role("link", name="Contacts")).to_be_hidden()
    context.close()


def test_a_filter_shows_as_a_chip_that_removes_it(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    _people(acme, alice, 6)
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/contacts/")
    page.locator("summary", has_text="Filter").first.click()
    page.get_by_label("Lifecycle").select_option("lead")
    expect(page.locator("[data-list] tbody tr")).to_have_count(3)
    chip = page.locator(".chip", has_text="Lifecycle")
    expect(chip).to_contain_text("Lead")
    expect(page.locator("#filter-count")).to_have_text("1 in use")  # on the Filter button
    page.keyboard.press("Escape")
    chip.get_by_role("link", name=re.compile("Remove the filter")).click()
    expect(page.locator("[data-list] tbody tr")).to_have_count(6)
    expect(page.locator(".chip")).to_have_count(0)


def test_the_bulk_bar_rises_with_a_selection_and_shows_the_chosen_actions_field(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    _people(acme, alice, 4)
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/contacts/")
    bar = page.get_by_role("region", name="Bulk actions")
    rows = page.locator("[data-list] tbody tr")
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(2).get_by_role("checkbox").check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("2 selected")
    page.locator("#bulk-action").select_option("change_lifecycle")
    expect(bar.locator('[data-bulk-field="lifecycle"]')).to_be_visible()
    expect(bar.locator('[data-bulk-field="owner"]')).to_be_hidden()
    page.get_by_label("Select every row on this page").check()
    expect(bar).to_contain_text("4 selected")
    bar.get_by_role("button", name="Clear").click()
    expect(bar).to_be_hidden()


def test_the_keyboard_searches_moves_opens_edits_and_lists_its_shortcuts(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    people = _people(acme, alice, 5)
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/contacts/")

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("/")
    expect(page.get_by_label("Search contacts")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("h1").click()  # out of the search box

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    rows = page.locator("[data-list] tbody tr")
    expect(rows.nth(1)).to_have_class(re.compile("is-active"))
    page.keyboard.press("x")
    expect(rows.nth(1).get_by_role("checkbox")).to_be_checked()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/o/acme/contacts/{people[1].pk}/")

    page.keyboard.press("e")
    page.wait_for_url(f"**/o/acme/contacts/{people[1].pk}/edit/")

    page.goto(f"{live_server.url}/o/acme/contacts/")
    page.keyboard.press("c")
    page.wait_for_url("**/o/acme/contacts/new/")
