"""A segment built in the browser: conditions added with htmx, each change counted live, the
segment saved and refreshed, and a member's "why"."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Segment
from crm.models import Organization, Role
from crm.tenancy import activate
from tests.conftest import member
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import ContactFactory

# htmx readies what it swapped in a moment later (its settle delay): a person never changes a
# field within it, a test waits for it.
SETTLED = (
    "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


def test_a_manager_builds_a_segment_and_asks_why_a_contact_is_in_it(
    page: Page, live_server: Any, acme: Organization
) -> None:
    maria = member(acme, "maria@acme.test", Role.MANAGER, "Maria Alvarez")
    for name in ("Ada", "Bea", "Cy"):
        ContactFactory(org=acme, first_name=name, lifecycle="lead",
                       email="ada@example.com" if name == "Ada" else "")  # fmt: skip
    ContactFactory(org=acme, first_name="Dee", lifecycle="customer", email="dee@example.com")
    log_in(page, live_server.url, maria.email)
    page.goto(f"{live_server.url}/o/acme/segments/new/")
    count = page.locator(".rule-count")
    expect(count).to_contain_text("4 contacts match now")

    page.get_by_label("Name").fill("Leads to email")
    add = page.get_by_role("button", name="Condition", exact=True)  # not "Remove this condition"
    add.click()
    page.wait_for_function(SETTLED)
    first = page.locator('select[name="c-r.0-field"]')
    expect(first).to_have_value("lifecycle")  # the first field, its first choice
    page.locator('select[name="c-r.0-value"]').select_option("lead")
    expect(count).to_contain_text("3 contacts match now")
    page.wait_for_function(SETTLED)

    add.click()
    page.wait_for_function(SETTLED)
    page.locator('select[name="c-r.1-field"]').select_option("email")
    operator = page.locator('select[name="c-r.1-op"]')
    # The email's own operators, once the builder is back with them: a text's.
    expect(operator.locator("option", has_text="does not contain")).to_have_count(1)
    page.wait_for_function(SETTLED)
    operator.select_option("is_not_empty")
    expect(count).to_contain_text("1 contact matches now")

    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("heading", name="Leads to email")).to_be_visible()
    expect(page.locator(".record-glance")).to_contain_text("1 member")
    with activate(acme):
        segment = Segment.objects.get(name="Leads to email")
        assert [rule["field"] for rule in segment.rules["rules"]] == ["lifecycle", "email"]

    page.get_by_role("link", name="Why is Ada here?").click()
    why = page.locator("#why")
    expect(why).to_contain_text("is in this segment")
    expect(why).to_contain_text("Lifecycle stage is Lead · Ada's: Lead")
    page.get_by_label("A contact's email address").fill("dee@example.com")
    page.get_by_role("button", name="Explain").click()
    expect(why).to_contain_text("is not in this segment")
    expect(why).to_contain_text("The first condition they fail")
