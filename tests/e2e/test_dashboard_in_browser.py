"""The pipeline dashboard in a browser, at 1280x800 and 390x844: axe finds nothing serious or
critical, the page never scrolls sideways, a filter changed swaps the cards (htmx, under
the page's CSP) and keeps them in the URL; screenshots are left in
artifacts/screenshots/dashboard-march-<width>.png for a person to look at."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.e2e import axe
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.sales import test_dashboard_figures as figures

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]
# The book of deals of March 2026 with the clock in April (the browser and its page are
# tests/e2e/conftest.py's: one browser for the session).
book, _clock = figures.book, figures._clock
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_dashboard_reads_well_and_refilters_in_place(
    page: Page, live_server: Any, book, alice, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/dashboards/pipeline/?period=last_month")
    expect(page.get_by_role("heading", name="Open pipeline by stage")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-march-{width}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner
    assert axe.blocking(axe.violations(page)) == []
    page.get_by_label("Period").select_option("last_quarter")
    expect(page.locator(".dash-note")).to_contain_text("1 Jan – 31 Mar 2026")
    assert "period=last_quarter" in page.url
