"""Importing contacts through the browser: upload, map, dry run, import, undo."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crm.models import Organization, Role
from tests.conftest import member
from tests.contacts.imports import csv_bytes
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]

FILE = csv_bytes([
    ["First Name", "Last Name", "E-mail Address", "Company Name", "Mobile Phone", "Notes"],
    ["Ada", "Lovelace", "ada@example.com", "Analytical Engines", "+44 20 7946 0958", "first"],
    ["Grace", "Hopper", "grace@example", "Navy", "", ""],
    ["Alan", "Turing", "alan@example.com", "", "", ""],
])  # fmt: skip


def test_a_rep_imports_a_file_and_undoes_it(
    page: Page, live_server: Any, acme: Organization, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    member(acme, "rita@acme.test", Role.REP)
    log_in(page, live_server.url, "rita@acme.test")
    page.goto(f"{live_server.url}/o/acme/contacts/")
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Import", exact=True).click()

    path = tmp_path / "people.csv"
    path.write_bytes(FILE)
    page.get_by_label("CSV, Excel or vCard file").set_input_files(path)
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.locator("h1")).to_have_text("Import of people.csv")
    expect(page.get_by_label("E-mail Address")).to_have_value("email")
    expect(page.get_by_label("Notes")).to_have_value("")
    page.screenshot(path=str(tmp_path / "mapping.png"), full_page=True)

    page.get_by_role("button", name="Check the rows").click()
    expect(page.get_by_role("heading", name="Dry run: what importing would do")).to_be_visible()
    expect(page.locator("table")).to_contain_text("“grace@example” is not an email address.")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_role("heading", name="What the import did")).to_be_visible()
    page.get_by_role("link", name="See the contacts").click()
    expect(page.locator("#results")).to_contain_text("Lovelace")
    expect(page.locator("#results")).to_contain_text("Analytical Engines")

    page.go_back()
    page.get_by_role("link", name="Undo this import…").click()
    page.get_by_role("button", name="Undo the import").click()
    expect(page.locator(".page-header .badge")).to_have_text("Undone")
    page.goto(f"{live_server.url}/o/acme/contacts/")
    expect(page.locator("#results")).to_contain_text("No contacts yet")
    expect(page).to_have_url(re.compile(r"/o/acme/contacts/$"))
