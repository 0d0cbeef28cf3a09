"""The deal board in a browser: a card dragged onto another column moves its deal, the stage
form does the same from the keyboard, and at 390 px the columns scroll sideways one at a
time. The page fixture fails on any script error or Content-Security-Policy violation."""

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crm.models import Organization, User
from crm.tenancy import activate
from sales.models import Deal, Stage
from tests.e2e import axe
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import CompanyFactory, DealFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


def _board(org: Organization, owner: User) -> dict[str, Any]:
    company = CompanyFactory(org=org, name="Initech")
    deals = [
        DealFactory(org=org, title=f"Deal {n}", owner=owner, company=company,
                    amount=Decimal(1000 * (n + 1)))
        for n in range(4)
    ]  # fmt: skip
    with activate(org):
        stages = {stage.name: stage for stage in Stage.objects.all()}
    return {"deals": deals, "stages": stages}


def _stage_of(org: Organization, deal: Deal) -> str:
    with activate(org):
        return Deal.objects.select_related("stage").get(pk=deal.pk).stage.name


def test_a_card_dropped_on_another_column_moves_its_deal(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    found = _board(acme, alice)
    deal, proposal = found["deals"][0], found["stages"]["Proposal"]
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/deals/board/")
    found_problems = axe.blocking(axe.violations(page))
    assert not found_problems, axe.describe(found_problems)
    page.drag_and_drop(f"#deal-{deal.pk}", f'.board-column__cards[data-stage="{proposal.pk}"]')
    expect(page.get_by_role("status")).to_contain_text("Moved “Deal 0” to Proposal.")
    expect(page.locator(f"#stage-{proposal.pk} #deal-{deal.pk}")).to_be_visible()
    assert _stage_of(acme, deal) == "Proposal"


def test_the_stage_form_moves_a_deal_from_the_keyboard(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    found = _board(acme, alice)
    deal = found["deals"][1]
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/deals/board/")
    card = page.locator(f"#deal-{deal.pk}")
    card.locator("summary").focus()
    page.keyboard.press("Enter")
    card.get_by_label("Stage of “Deal 1”").select_option(label="Negotiation")
    card.get_by_role("button", name="Move").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Moved “Deal 1” to Negotiation.")
    assert _stage_of(acme, deal) == "Negotiation"


def test_at_390px_the_columns_scroll_sideways(
    page: Page, live_server: Any, acme: Organization, alice: User
) -> None:
    _board(acme, alice)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/o/acme/deals/board/")
    found_problems = axe.blocking(axe.violations(page))
    assert not found_problems, axe.describe(found_problems)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    columns = page.locator(".board__columns")
    assert columns.evaluate("(node) => node.scrollWidth > node.clientWidth")
    first = page.locator(".board-column").first.bounding_box()
    assert first
    assert first["width"] <= 390
