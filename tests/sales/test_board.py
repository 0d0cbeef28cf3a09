"""sales.board_views: the deal board at /o/<org>/deals/board/, its columns and totals,
its filters, and moving a deal on it by drag (htmx) or by its stage form (a plain post)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from crm.tenancy import activate
from sales import services
from sales.models import Deal, ExchangeRate, Pipeline, Stage
from sales.pipelines import pipelines_ensure
from tests.factories import CompanyFactory, DealFactory, PipelineFactory, trash

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
URL = "/o/acme/deals/board/"


def _stage(org, name, pipeline=None):
    """A stage of `pipeline`, else of the first (made if there is none yet)."""
    with activate(org):
        pipelines_ensure(org=org)
        found = Stage.objects.filter(name=name)
        return (
            found.get(pipeline=pipeline)
            if pipeline
            else found.order_by("pipeline__position").first()
        )


def _stored(org, deal):
    with activate(org):
        return Deal.objects.select_related("stage").get(pk=deal.pk)


def _first_pipeline(org):
    with activate(org):
        return Pipeline.objects.order_by("position").first()


def _column(html, stage):
    """One column of the board's HTML."""
    return html.split(f'id="stage-{stage.pk}"')[1].split("</section>")[0]


def _move_url(org):
    return f"/o/{org.slug}/deals/board/{_first_pipeline(org).pk}/move/"


# --- The board -------------------------------------------------------------------------------


def test_it_shows_each_stage_with_its_deals(client: Client, acme, alice) -> None:
    DealFactory(org=acme, title="Anvils for Acme")
    DealFactory(org=acme, title="Rockets", stage=_stage(acme, "Proposal"))
    client.force_login(alice)
    html = client.get(URL).content.decode()
    for name in ("Qualification", "Discovery", "Proposal", "Negotiation", "Won", "Lost"):
        assert f"<span>{name}</span>" in html
    proposal = _column(html, _stage(acme, "Proposal"))
    assert "Rockets" in proposal
    assert "Anvils for Acme" not in proposal
    assert "Anvils for Acme" in _column(html, _stage(acme, "Qualification"))
    assert "Closed in the last 30 days" in html


def test_the_totals_convert_other_currencies_at_their_rate(client: Client, acme, alice) -> None:
    with activate(acme):
        ExchangeRate.objects.create(org=acme, currency="EUR", rate=Decimal("1.5"),
                                    valid_from=date(2020, 1, 1))  # fmt: skip
    proposal = _stage(acme, "Proposal")  # 50%
    DealFactory(org=acme, stage=proposal, amount=Decimal(1000), currency="USD")
    DealFactory(org=acme, stage=proposal, amount=Decimal(2000), currency="EUR")
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert 'title="$4,000 in all">$4k</span>' in html  # 1,000 + 2,000 at 1.5
    assert "$2k weighted" in html
    assert "€2,000" in html  # the card keeps the deal's own currency


def test_the_totals_count_every_deal_not_only_the_cards_shown(client: Client, acme, alice) -> None:
    for n in range(53):
        DealFactory(org=acme, title=f"Bulk {n:02d}", amount=Decimal(100))
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert html.count('<li class="board-card') == 50
    assert 'title="53 deals">53</span>' in html
    assert 'title="$5,300 in all"' in html
    assert "Show 3 more" in html


def test_show_more_adds_a_columns_next_cards(client: Client, acme, alice) -> None:
    for n in range(53):
        DealFactory(org=acme, title=f"Bulk {n:02d}")
    qualification = _stage(acme, "Qualification")
    client.force_login(alice)
    more = f"{URL}?stage={qualification.pk}&show=100"
    fragment = client.get(more, headers=HTMX).content.decode()
    assert fragment.count('<li class="board-card') == 3
    assert "Bulk 00" in fragment  # the oldest touched come last
    assert "Show" not in fragment
    page = client.get(more).content.decode()  # without JavaScript: the whole board, longer
    assert page.count('<li class="board-card') == 53


def test_won_and_lost_columns_show_only_recent_closings(client: Client, acme, alice) -> None:
    won = _stage(acme, "Won")
    DealFactory(org=acme, title="Won last week", stage=won)
    old = DealFactory(org=acme, title="Won long ago", stage=won)
    with activate(acme):
        Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=31))
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert "Won last week" in html
    assert "Won long ago" not in html


def test_a_stage_archived_with_deals_in_it_has_no_column(client: Client, acme, alice) -> None:
    DealFactory(org=acme, title="Kept", stage=_stage(acme, "Proposal"))
    DealFactory(org=acme, title="Shown")
    with activate(acme):
        Stage.objects.filter(name="Proposal").update(is_archived=True)
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert "Shown" in html
    assert "<span>Proposal</span>" not in html


def test_a_card_marks_a_late_close_and_a_stale_deal(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Dusty", owner=alice, close_date=date(2020, 1, 2))
    now = timezone.now()
    with activate(acme):
        Deal.objects.filter(pk=deal.pk).update(
            touched_at=now - timedelta(days=20), stage_entered_at=now - timedelta(days=9)
        )
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert 'class="board-card is-stale"' in html
    assert 'class="is-overdue" datetime="2020-01-02"' in html
    assert "9d<span" in html
    assert 'title="Alice Archer"' in html  # the owner's avatar


def test_filters_narrow_the_cards_and_the_totals(client: Client, acme, alice, rita) -> None:
    DealFactory(org=acme, title="Rita's", owner=rita, amount=Decimal(700))
    DealFactory(org=acme, title="Alice's", owner=alice, amount=Decimal(300))
    client.force_login(alice)
    html = client.get(f"{URL}?owner={rita.pk}").content.decode()
    assert "Rita&#x27;s" in html or "Rita's" in html
    assert "Alice&#x27;s" not in html
    assert 'title="$700 in all"' in html
    narrowed = client.get(f"{URL}?amount_min=500", headers=HTMX).content.decode()
    assert narrowed.lstrip().startswith('<div id="board"')
    assert 'title="$700 in all"' in narrowed
    assert 'id="board-filter-state" hx-swap-oob="true"' in narrowed  # with "Clear filters"
    assert ">Clear filters</a>" in narrowed


def test_a_company_filter_names_the_company(client: Client, acme, alice) -> None:
    initech = CompanyFactory(org=acme, name="Initech")
    DealFactory(org=acme, title="Initech deal", company=initech)
    DealFactory(org=acme, title="Another deal")
    client.force_login(alice)
    html = client.get(f"{URL}?company={initech.pk}").content.decode()
    assert "Initech deal" in html
    assert "Another deal" not in html
    assert '<span class="chip__label">Company:</span> Initech' in html


def test_a_filter_that_matches_nothing_says_so(client: Client, acme, alice) -> None:
    DealFactory(org=acme, amount=Decimal(10))
    client.force_login(alice)
    html = client.get(f"{URL}?amount_min=1000").content.decode()
    assert "No deals match these filters" in html
    assert f'href="/o/acme/deals/board/{_first_pipeline(acme).pk}/">Clear filters' in html


def test_an_empty_pipeline_says_so_with_a_new_deal_button(client: Client, acme, alice) -> None:
    client.force_login(alice)
    html = client.get(URL).content.decode()  # the first visit makes the first pipeline
    pipeline = _first_pipeline(acme)
    assert f"No deals in {pipeline.name} yet" in html
    assert f'href="/o/acme/deals/new/?pipeline={pipeline.pk}"' in html


def test_it_switches_between_pipelines(client: Client, acme, alice) -> None:
    DealFactory(org=acme, title="First pipeline's")
    renewals = PipelineFactory(org=acme, name="Renewals")
    DealFactory(org=acme, title="A renewal", stage=_stage(acme, "Qualification", renewals))
    client.force_login(alice)
    html = client.get(f"{URL}{renewals.pk}/").content.decode()
    assert "A renewal" in html
    assert "First pipeline&#x27;s" not in html
    assert f'href="/o/acme/deals/board/{renewals.pk}/" aria-current="page">Renewals</a>' in html
    assert f'href="/o/acme/deals/?pipeline={renewals.pk}">List</a>' in html


# --- Who sees what ---------------------------------------------------------------------------


def test_an_agent_sees_no_amounts(client: Client, acme, sam) -> None:
    DealFactory(org=acme, title="Priced", amount=Decimal("12345"))
    client.force_login(sam)
    html = client.get(URL).content.decode()
    assert "Priced" in html
    assert "12,345" not in html
    assert "$12.3k" not in html
    assert "weighted" not in html
    assert 'name="amount_min"' not in html


def test_a_viewer_sees_the_board_read_only(client: Client, acme, bob) -> None:
    DealFactory(org=acme, title="Look only")
    client.force_login(bob)
    html = client.get(URL).content.decode()
    assert "Look only" in html
    assert 'draggable="true"' not in html
    assert 'name="stage"' not in html
    assert "New deal" not in html


def test_a_rep_may_move_only_their_own_deals(client: Client, acme, alice, rita) -> None:
    mine = DealFactory(org=acme, title="Mine", owner=rita)
    theirs = DealFactory(org=acme, title="Theirs", owner=alice)
    client.force_login(rita)
    html = client.get(URL).content.decode()
    assert f'id="deal-{mine.pk}" data-stage="{mine.stage_id}" draggable="true"' in html
    assert f'id="deal-{theirs.pk}" data-stage="{theirs.stage_id}">' in html
    proposal = _stage(acme, "Proposal")
    data = {"deal": theirs.pk, "from_stage": theirs.stage_id, "stage": proposal.pk}
    assert client.post(_move_url(acme), data, headers=HTMX).status_code == 403
    assert _stored(acme, theirs).stage_id == theirs.stage_id
    data["deal"] = mine.pk
    assert client.post(_move_url(acme), data, headers=HTMX).status_code == 200
    assert _stored(acme, mine).stage_id == proposal.pk


@pytest.mark.parametrize("user", ["bob", "sam"])
def test_viewers_and_agents_may_not_move(client: Client, acme, alice, user, request) -> None:
    deal = DealFactory(org=acme, owner=alice)
    client.force_login(request.getfixturevalue(user))
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": _stage(acme, "Proposal").pk}
    assert client.post(_move_url(acme), data).status_code == 403


# --- Moving ----------------------------------------------------------------------------------


def test_a_drop_moves_the_deal_and_answers_the_board(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Dragged", amount=Decimal(400))
    proposal = _stage(acme, "Proposal")
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": proposal.pk}
    response = client.post(_move_url(acme), data, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "Moved “Dragged” to Proposal." in html
    column = _column(html, proposal)
    assert "Dragged" in column
    assert 'title="$400 in all"' in column
    assert _stored(acme, deal).stage_id == proposal.pk


def test_choosing_the_stage_it_is_in_changes_nothing(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Staying")
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": deal.stage_id}
    html = client.post(_move_url(acme), data, headers=HTMX).content.decode()
    assert "“Staying” is already in Qualification." in html
    with activate(acme):
        assert Deal.objects.get(pk=deal.pk).stage_changes.count() == 1  # its creation only


def test_the_plain_form_moves_and_redirects_back(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="No script", owner=alice)
    negotiation = _stage(acme, "Negotiation")
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": negotiation.pk}
    response = client.post(f"{_move_url(acme)}?owner={alice.pk}", data)
    board = f"/o/acme/deals/board/{_first_pipeline(acme).pk}/?owner={alice.pk}"
    assert response["Location"] == board
    assert _stored(acme, deal).stage_id == negotiation.pk
    assert "Moved “No script” to Negotiation." in client.get(board).content.decode()


def test_a_stale_move_answers_409_and_changes_nothing(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Raced")
    qualification, discovery = _stage(acme, "Qualification"), _stage(acme, "Discovery")
    with activate(acme):
        services.deal_move(org=acme, deal=deal, stage=discovery, by=alice)  # a colleague, first
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": qualification.pk, "stage": _stage(acme, "Proposal").pk}
    response = client.post(_move_url(acme), data, headers=HTMX)
    assert response.status_code == 409
    assert "was moved to Discovery meanwhile" in response.content.decode()
    assert _stored(acme, deal).stage_id == discovery.pk


def test_a_stale_plain_move_redirects_with_the_message(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Raced")
    discovery = _stage(acme, "Discovery")
    with activate(acme):
        services.deal_move(org=acme, deal=deal, stage=discovery, by=alice)
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": _stage(acme, "Qualification").pk,
            "stage": _stage(acme, "Proposal").pk}  # fmt: skip
    response = client.post(_move_url(acme), data, follow=True)
    assert "was moved to Discovery meanwhile" in response.content.decode()
    assert _stored(acme, deal).stage_id == discovery.pk


def test_a_deal_deleted_meanwhile_says_so(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme, title="Binned")
    trash(acme, deal, by=alice)
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": _stage(acme, "Proposal").pk}
    response = client.post(_move_url(acme), data, headers=HTMX)
    assert response.status_code == 409
    assert "“Binned” was deleted meanwhile: nothing was moved." in response.content.decode()


def test_a_stage_of_another_pipeline_is_refused(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    renewals = PipelineFactory(org=acme, name="Renewals")
    elsewhere = _stage(acme, "Proposal", renewals)
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": elsewhere.pk}
    response = client.post(_move_url(acme), data, headers=HTMX)
    assert response.status_code == 400
    assert "That stage belongs to another pipeline" in response.content.decode()
    assert _stored(acme, deal).stage_id == deal.stage_id
    # Nor on that pipeline's own board: the deal is not in it.
    response = client.post(f"/o/acme/deals/board/{renewals.pk}/move/", data, headers=HTMX)
    assert response.status_code == 400
    assert _stored(acme, deal).stage_id == deal.stage_id


def test_a_lost_stage_asks_why_first(client: Client, acme, alice) -> None:
    deal = DealFactory(org=acme)
    lost = _stage(acme, "Lost")
    client.force_login(alice)
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": lost.pk}
    board = f"/o/acme/deals/board/{_first_pipeline(acme).pk}/"
    form = f"/o/acme/deals/{deal.pk}/lost/?stage={lost.pk}&next=%2Fo%2Facme%2Fdeals%2Fboard%2F"
    response = client.post(_move_url(acme), data, headers=HTMX)
    assert response["HX-Redirect"].startswith(form)
    assert response["HX-Redirect"].endswith(
        board.removeprefix("/o/acme/deals/board/").replace("/", "%2F")
    )
    assert client.post(_move_url(acme), data)["Location"] == response["HX-Redirect"]
    assert _stored(acme, deal).stage_id == deal.stage_id
    assert client.get(form).status_code == 200  # the deal's page asks why


# --- Other organisations and query counts ---------------------------------------------------


def test_other_organisations_ids_answer_404(client: Client, acme, globex, charlie) -> None:
    deal = DealFactory(org=acme)
    pipeline = _first_pipeline(acme)
    DealFactory(org=globex)  # Globex's own first pipeline
    client.force_login(charlie)
    assert client.get(URL).status_code == 404
    assert client.get(f"/o/globex/deals/board/{pipeline.pk}/").status_code == 404
    data = {"deal": deal.pk, "from_stage": deal.stage_id, "stage": deal.stage_id}
    assert client.post(f"/o/globex/deals/board/{pipeline.pk}/move/", data).status_code == 404
    ours = _first_pipeline(globex)
    assert client.post(f"/o/globex/deals/board/{ours.pk}/move/", data).status_code == 404
    theirs = {"stage": deal.stage_id, "show": "100"}
    assert client.get(f"/o/globex/deals/board/{ours.pk}/", theirs, headers=HTMX).status_code == 404
    assert _stored(acme, deal).stage_id == deal.stage_id


@pytest.mark.parametrize("count", [3, 60])
def test_the_board_reads_a_fixed_number_of_queries(
    client: Client, acme, alice, rita, count, django_assert_max_num_queries
) -> None:
    stages = [_stage(acme, name) for name in ("Qualification", "Proposal", "Won")]
    company = CompanyFactory(org=acme, name="Initech")
    for n in range(count):
        DealFactory(org=acme, title=f"Deal {n}", stage=stages[n % 3], owner=rita,
                    company=company, amount=Decimal(10), tags=["hot"])  # fmt: skip
    client.force_login(alice)
    client.get(URL)
    with django_assert_max_num_queries(BOARD_QUERIES):
        html = client.get(f"{URL}?tag=&owner={rita.pk}").content.decode()
    assert html.count('<li class="board-card') == count


# The user, the tenancy's own (the member and their organisation, three settings, a savepoint
# and its release), the pipelines, the stages, the owner filtered on, the totals, the cards,
# and the owners and tags to choose from: as many for 60 deals as for 3.
BOARD_QUERIES = 14


@pytest.mark.parametrize("stages", [2, 12])
def test_the_query_count_does_not_grow_with_the_stages(
    client: Client, acme, alice, stages, django_assert_max_num_queries
) -> None:
    wide = PipelineFactory(org=acme, name="Wide", stages=tuple(
        (f"Step {n}", 10, Stage.Kind.OPEN) for n in range(stages)))  # fmt: skip
    for n in range(stages):
        DealFactory(org=acme, title=f"Step deal {n}", stage=_stage(acme, f"Step {n}", wide))
    client.force_login(alice)
    client.get(f"{URL}{wide.pk}/")
    with django_assert_max_num_queries(BOARD_QUERIES):
        html = client.get(f"{URL}{wide.pk}/").content.decode()
    assert html.count('<li class="board-card') == stages
