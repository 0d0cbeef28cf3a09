"""Every main page, at a desktop's 1280x800 and a phone's 390x844: axe finds nothing serious
or critical, the page never scrolls sideways, and a full-page screenshot is left in
artifacts/screenshots/<page>-<width>.png for a person to look at (CI says where when the
tests fail).

One test per width, each walking through every page in one browser tab: seeding the
organisation and signing in once keeps the whole module within a few tens of seconds.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from contacts.models import Company, Contact, Segment
from contacts.segments import services as segment_services
from crm import services
from crm.models import Membership, Organization, User
from crm.records.duplicates import duplicates_find
from crm.tenancy import activate
from interactions.models import Task
from interactions.reminders import reminders_run
from interactions.services import task_complete
from sales import services as services_sales
from sales.models import Deal, ExchangeRate, Stage
from support import services as services_support
from support.models import BusinessCalendar, CannedReply, SlaPolicy, SlaTarget, Ticket
from tests.conftest import ROOT, member
from tests.e2e import axe
from tests.e2e.conftest import CHROMIUM, IN_CI, log_in
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    InteractionFactory,
    QueueFactory,
    TaskFactory,
    TicketFactory,
    trash,
)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason="no chromium on PATH"),
    pytest.mark.django_db(transaction=True),
]

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SIZES = {1280: 800, 390: 844}

# Pages seen signed out, then signed in as an admin: name → path ({contact}, {company},
# {task} and {deal} stand for a seeded record's id, {ticket} for a ticket's number).
SIGNED_OUT = {"login": "/accounts/login/", "signup": "/accounts/signup/"}
SIGNED_IN = {
    "home": "/o/acme/",
    "contacts": "/o/acme/contacts/",
    "contact": "/o/acme/contacts/{contact}/",
    "contact-new": "/o/acme/contacts/new/",
    "companies": "/o/acme/companies/",
    "company": "/o/acme/companies/{company}/",
    "import": "/o/acme/contacts/import/",
    "duplicates": "/o/acme/contacts/duplicates/",
    "trash": "/o/acme/trash/",
    "interactions": "/o/acme/interactions/",
    "tasks": "/o/acme/tasks/",
    "task": "/o/acme/tasks/{task}/",
    "task-new": "/o/acme/tasks/new/",
    "deals": "/o/acme/deals/",
    "deal": "/o/acme/deals/{deal}/",
    "deal-new": "/o/acme/deals/new/",
    "deal-lost": "/o/acme/deals/{deal}/lost/",
    "board": "/o/acme/deals/board/",
    "dashboard": "/o/acme/dashboards/pipeline/",
    "notifications": "/o/acme/notifications/",
    "settings-profile": "/o/acme/settings/",
    "settings-members": "/o/acme/settings/members/",
    "settings-teams": "/o/acme/settings/teams/",
    "settings-permissions": "/o/acme/settings/permissions/",
    "settings-security": "/o/acme/settings/security/",
    "settings-audit": "/o/acme/settings/audit/",
    "settings-pipelines": "/o/acme/settings/pipelines/",
    "settings-lost-reasons": "/o/acme/settings/lost-reasons/",
    "settings-exchange-rates": "/o/acme/settings/exchange-rates/",
    "settings-targets": "/o/acme/settings/targets/",
    "tickets": "/o/acme/tickets/",
    "tickets-mine": "/o/acme/tickets/?inbox=mine&sort=due",
    "ticket": "/o/acme/tickets/{ticket}/",
    "ticket-new": "/o/acme/tickets/new/",
    "ticket-merge": "/o/acme/tickets/{ticket}/merge/",
    "support-dashboard": "/o/acme/dashboards/support/",
    "settings-queues": "/o/acme/settings/queues/",
    "settings-sla-policies": "/o/acme/settings/sla-policies/",
    "settings-business-hours": "/o/acme/settings/business-hours/",
    "settings-canned-replies": "/o/acme/settings/canned-replies/",
    "settings-support": "/o/acme/settings/support/",
    "segments": "/o/acme/segments/",
    "segment": "/o/acme/segments/{segment}/?contact={contact}#why",
    "segment-new": "/o/acme/segments/new/",
    "segment-edit": "/o/acme/segments/{segment}/edit/",
    "account-email": "/accounts/email/",
    "account-password": "/accounts/password/change/",
    "account-two-factor": "/accounts/2fa/",
}


def _tickets(acme: Organization, alice: User, ada: Contact) -> Ticket:
    """Two queues under a policy, tickets in several states, one with its conversation."""
    with activate(acme):
        calendar = BusinessCalendar.objects.create(org=acme, name="Office hours", zone="UTC")
        policy = SlaPolicy.objects.create(org=acme, name="Standard", calendar=calendar,
                                          is_default=True)  # fmt: skip
        for priority in ("low", "normal", "high", "urgent"):
            SlaTarget.objects.create(org=acme, policy=policy, priority=priority,
                                     first_response_minutes=60, resolution_minutes=480)  # fmt: skip
        thanks = "Hi {{ contact.first_name }}, thanks for writing."
        CannedReply.objects.create(org=acme, name="Thanks", body=thanks)
    billing = QueueFactory(org=acme, name="Billing", email="billing@acme.example")
    QueueFactory(org=acme, name="Technical")
    ticket = TicketFactory(org=acme, by=None, queue=billing, requester=ada, priority="high",
                           subject="Charged twice this month", owner=alice,
                           description="Hello, I was charged twice. Can you help?")  # fmt: skip
    TicketFactory(org=acme, queue=billing, requester=ada, subject="Invoice copy")
    with activate(acme):
        services_support.ticket_note(org=acme, ticket=ticket, by=alice, body="Checked: true.")
    return ticket


def _seed(acme: Organization, alice: User) -> tuple[Contact, Company, Task, Deal]:
    """An organisation in use: companies, tagged contacts, a likely duplicate, something in
    the Trash, a team, interactions and tasks (one late, one today, one done), deals in
    several stages (one won, one in euros), and the audit events all of that wrote."""
    northwind = CompanyFactory(org=acme, by=alice, name="Northwind Traders",
                               domain="northwind.example", industry="Wholesale")  # fmt: skip
    CompanyFactory(org=acme, by=alice, name="Initech", domain="initech.example")
    ada = ContactFactory(
        org=acme, by=alice, first_name="Ada", last_name="Lovelace", email="ada@northwind.example",
        phone="+442079460958", job_title="Head of Engineering", company=northwind,
        city="London", country="GB", tags=("VIP", "Renewal"),
    )  # fmt: skip
    for first, last in [("Grace", "Hopper"), ("Alan", "Turing"), ("Katherine", "Johnson"),
                        ("Edsger", "Dijkstra"), ("Barbara", "Liskov")]:  # fmt: skip
        ContactFactory(org=acme, by=alice, first_name=first, last_name=last,
                       email=f"{first.lower()}@example.com", company=northwind)  # fmt: skip
    ContactFactory(org=acme, by=alice, first_name="Ada", last_name="King",
                   email="ADA@northwind.example")  # fmt: skip
    trash(acme, ContactFactory(org=acme, by=alice, first_name="Old", last_name="Lead"), by=alice)
    rita = member(acme, "rita@acme.test", "rep")
    with activate(acme):
        duplicates_find(org=acme)
        lead = Membership.objects.get(user=alice)
        services.team_save(org=acme, by=alice, name="Sales", lead=lead,
                           members=[Membership.objects.get(user=rita)])  # fmt: skip
    InteractionFactory(org=acme, by=alice, contact=ada, channel="meeting", direction="outbound",
                       subject="Quarterly review", body="Walked through the roadmap.")  # fmt: skip
    now = timezone.now()
    mine: dict[str, Any] = {"org": acme, "by": alice, "owner": alice, "contact": ada}
    late = TaskFactory(**mine, priority="high", title="Send the revised proposal",
                       due_at=now - timedelta(days=1))  # fmt: skip
    TaskFactory(**mine, title="Call back about pricing", due_at=now + timedelta(hours=1),
                reminder_at=now - timedelta(minutes=5))  # fmt: skip
    done = TaskFactory(**mine, title="Book the demo")
    with activate(acme):
        task_complete(org=acme, task=done, by=alice)
        reminders_run(org=acme)  # the bell has one unread
        ExchangeRate.objects.create(org=acme, currency="EUR", rate=Decimal("1.08"),
                                    valid_from=date(2026, 1, 1))  # fmt: skip
    deal = DealFactory(org=acme, by=alice, title="Northwind expansion", owner=alice,
                       contact=ada, amount=Decimal("48000"), close_date=date(2027, 2, 15),
                       tags=["Expansion"])  # fmt: skip
    for title, amount, currency in [("Initech pilot", "12500", "USD"),
                                    ("Hopper consulting", "8200", "EUR"),
                                    ("Turing renewal", "31000", "USD")]:  # fmt: skip
        DealFactory(org=acme, by=alice, title=title, owner=rita, amount=Decimal(amount),
                    currency=currency)  # fmt: skip
    with activate(acme):
        proposal = Stage.objects.get(name="Proposal")
        services_sales.deal_move(org=acme, deal=deal, stage=proposal, by=alice)
        won = Deal.objects.get(title="Turing renewal")
        services_sales.deal_move(org=acme, deal=won, stage=Stage.objects.get(name="Won"),
                                 by=alice)  # fmt: skip
    InteractionFactory(org=acme, by=alice, contact=ada, deal=deal, channel="call",
                       direction="outbound", subject="Pricing for 40 seats")  # fmt: skip
    return ada, northwind, late, deal


def _segment(acme: Organization, alice: User) -> Segment:
    """A segment with nested rules, refreshed twice (its size over time has a line)."""
    tree = {"match": "all", "rules": [
        {"field": "company.industry", "op": "contains", "value": "wholesale"},
        {"match": "any", "rules": [
            {"field": "interactions.count", "op": "gte", "value": 1,
             "params": {"days": 30, "channel": "meeting"}},
            {"field": "deals.open_amount", "op": "gte", "value": 10000}]}]}  # fmt: skip
    with activate(acme):
        segment = segment_services.segment_save(
            org=acme, by=alice, name="Wholesale, engaged", description="Worth a call.",
            rules_tree=tree,
        )  # fmt: skip
        for _ in range(2):
            segment_services.segment_refresh(org=acme, segment_id=segment.pk, by=alice)
    return segment


def _look_at(page: Page, name: str, width: int) -> list[str]:
    """Screenshot the page as loaded, then what is wrong with it."""
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    problems = []
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if scroll > inner:
        problems.append(f"{name} at {width}px scrolls sideways: {scroll}px wide")
    # Menus, filter panels and the like are <details>: open, axe checks what is inside.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
    found = axe.blocking(axe.violations(page))
    if found:
        problems.append(f"{name} at {width}px, axe finds:\n{axe.describe(found)}")
    return problems


@pytest.mark.parametrize("width", SIZES)
def test_it_shows_every_main_page_whole_and_accessible(
    page: Page, live_server: Any, acme: Organization, alice: User, width: int
) -> None:
    contact, company, task, deal = _seed(acme, alice)
    ticket = _tickets(acme, alice, contact)
    segment = _segment(acme, alice)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    problems = []
    for name, path in SIGNED_OUT.items():
        page.goto(f"{live_server.url}{path}")
        problems += _look_at(page, name, width)
    log_in(page, live_server.url, alice.email)
    for name, path in SIGNED_IN.items():
        response = page.goto(
            live_server.url
            + path.format(
                contact=contact.pk,
                company=company.pk,
                task=task.pk,
                deal=deal.pk,
                ticket=ticket.number,
                segment=segment.pk,
            )
        )
        assert response is not None, name
        assert response.ok, f"{name} answers {response.status}"
        problems += _look_at(page, name, width)
    assert not problems, "\n".join(problems)
