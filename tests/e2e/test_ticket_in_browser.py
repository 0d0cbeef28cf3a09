"""A ticket worked from the keyboard, in the browser: r reply, n note, a assign to me,
s solve, j the next ticket."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crm.models import Organization, Role
from crm.tenancy import activate
from interactions.models import Interaction
from support.models import Status, Ticket
from tests.conftest import member
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import ContactFactory, TicketFactory

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]


def test_an_agent_works_a_ticket_from_the_keyboard(
    page: Page, live_server: Any, acme: Organization
) -> None:
    sam = member(acme, "sam@acme.test", Role.AGENT, "Sam Singh")
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    first = TicketFactory(org=acme, requester=ada, subject="Card declined")
    second = TicketFactory(org=acme, requester=ada, subject="Invoice copy")
    log_in(page, live_server.url, sam.email)
    page.goto(f"{live_server.url}/o/acme/tickets/{first.number}/")

    page.keyboard.press("a")  # assign to me
    expect(page.get_by_text(f"Ticket #{first.number} is yours.")).to_be_visible()

    page.keyboard.press("r")
    reply = page.get_by_label("Reply", exact=True)
    expect(reply).to_be_focused()
    reply.fill("Could you try the card again?")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent to Ada")).to_be_visible()

    page.keyboard.press("n")  # the folded note composer opens, ready to type
    note = page.get_by_label("Internal note")
    expect(note).to_be_focused()
    note.fill("Their bank blocked it.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("Their bank blocked it.")

    page.keyboard.press("s")  # solve
    expect(page.get_by_text(f"Ticket #{first.number} solved.")).to_be_visible()
    with activate(acme):
        stored = Ticket.objects.get(pk=first.pk)
        assert (stored.assignee_id, stored.status) == (sam.pk, Status.SOLVED)
        assert Interaction.objects.filter(ticket=first, direction="outbound").count() == 1

    page.keyboard.press("j")  # the next ticket: none of Sam's left, so an unassigned one
    expect(page).to_have_url(f"{live_server.url}/o/acme/tickets/{second.number}/")
