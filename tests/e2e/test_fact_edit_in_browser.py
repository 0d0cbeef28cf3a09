"""One fact of a contact edited in place, in the browser: click, type, Enter; Esc cancels."""

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from crm.models import Organization, Role
from crm.tenancy import activate
from tests.conftest import member
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import ContactFactory, CustomFieldFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]

# Where the screenshots go, to look at: a temporary folder unless SCREENSHOTS names one.
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


@pytest.fixture
def ada(acme: Organization) -> Contact:
    rita = member(acme, "rita@acme.test", Role.REP)
    CustomFieldFactory(
        org=acme, key="interests", label="Interests", kind="multi_choice",
        choices=["Analytics", "Engines", "Poetry"],
    )  # fmt: skip
    return ContactFactory(
        org=acme, by=rita, first_name="Ada", last_name="Lovelace", email="ada@engines.example",
        job_title="Analyst", owner=rita, custom={"interests": ["Engines"]},
    )  # fmt: skip


def _shots(tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_rep_edits_a_job_title_in_place_and_cancels_another_edit(
    page: Page, live_server: Any, acme: Organization, ada: Contact, tmp_path: Path
) -> None:
    log_in(page, live_server.url, "rita@acme.test")
    page.goto(f"{live_server.url}/o/acme/contacts/{ada.pk}/")
    page.evaluate("window.notReloaded = true")  # gone if the page loads again

    page.get_by_role("link", name="Edit Job title").click()
    box = page.locator("#fact-job_title input[name=job_title]")
    expect(box).to_be_focused()
    page.screenshot(path=str(_shots(tmp_path) / "fact-edit-1280.png"), full_page=True)
    box.fill("Countess of Lovelace")
    box.press("Enter")

    fact = page.locator("#fact-job_title")
    expect(fact.get_by_role("link", name="Edit Job title")).to_contain_text("Countess of Lovelace")
    expect(fact.get_by_role("link", name="Edit Job title")).to_be_focused()
    expect(page.locator("#facts-status")).to_have_text("Job title saved.")
    expect(page.locator("#history")).to_contain_text("Countess of Lovelace")
    assert page.evaluate("window.notReloaded") is True
    with activate(acme):
        assert Contact.objects.get(pk=ada.pk).job_title == "Countess of Lovelace"

    page.get_by_role("link", name="Edit Email").click()
    page.locator("#fact-email input[name=email]").fill("someone@else.example")
    page.keyboard.press("Escape")
    expect(page.locator("#fact-email input")).to_have_count(0)
    expect(page.locator("#fact-email")).to_contain_text("ada@engines.example")
    assert page.evaluate("window.notReloaded") is True
    with activate(acme):
        assert Contact.objects.get(pk=ada.pk).email == "ada@engines.example"


def test_a_fact_in_edit_mode_looks_right_on_a_phone_and_on_a_desktop(
    page: Page, live_server: Any, ada: Contact, tmp_path: Path
) -> None:
    log_in(page, live_server.url, "rita@acme.test")
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/o/acme/contacts/{ada.pk}/")
        page.get_by_role("link", name="Edit Interests").click()
        group = page.locator("#fact-custom_interests fieldset")
        expect(group.get_by_label("Engines")).to_be_checked()
        # The checkboxes one under the other, each with its label on its right.
        boxes = [group.get_by_label(name).bounding_box() for name in ("Analytics", "Poetry")]
        assert boxes[0] is not None
        assert boxes[1] is not None
        assert boxes[0]["y"] < boxes[1]["y"]
        page.screenshot(path=str(_shots(tmp_path) / f"fact-choices-{width}.png"), full_page=True)
        page.get_by_role("link", name="Edit Job title").click()
        expect(page.locator("#fact-job_title input[name=job_title]")).to_be_focused()
        page.screenshot(path=str(_shots(tmp_path) / f"fact-edit-{width}.png"), full_page=True)


def test_the_full_form_puts_a_multiple_choice_label_above_its_boxes(
    page: Page, live_server: Any, ada: Contact, tmp_path: Path
) -> None:
    log_in(page, live_server.url, "rita@acme.test")
    page.goto(f"{live_server.url}/o/acme/contacts/{ada.pk}/edit/")
    group = page.locator("fieldset.field--choices")
    legend = group.locator("legend").bounding_box()
    first = group.get_by_label("Analytics").bounding_box()
    assert legend is not None
    assert first is not None
    assert legend["y"] + legend["height"] <= first["y"] + 1  # above, not beside
    assert abs(legend["x"] - first["x"]) < 1  # and starting where the boxes start
    # Lined up with the other fields of its column, as their labels are.
    lefts = page.locator(".form-grid > div.field").evaluate_all(
        "fields => fields.map(field => Math.round(field.getBoundingClientRect().x))"
    )
    assert round(legend["x"]) in lefts
    page.screenshot(path=str(_shots(tmp_path) / "full-form-choices.png"), full_page=True)
