"""The command palette in a browser: Ctrl-K opens it anywhere, typing finds records, the
arrow keys and Enter open one, Esc closes it and gives focus back; on a phone, the top
bar's search icon opens it."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from crm.models import Organization, Role
from tests.conftest import member
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import CompanyFactory, ContactFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def acme_in_use(acme: Organization) -> dict[str, Any]:
    member(acme, "rita@acme.test", Role.REP)
    northwind = CompanyFactory(org=acme, name="Northwind Traders", domain="northwind.example")
    king = ContactFactory(org=acme, first_name="Ada", last_name="King", email="ada@king.example")
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace",
                         email="ada@northwind.example", company=northwind)  # fmt: skip
    return {"king": king, "ada": ada}


def test_ctrl_k_finds_a_contact_and_opens_it(
    page: Page, live_server: Any, acme_in_use: dict[str, Any], tmp_path: Path
) -> None:
    log_in(page, live_server.url, "rita@acme.test")
    page.goto(f"{live_server.url}/o/acme/companies/")
    palette = page.get_by_role("dialog", name="Search records, pages and actions")
    expect(palette).to_be_hidden()

    page.get_by_label("Search Acme").focus()  # Ctrl-K works from inside an input too
    page.keyboard.press("Control+k")
    expect(palette).to_be_visible()
    box = palette.get_by_role("combobox")
    expect(box).to_be_focused()
    expect(palette.get_by_role("option", name="New contact")).to_be_visible()  # before typing

    box.press_sequentially("ada")
    listbox = palette.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_count(2)
    first, second = listbox.get_by_role("option").all()
    expect(first).to_contain_text("Ada King")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
    page.screenshot(path=str(tmp_path / "palette-1280.png"))
    # The list underneath keeps its own search: its form listens to its own box only.
    page.wait_for_timeout(400)  # longer than the list's own delay before it searches
    expect(page).to_have_url(re.compile(r"/o/acme/companies/$"))

    page.keyboard.press("ArrowDown")
    expect(second).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id") or "")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/o/acme/contacts/{acme_in_use['ada'].pk}/$"))
    expect(page.locator("h1")).to_contain_text("Ada Lovelace")


def test_esc_closes_it_and_gives_focus_back(
    page: Page, live_server: Any, acme_in_use: dict[str, Any]
) -> None:
    log_in(page, live_server.url, "rita@acme.test")
    companies = page.get_by_role("navigation", name="Main").get_by_role("link", name="Companies")
    companies.focus()
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Search records, pages and actions")
    expect(palette).to_be_visible()
    page.keyboard.press("Escape")
    expect(palette).to_be_hidden()
    expect(companies).to_be_focused()


def test_a_click_on_the_top_bar_search_opens_it_and_a_click_opens_a_result(
    page: Page, live_server: Any, acme_in_use: dict[str, Any]
) -> None:
    log_in(page, live_server.url, "rita@acme.test")
    page.get_by_label("Search Acme").click()
    palette = page.get_by_role("dialog", name="Search records, pages and actions")
    expect(palette).to_be_visible()
    palette.get_by_role("combobox").press_sequentially("northw")
    palette.get_by_role("option", name=re.compile("Northwind Traders")).click()
    expect(page).to_have_url(re.compile(r"/o/acme/companies/\d+/$"))


def test_on_a_phone_the_search_icon_opens_it(
    browser: Browser, live_server: Any, acme_in_use: dict[str, Any], tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "rita@acme.test")
        expect(page.get_by_label("Search Acme")).to_be_hidden()
        page.get_by_role("link", name="Search", exact=True).click()
        palette = page.get_by_role("dialog", name="Search records, pages and actions")
        expect(palette).to_be_visible()
        palette.get_by_role("combobox").press_sequentially("lovelace")
        expect(palette.get_by_role("option", name=re.compile("Ada Lovelace"))).to_be_visible()
        page.screenshot(path=str(tmp_path / "palette-390.png"))
        palette.get_by_role("button", name="Close").click()
        expect(palette).to_be_hidden()
    finally:
        context.close()
