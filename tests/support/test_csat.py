"""support.csat and /csat/<token>/: the rating email sent when a ticket is solved, the page
its links open, the one answer each ticket takes, and the links that change nothing."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from crm.tenancy import activate
from support import csat, csat_tasks, services
from support.models import Status, SupportSettings, Ticket, TicketEvent
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/csat/[^/\s]+/)")


@pytest.fixture
def ticket(acme):
    ada = ContactFactory(org=acme, first_name="Ada", email="ada@engines.example")
    return TicketFactory(org=acme, requester=ada, subject="Printer on fire")


def _solve(org, ticket, capture, status=Status.SOLVED):
    with activate(org), capture(execute=True):
        services.ticket_update(org=org, ticket=ticket, by=None, status=status)


def _links(message) -> list[str]:
    return LINK.findall(message.body)


def _stored(org, ticket) -> Ticket:
    with activate(org):
        return Ticket.objects.get(pk=ticket.pk)


def _ratings(org, ticket) -> list[str]:
    with activate(org):
        return list(
            TicketEvent.objects.filter(ticket=ticket, kind="rated").values_list("new", flat=True)
        )


def test_it_emails_the_requester_five_links_when_the_ticket_is_solved(
    acme, ticket, django_capture_on_commit_callbacks
):
    _solve(acme, ticket, django_capture_on_commit_callbacks)
    [sent] = mail.outbox
    assert sent.to == ["ada@engines.example"]
    assert sent.subject == f"How did we do? [#{ticket.number}] Printer on fire"
    links = _links(sent)
    assert len(links) == len(set(links)) == 5
    assert "5 - Excellent" in sent.body
    assert "1 - Very poor" in sent.body
    html, _ = sent.alternatives[0]
    assert all(link in html for link in links)


def test_it_emails_once_per_solve(acme, ticket, django_capture_on_commit_callbacks):
    _solve(acme, ticket, django_capture_on_commit_callbacks)
    solved_at = _stored(acme, ticket).solved_at.isoformat()
    # The task delivered twice (a worker lost after sending), then the ticket closed.
    csat_tasks.csat_send(org_id=acme.pk, ticket_id=ticket.pk, solved_at=solved_at)
    _solve(acme, _stored(acme, ticket), django_capture_on_commit_callbacks, Status.CLOSED)
    assert len(mail.outbox) == 1


def test_it_asks_again_after_a_reopened_ticket_is_solved_again(
    acme, ticket, django_capture_on_commit_callbacks
):
    _solve(acme, ticket, django_capture_on_commit_callbacks)
    _solve(acme, _stored(acme, ticket), django_capture_on_commit_callbacks, Status.OPEN)
    _solve(acme, _stored(acme, ticket), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


def test_it_sends_nothing_when_ratings_are_off(acme, ticket, django_capture_on_commit_callbacks):
    with activate(acme):
        SupportSettings.objects.update_or_create(org=acme, defaults={"csat_enabled": False})
    _solve(acme, ticket, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_the_link_opens_a_page_whose_button_sends_the_rating(client: Client, acme, ticket):
    url = csat.csat_link(ticket, 4)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "4 out of 5" in body
    assert '<form method="post"' in body
    assert "Send my rating" in body
    # Opening the link (as a mail scanner does) records nothing.
    assert _stored(acme, ticket).csat_score is None
    assert "<script" not in body
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_button_records_the_score_an_event_and_says_thanks(client: Client, acme, ticket):
    response = client.post(csat.csat_link(ticket, 4))
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    stored = _stored(acme, ticket)
    assert (stored.csat_score, stored.csat_at is not None) == (4, True)
    assert _ratings(acme, ticket) == ["4/5"]


def test_a_second_click_or_another_score_is_refused_and_changes_nothing(
    client: Client, acme, ticket
):
    client.post(csat.csat_link(ticket, 4))
    again = client.post(csat.csat_link(ticket, 4))
    other = client.post(csat.csat_link(ticket, 1))
    assert (again.status_code, other.status_code) == (409, 409)
    assert "was rated 4 out of 5" in other.content.decode()
    assert "nothing was changed" in other.content.decode()
    assert "Already rated" in client.get(csat.csat_link(ticket, 2)).content.decode()
    assert _stored(acme, ticket).csat_score == 4
    assert _ratings(acme, ticket) == ["4/5"]


@pytest.mark.parametrize("change", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
    lambda token: "WzEsMiw1XQ" + token[token.index(":"):],  # the payload: [1,2,5]
    lambda token: "not-a-token",
])  # fmt: skip
def test_a_tampered_link_answers_400_and_changes_nothing(client: Client, acme, ticket, change):
    token = csat.csat_token(ticket, 5)
    for method in (client.get, client.post):
        response = method(f"/csat/{change(token)}/")
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert _stored(acme, ticket).csat_score is None
    assert _ratings(acme, ticket) == []


def test_an_expired_link_says_so_and_changes_nothing(client: Client, acme, ticket):
    url = csat.csat_link(ticket, 5)
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        response = client.post(url)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert _stored(acme, ticket).csat_score is None


def test_a_link_never_reaches_another_organisation_s_ticket(client: Client, acme, globex):
    theirs = TicketFactory(org=globex, requester=ContactFactory(org=globex, email="g@x.example"))
    # Genuinely signed, naming Acme with Globex's ticket: Acme's wall finds no such ticket.
    token = signing.dumps([acme.pk, theirs.pk, 1], salt=csat.SALT, compress=False)
    response = client.post(f"/csat/{token}/")
    assert response.status_code == 404
    assert _stored(globex, theirs).csat_score is None
    assert _ratings(globex, theirs) == []


def test_the_comment_is_kept_once(client: Client, acme, ticket):
    client.post(csat.csat_link(ticket, 2))
    url = f"/csat/{csat.csat_token(ticket, 2)}/comment/"
    first = client.post(url, {"comment": "Slow, but it works now."})
    second = client.post(url, {"comment": "Changed my mind."})
    assert (first.status_code, second.status_code) == (200, 409)
    assert "has its comment already" in second.content.decode()
    assert _stored(acme, ticket).csat_comment == "Slow, but it works now."


def test_a_comment_needs_the_rating_of_its_own_link(client: Client, acme, ticket):
    before = client.post(f"/csat/{csat.csat_token(ticket, 3)}/comment/", {"comment": "Hi"})
    client.post(csat.csat_link(ticket, 3))
    other = client.post(f"/csat/{csat.csat_token(ticket, 5)}/comment/", {"comment": "Great"})
    empty = client.post(f"/csat/{csat.csat_token(ticket, 3)}/comment/", {"comment": " "})
    assert (before.status_code, other.status_code, empty.status_code) == (409, 409, 400)
    assert _stored(acme, ticket).csat_comment == ""
