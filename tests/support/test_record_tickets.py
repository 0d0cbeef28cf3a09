"""A contact's and a company's tickets on their pages: the Tickets card (support.cards), and
what matters to the customer of the tickets' events on their timelines."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm import services as crm_services
from crm.tenancy import activate
from support import services
from support.models import Status
from tests.factories import CompanyFactory, ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(acme, alice):
    company = CompanyFactory(org=acme, by=alice, name="Analytical Engines")
    return ContactFactory(org=acme, first_name="Ada", last_name="Lovelace",
                          email="ada@example.com", company=company)  # fmt: skip


def _text(body: bytes) -> str:
    """A page's words, without its tags."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body.decode())).split())


def _card(body: str) -> str:
    start = body.index('id="tickets"')
    return body[start : body.index("</section>", start)]


def _lines(card: str) -> list[str]:
    return [html.unescape(line.split("</a>")[0].split(">")[-1])
            for line in card.split('class="record-line__title"')[1:]]  # fmt: skip


def test_the_contact_page_lists_their_tickets_unsolved_first_soonest_due_first(
    client: Client, acme, alice, ada
) -> None:
    now = timezone.now()
    later = TicketFactory(org=acme, requester=ada, subject="Invoice copy", priority="low",
                          at=now - timedelta(hours=1))  # fmt: skip
    sooner = TicketFactory(org=acme, requester=ada, subject="Printer on fire",
                           priority="urgent", at=now - timedelta(hours=2))  # fmt: skip
    done = TicketFactory(org=acme, requester=ada, subject="Password reset")
    someone_else = ContactFactory(org=acme, first_name="Bea", email="bea@example.com")
    TicketFactory(org=acme, requester=someone_else, subject="Not hers")
    with activate(acme):
        services.ticket_update(org=acme, ticket=done, by=alice, status=Status.SOLVED)
        for ticket in (later, sooner):  # the due times come from the queue's policy, if any
            ticket.resolution_due = now + timedelta(hours=4 if ticket is later else 1)
            ticket.save(update_fields=["resolution_due"])
    client.force_login(alice)
    card = _card(client.get(f"/o/acme/contacts/{ada.pk}/").content.decode())
    assert _lines(card) == [
        f"#{sooner.number} Printer on fire", f"#{later.number} Invoice copy",
        f"#{done.number} Password reset",
    ]  # fmt: skip
    assert 'count-badge--quiet">2<' in card
    assert f"/o/acme/tickets/?requester={ada.pk}" in card
    assert "Not hers" not in card


def test_opening_a_ticket_from_the_contact_page_names_them_as_the_requester(
    client: Client, acme, alice, ada
) -> None:
    client.force_login(alice)
    card = _card(client.get(f"/o/acme/contacts/{ada.pk}/").content.decode())
    assert "No tickets yet." in card
    found = re.search(r'href="([^"]*/tickets/new/[^"]*)"', card)
    assert found is not None
    add = html.unescape(found[1])
    assert add == "/o/acme/tickets/new/?requester=ada%40example.com&requester_name=Ada+Lovelace"
    form = client.get(add).content.decode()
    assert 'value="ada@example.com"' in form
    assert 'value="Ada Lovelace"' in form


def test_a_viewer_sees_the_tickets_but_is_not_offered_to_open_one(
    client: Client, acme, ada, bob
) -> None:
    TicketFactory(org=acme, requester=ada, subject="Printer on fire")
    client.force_login(bob)
    card = _card(client.get(f"/o/acme/contacts/{ada.pk}/").content.decode())
    assert "Printer on fire" in card
    assert "Open a ticket" not in card


def test_a_member_limited_to_their_own_records_sees_only_the_tickets_assigned_to_them(
    client: Client, acme, alice, sam, ada
) -> None:
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"agent": "own"})
        ada.owner = sam
        ada.save(update_fields=["owner"])
    TicketFactory(org=acme, requester=ada, subject="His to answer", owner=sam)
    TicketFactory(org=acme, requester=ada, subject="Somebody else's", owner=alice)
    client.force_login(sam)
    card = _card(client.get(f"/o/acme/contacts/{ada.pk}/").content.decode())
    assert _lines(card)[0].endswith("His to answer")
    assert "Somebody else" not in card


def test_the_company_page_lists_its_tickets(client: Client, acme, alice, ada) -> None:
    ticket = TicketFactory(org=acme, requester=ada, company=ada.company, subject="Printer on fire")
    TicketFactory(org=acme, subject="Another company's")
    client.force_login(alice)
    card = _card(client.get(f"/o/acme/companies/{ada.company_id}/").content.decode())
    assert _lines(card) == [f"#{ticket.number} Printer on fire"]
    assert f"/o/acme/tickets/?company={ada.company_id}" in card
    assert "Open a ticket" not in card  # a ticket is a person's: opened from their page


def test_the_timelines_show_what_matters_to_the_customer_of_their_tickets_events(
    client: Client, acme, alice, sam, ada
) -> None:
    ticket = TicketFactory(org=acme, requester=ada, company=ada.company, subject="Printer on fire")
    with activate(acme):
        services.ticket_update(org=acme, ticket=ticket, by=alice, assignee=sam, priority="high")
        services.ticket_update(org=acme, ticket=ticket, by=alice, status=Status.SOLVED)
    client.force_login(alice)
    name = f"Ticket #{ticket.number} Printer on fire"
    for page in (f"/o/acme/contacts/{ada.pk}/", f"/o/acme/companies/{ada.company_id}/"):
        text = _text(client.get(page).content)
        assert f"{name} set to Solved by Alice Archer" in text, page
        assert f"{name} opened" in text, page
        # The agents' own changes stay on the ticket's page.
        assert "changed the priority" not in text, page
        assert "assigned it to" not in text, page
    # The ticket's own timeline still has them, and no "opened" line (its header says so).
    text = _text(client.get(f"/o/acme/tickets/{ticket.number}/").content)
    assert "changed the priority to High" in text
    assert "Printer on fire opened" not in text


def test_a_contact_s_timeline_pages_through_their_tickets_events_by_time(
    client: Client, acme, alice, ada
) -> None:
    start = timezone.now() - timedelta(days=30)
    for n in range(25):
        TicketFactory(org=acme, requester=ada, subject=f"Question {n:02d}",
                      at=start + timedelta(hours=n))  # fmt: skip
    client.force_login(alice)
    seen, token = [], ""
    url = f"/o/acme/contacts/{ada.pk}/interactions/"
    for _ in range(5):
        query = {"before": token} if token else {}
        response = client.get(url, query, headers={"HX-Request": "true"})
        body = html.unescape(response.content.decode())
        seen += [part.split("</a>")[0] for part in body.split("Question ")[1:]]
        older = re.search(r"before=([a-z]?[-0-9.]+)", body)
        if older is None:
            break
        token = older[1]
    assert seen == [f"{n:02d}" for n in reversed(range(25))]
