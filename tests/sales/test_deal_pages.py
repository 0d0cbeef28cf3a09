"""sales.views: a deal's page, its form, its stage path, won and lost, reopen and delete;
the Deals cards of contacts' and companies' pages."""

from decimal import Decimal

import pytest
from django.test import Client

from contacts.models import Company, Tag
from crm.tenancy import activate
from interactions.models import Interaction, Task
from sales import services
from sales.models import Deal, LostReason, Stage
from sales.pipelines import pipelines_ensure
from tests.factories import CompanyFactory, ContactFactory, DealFactory, InteractionFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _stage(org, name):
    with activate(org):
        pipelines_ensure(org=org)
        return Stage.objects.get(name=name, pipeline__name="Sales pipeline")


def _stored(org, deal):
    with activate(org):
        return Deal.objects.select_related("stage").filter(pk=deal.pk).first()


def _form(stage, **values):
    return {"title": "Northwind expansion", "stage": stage.pk, "amount": "12500",
            "currency": "USD", "close_date": "2030-03-31", "owner": "", "contact": "",
            "contacts": "", "company": "", "source": "", "tags": "", "lost_reason": "",
            "lost_note": "", **values}  # fmt: skip


def test_it_adds_a_deal_for_a_contact_and_opens_its_page(client: Client, acme, rita) -> None:
    ada = ContactFactory(org=acme, first_name="Ada", last_name="Lovelace", email="ada@ex.com")
    DealFactory(org=acme)  # the pipeline
    client.force_login(rita)
    assert (
        "Ada Lovelace &lt;ada@ex.com&gt;"
        in client.get(f"/o/acme/deals/new/?contact={ada.pk}").content.decode()
    )
    response = client.post("/o/acme/deals/new/", _form(
        _stage(acme, "Discovery"), contact="Ada Lovelace <ada@ex.com>", owner=rita.pk,
        company="Northwind", tags="Expansion"))  # fmt: skip
    with activate(acme):
        deal = Deal.objects.select_related("contact", "company", "stage").get(
            title="Northwind expansion"
        )
    assert response["Location"] == f"/o/acme/deals/{deal.pk}/"
    assert deal.company is not None
    assert (deal.contact, deal.company.name, deal.stage.name) == (ada, "Northwind", "Discovery")
    html = client.get(response["Location"]).content.decode()
    assert "$12,500" in html
    assert "Discovery" in html
    assert "Expansion" in html


@pytest.mark.parametrize(
    ("values", "message"),
    [({"amount": "-5"}, "cannot be negative"), ({"currency": "XYZ"}, "not one of"),
     ({"title": ""}, "required"), ({"contact": "nobody@nowhere.test"}, "No contact has")],
)  # fmt: skip
def test_bad_input_is_shown_by_its_field_and_adds_nothing(
    client: Client, acme, alice, values, message
) -> None:
    DealFactory(org=acme, title="Existing")
    client.force_login(alice)
    response = client.post("/o/acme/deals/new/", _form(_stage(acme, "Discovery"), **values))
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate(acme):
        assert Deal.objects.count() == 1


def test_a_stage_of_another_organisation_is_not_a_choice(client: Client, acme, globex, alice):
    DealFactory(org=acme)
    DealFactory(org=globex)
    theirs = _stage_in(globex)
    client.force_login(alice)
    response = client.post("/o/acme/deals/new/", _form(theirs))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def _stage_in(org):
    with activate(org):
        return Stage.objects.filter(kind="open").first()


def test_the_stage_path_moves_the_deal(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    client.force_login(alice)
    proposal = _stage(acme, "Proposal")
    response = client.post(f"/o/acme/deals/{deal.pk}/move/",
                           {"stage": proposal.pk, "from_stage": deal.stage_id})  # fmt: skip
    assert response.status_code == 302
    assert _stored(acme, deal).stage == proposal
    page = client.get(f"/o/acme/deals/{deal.pk}/").content.decode()
    assert "Moved “" in page
    assert "Qualification → <strong>Proposal</strong>" in page


def test_a_move_from_a_stale_page_changes_nothing(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    client.force_login(alice)
    client.post(f"/o/acme/deals/{deal.pk}/move/", {"stage": _stage(acme, "Proposal").pk})
    response = client.post(
        f"/o/acme/deals/{deal.pk}/move/",
        {"stage": _stage(acme, "Negotiation").pk, "from_stage": deal.stage_id}, follow=True,
    )  # fmt: skip
    assert "moved to Proposal meanwhile" in response.content.decode()
    assert _stored(acme, deal).stage.name == "Proposal"


def test_moving_into_a_lost_stage_asks_why_first(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    lost = _stage(acme, "Lost")
    client.force_login(alice)
    response = client.post(f"/o/acme/deals/{deal.pk}/move/", {"stage": lost.pk})
    form = response["Location"]
    assert form == f"/o/acme/deals/{deal.pk}/lost/?stage={lost.pk}"
    assert _stored(acme, deal).stage.name == "Qualification"
    refused = client.post(form, {"stage": lost.pk, "lost_reason": ""})
    assert "Say why the deal was lost." in refused.content.decode()
    with activate(acme):
        price = LostReason.objects.get(name="Price")
    client.post(form, {"stage": lost.pk, "lost_reason": price.pk, "lost_note": "Too dear"})
    stored = _stored(acme, deal)
    assert (stored.stage.name, stored.lost_note, stored.closed_at is not None) == (
        "Lost", "Too dear", True)  # fmt: skip


def test_won_then_reopened_in_the_stage_it_left(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, stage=_stage(acme, "Negotiation"))
    client.force_login(alice)
    won = _stage(acme, "Won").pk
    refused = client.post(f"/o/acme/deals/{deal.pk}/won/", {"stage": won, "reason": " "})
    assert "Say why they chose us." in refused.content.decode()
    assert _stored(acme, deal).stage.name == "Negotiation"
    client.post(f"/o/acme/deals/{deal.pk}/won/", {"stage": won, "reason": "Their CFO liked us"})
    assert _stored(acme, deal).stage.name == "Won"
    with activate(acme):  # why, as a note on its timeline
        note = Interaction.objects.get(deal=deal, channel="note")
    assert (note.subject, note.body) == (f"Won: {deal.title}", "Their CFO liked us")
    client.post(f"/o/acme/deals/{deal.pk}/reopen/")
    stored = _stored(acme, deal)
    assert (stored.stage.name, stored.closed_at) == ("Negotiation", None)


def test_a_rep_reads_a_colleagues_deal_but_may_not_change_it(client: Client, acme, alice, rita):
    deal = DealFactory(org=acme, owner=alice, title="Alice's deal")
    client.force_login(rita)
    page = client.get(f"/o/acme/deals/{deal.pk}/").content.decode()
    assert "Alice&#x27;s deal" in page
    assert f"/o/acme/deals/{deal.pk}/edit/" not in page
    for action in ("edit/", "won/", "lost/", "delete/"):
        assert client.get(f"/o/acme/deals/{deal.pk}/{action}").status_code == 403
    assert client.post(f"/o/acme/deals/{deal.pk}/move/",
                       {"stage": _stage(acme, "Proposal").pk}).status_code == 403  # fmt: skip
    assert _stored(acme, deal).stage.name == "Qualification"


def test_a_support_agent_sees_the_deal_but_not_its_amount(client: Client, acme, sam) -> None:
    deal = DealFactory(org=acme, amount=Decimal("48000"), title="Big one")
    client.force_login(sam)
    page = client.get(f"/o/acme/deals/{deal.pk}/").content.decode()
    assert "Big one" in page
    assert "48,000" not in page
    assert "Amount" not in page
    listing = client.get("/o/acme/deals/").content.decode()
    assert "Big one" in listing
    assert "48,000" not in listing
    assert "48,000" not in client.get("/o/acme/deals/?columns=title,amount").content.decode()
    assert client.get("/o/acme/deals/?sort=-amount&amount_min=40000").status_code == 200


def test_another_organisation_gets_404_for_every_deal_page(client: Client, acme, charlie):
    deal = DealFactory(org=acme)
    client.force_login(charlie)
    for path in ("", "edit/", "won/", "lost/", "delete/"):
        assert client.get(f"/o/globex/deals/{deal.pk}/{path}").status_code == 404
    for path in ("move/", "reopen/"):
        assert client.post(f"/o/globex/deals/{deal.pk}/{path}").status_code == 404


def test_deleting_moves_it_to_the_trash(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    client.force_login(alice)
    assert "Move to Trash" in client.get(f"/o/acme/deals/{deal.pk}/delete/").content.decode()
    response = client.post(f"/o/acme/deals/{deal.pk}/delete/", follow=True)
    assert "Trash" in response.content.decode()
    with activate(acme):
        assert Deal.objects.get(pk=deal.pk).deleted_at is not None


def test_logging_on_the_deal_links_its_contact_and_company(client: Client, acme, alice) -> None:
    company = CompanyFactory(org=acme, name="Globe Ltd")
    ada = ContactFactory(org=acme, first_name="Ada", company=company)
    deal = DealFactory(org=acme, contact=ada)
    client.force_login(alice)
    response = client.post(f"/o/acme/deals/{deal.pk}/interactions/", {
        "channel": "call", "direction": "outbound", "occurred_at": "2026-03-01T10:00",
        "subject": "Pricing call"}, headers=HTMX)  # fmt: skip
    assert "Pricing call" in response.content.decode()
    with activate(acme):
        logged = Interaction.objects.get(subject="Pricing call")
    assert (logged.deal_id, logged.contact_id, logged.company_id) == (deal.pk, ada.pk, company.pk)
    assert "Pricing call" in client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()


def test_a_task_added_on_the_deal_is_the_deals(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    client.force_login(alice)
    form = {"deal": deal.pk, "title": "Send the contract", "due_at": "2030-01-01T09:00",
            "priority": "normal"}  # fmt: skip
    response = client.post("/o/acme/tasks/new/", form, headers=HTMX)
    assert "Send the contract" in response.content.decode()
    with activate(acme):
        assert Task.objects.get(title="Send the contract").deal_id == deal.pk


def test_stage_changes_show_on_the_contacts_timeline(client: Client, acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada")
    deal = DealFactory(org=acme, contact=ada, title="Engine order", by=alice)
    InteractionFactory(org=acme, contact=ada, subject="First call")
    client.force_login(alice)
    client.post(f"/o/acme/deals/{deal.pk}/move/", {"stage": _stage(acme, "Proposal").pk})
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "Engine order" in page
    assert "to <strong>Proposal</strong>" in page
    assert "First call" in page


def test_the_contact_page_lists_its_deals(client: Client, acme, alice, sam) -> None:
    ada = ContactFactory(org=acme, first_name="Ada")
    DealFactory(org=acme, contact=ada, title="Open one", amount=Decimal("900"))
    client.force_login(alice)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert 'id="deals"' in page
    assert "Open one" in page
    assert "$900" in page
    client.force_login(sam)
    page = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    assert "Open one" in page
    assert "$900" not in page


@pytest.mark.parametrize("count", [2, 12])
def test_the_deal_page_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, count, django_assert_max_num_queries
) -> None:
    ada = ContactFactory(org=acme, first_name="Ada")
    deal = DealFactory(org=acme, contact=ada, tags=["Hot"])
    for _ in range(count):
        InteractionFactory(org=acme, contact=ada, deal=deal)
    client.force_login(alice)
    client.get(f"/o/acme/deals/{deal.pk}/")
    with django_assert_max_num_queries(QUERIES):
        assert client.get(f"/o/acme/deals/{deal.pk}/").status_code == 200


QUERIES = 15


def test_the_form_closes_no_deal_a_lost_one_says_why_on_its_own(client: Client, acme, alice):
    DealFactory(org=acme)
    client.force_login(alice)
    html = client.get("/o/acme/deals/new/").content.decode()
    assert "Sales pipeline · Lost" not in html
    assert "Lost reason" not in html
    assert "Sales pipeline · Won" in html  # a deal won already may be recorded as such


def test_the_list_offers_the_board(client: Client, acme, alice) -> None:
    DealFactory(org=acme, title="Listed")
    client.force_login(alice)
    html = client.get("/o/acme/deals/").content.decode()
    assert "Listed" in html
    assert 'href="/o/acme/deals/board/">Board</a>' in html


def test_a_refused_deal_leaves_no_company_or_tag_behind(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Existing")
    opened = deal.updated_at.isoformat()
    with activate(acme):  # another tab saves first
        services.deal_update(org=acme, deal=deal, by=alice, source="Referral")
    client.force_login(alice)
    response = client.post(f"/o/acme/deals/{deal.pk}/edit/", _form(
        _stage(acme, "Qualification"), title="Second tab", version=opened,
        company="Brand New Ltd", tags="Fresh tag"))  # fmt: skip
    assert "since you opened this form" in response.content.decode()
    with activate(acme):
        assert not Company.objects.filter(name="Brand New Ltd").exists()
        assert not Tag.objects.filter(name="Fresh tag").exists()
        assert Deal.objects.get(pk=deal.pk).title == "Existing"


@pytest.mark.parametrize("value", ["99999999999999999999", "²", "-1", "x"])
def test_ids_no_database_can_hold_answer_without_an_error(client: Client, acme, alice, value):
    deal = DealFactory(org=acme)
    client.force_login(alice)
    for path in (f"/o/acme/deals/new/?pipeline={value}&contact={value}",
                 f"/o/acme/deals/new/?company={value}",
                 f"/o/acme/deals/{deal.pk}/won/?stage={value}",
                 f"/o/acme/deals/{deal.pk}/lost/?stage={value}"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    moved = client.post(f"/o/acme/deals/{deal.pk}/move/",
                        {"stage": _stage(acme, "Proposal").pk, "from_stage": value})  # fmt: skip
    assert moved.status_code == 302
    assert client.post(f"/o/acme/deals/{deal.pk}/move/", {"stage": value}).status_code == 302
