"""sales.dashboard: every figure of the pipeline dashboard against numbers worked out by hand
from a small book of deals in Acme, in Europe/Paris, over March 2026 (summer time starts on
Sunday 29 March at 02:00, inside the period), in euros with dollars at 0.5."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm import dashboards
from crm.models import Membership, Organization, Team, TeamMember
from crm.tenancy import activate
from interactions.services import task_complete
from sales import dashboard, services
from sales.models import Deal, ExchangeRate, LostReason, Pipeline, Stage
from tests.factories import DealFactory, InteractionFactory, PipelineFactory, TaskFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 4, 15, 14, 0, tzinfo=PARIS)  # "last month" is March 2026


def paris(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _deal(org: Organization, by: Any, title: str, *, created: datetime, **values: Any) -> Deal:
    """A deal added at `created` (its creation and first stage change both then)."""
    with time_machine.travel(created, tick=False):
        return DealFactory(org=org, by=by, title=title, **values)


def _move(org: Organization, deal: Deal, stage: str, at: datetime) -> None:
    with activate(org):
        deal.refresh_from_db()
        target = Stage.objects.get(pipeline=deal.pipeline, name=stage)
        reason = LostReason.objects.first() if target.kind == Stage.Kind.LOST else None
        services.deal_move(org=org, deal=deal, stage=target, by=None, at=at, lost_reason=reason)


@pytest.fixture
def book(acme, alice, rita) -> dict[str, Deal]:
    Organization.objects.filter(pk=acme.pk).update(time_zone="Europe/Paris", base_currency="EUR")
    acme.refresh_from_db()
    with activate(acme):
        ExchangeRate.objects.create(org=acme, currency="USD", rate=Decimal("0.5"),
                                    valid_from=date(2026, 1, 1))  # fmt: skip
    d: dict[str, Deal] = {}

    def add(
        title: str, owner: Any, amount: int, created: datetime, close: date,
        currency: str = "EUR", moves: tuple[tuple[str, datetime], ...] = (),
    ) -> None:  # fmt: skip
        d[title] = _deal(acme, alice, title, created=created, owner=owner, amount=Decimal(amount),
                         currency=currency, close_date=close)  # fmt: skip
        for stage, at in moves:
            _move(acme, d[title], stage, at)

    # Won on 10 March after 10 days in Qualification (February), 13 in Discovery, 5 in
    # Proposal: 28 days from added to won.
    add(
        "Alpha",
        rita,
        1000,
        paris(2, 10, 10),
        date(2026, 3, 10),
        moves=(
            ("Discovery", paris(2, 20, 10)),
            ("Proposal", paris(3, 5, 10)),
            ("Won", paris(3, 10, 10)),
        ),
    )
    # $4,000 = €2,000: 1 day in Qualification, 17 in Discovery, lost on 20 March.
    add(
        "Bravo",
        rita,
        4000,
        paris(3, 2, 10),
        date(2026, 3, 25),
        "USD",
        moves=(("Discovery", paris(3, 3, 10)), ("Lost", paris(3, 20, 10))),
    )
    # Won at 00:30 on 1 March in Paris, still 28 February in UTC: inside March.
    add(
        "Charlie",
        alice,
        3000,
        paris(2, 1, 10),
        date(2026, 3, 1),
        moves=(("Won", paris(3, 1, 0, 30)),),
    )
    # Won at 00:30 on 1 April in Paris (summer time), still 31 March in UTC: outside March.
    add(
        "Delta",
        alice,
        5000,
        paris(2, 1, 10),
        date(2026, 3, 31),
        moves=(("Won", paris(4, 1, 0, 30)),),
    )
    # Moved back from Proposal to Discovery: open, and it reached Proposal.
    add(
        "Echo",
        rita,
        2000,
        paris(3, 4, 10),
        date(2026, 4, 20),
        moves=(
            ("Discovery", paris(3, 6, 10)),
            ("Proposal", paris(3, 9, 10)),
            ("Discovery", paris(3, 12, 10)),
        ),
    )
    # $6,000 = €3,000, won on 15 March and reopened into Negotiation on 25 March.
    add(
        "Foxtrot",
        rita,
        6000,
        paris(3, 5, 10),
        date(2026, 5, 10),
        "USD",
        moves=(("Won", paris(3, 15, 10)), ("Negotiation", paris(3, 25, 10))),
    )
    add("Golf", alice, 4000, paris(1, 10, 10), date(2026, 3, 20))  # open, slipping
    add("Hotel", rita, 1500, paris(3, 20, 10), date(2026, 3, 31))  # open, slipping
    # $1,000 = €500, lost at 23:30 on 31 March in Paris (21:30 UTC): inside March.
    add(
        "India",
        alice,
        1000,
        paris(3, 28, 10),
        date(2026, 3, 31),
        "USD",
        moves=(("Lost", paris(3, 31, 23, 30)),),
    )
    # Neither another pipeline's deal nor a deal in the Trash counts anywhere.
    renewals = PipelineFactory(org=acme, name="Renewals")
    with activate(acme):
        first = renewals.stages.order_by("position").first()
    d["Juliet"] = _deal(acme, alice, "Juliet", created=paris(3, 3, 10), owner=alice,
                        amount=Decimal(9999), stage=first)  # fmt: skip
    _move(acme, d["Juliet"], "Won", paris(3, 10, 10))
    add("Kilo", rita, 7777, paris(3, 3, 10), date(2026, 3, 1), moves=(("Won", paris(3, 11, 10)),))
    with activate(acme):
        Deal.objects.filter(pk=d["Kilo"].pk).update(deleted_at=paris(4, 1, 9))
    return d


def _scope(membership_of: Any, org: Organization, **filters: Any) -> dashboard.Scope:
    with activate(org):
        membership = Membership.objects.select_related("user").get(user=membership_of)
        pipeline = Pipeline.objects.get(name="Sales pipeline")
        period = dashboards.Period("last_month", date(2026, 3, 1), date(2026, 3, 31), PARIS)
        return dashboard.scope_for(membership, pipeline=pipeline, period=period,
                                   stages=list(pipeline.stages.all()), **filters)  # fmt: skip


def _card(scope: dashboard.Scope, name: str) -> dashboards.Card:
    with activate(Organization.objects.get(pk=scope.membership.org_id)):
        return dashboard.CARDS[name](scope)


def _values(card: dashboards.Card) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in card.rows]


def _figures(card: dashboards.Card) -> dict[str, Any]:
    return {label: cell.value for label, cell in card.figures}


D = Decimal


def test_the_period_runs_from_midnight_to_midnight_in_paris_across_summer_time():
    period = dashboards.Period("last_month", date(2026, 3, 1), date(2026, 3, 31), PARIS)
    # Winter time (UTC+1) at the start, summer time (UTC+2) at the end.
    assert period.start.isoformat() == "2026-03-01T00:00:00+01:00"
    assert period.end.isoformat() == "2026-04-01T00:00:00+02:00"
    # 31 days less the hour that summer time skips (a difference taken in UTC: Python
    # subtracts two times of one zone by their clocks).
    assert (period.end.astimezone(UTC) - period.start.astimezone(UTC)).total_seconds() == (
        31 * 86400 - 3600
    )
    assert dashboards.period_days("last_month", date(2026, 4, 15)) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert dashboards.period_days("last_quarter", date(2026, 4, 15)) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert dashboards.period_days("last_12_months", date(2026, 4, 15)) == (
        date(2025, 5, 1),
        date(2026, 4, 30),
    )


def test_open_pipeline_by_stage(book, acme, alice):
    card = _card(_scope(alice, acme), "stages")
    # Open now: Golf €4,000 and Hotel €1,500 in Qualification (10%), Echo €2,000 back in
    # Discovery (25%), Foxtrot $6,000 = €3,000 reopened into Negotiation (75%).
    assert _values(card) == [
        ["Qualification", 10, 2, D("5500.00"), D("550.00")],  # 5,500 * 10%
        ["Discovery", 25, 1, D("2000.00"), D("500.00")],  # 2,000 * 25%
        ["Proposal", 50, 0, D("0.00"), D("0.00")],
        ["Negotiation", 75, 1, D("3000.00"), D("2250.00")],  # 3,000 * 75%
        ["Total", "", 4, D("10500.00"), D("3300.00")],  # 550 + 500 + 2,250
    ]


def test_forecast_by_month_against_won_and_the_reps_targets(book, acme, alice, rita):
    with activate(acme):
        for user, month, amount in [(rita, 3, 5000), (rita, 4, 4000), (alice, 3, 3000)]:
            dashboard.target_set(org=acme, by=alice, month=date(2026, month, 1),
                                 amount=D(amount), user=user)  # fmt: skip
        team = Team.objects.create(org=acme, name="Closers")
        dashboard.target_set(
            org=acme, by=alice, month=date(2026, 3, 1), amount=D(10000), team=team
        )  # fmt: skip (a team's target is not a rep's: not summed)
    card = _card(_scope(alice, acme), "forecast")
    assert _values(card) == [
        # Open by expected close in March: Golf 4,000 + Hotel 1,500 (10%: 550). Won in March
        # in Paris: Alpha 1,000 + Charlie 3,000 (at 00:30 on 1 March). Targets 5,000 + 3,000.
        ["Mar 2026", D("550.00"), D("5500.00"), D("4000.00"), D("8000.00")],
        # Echo 2,000 at 25%; Delta 5,000 won at 00:30 on 1 April in Paris.
        ["Apr 2026", D("500.00"), D("2000.00"), D("5000.00"), D("4000.00")],
        ["May 2026", D("2250.00"), D("3000.00"), D("0.00"), None],  # Foxtrot 3,000 at 75%
        ["Jun 2026", D("0.00"), D("0.00"), D("0.00"), None],
        ["Jul 2026", D("0.00"), D("0.00"), D("0.00"), None],
        ["Aug 2026", D("0.00"), D("0.00"), D("0.00"), None],
    ]


def test_a_quarters_forecast_shows_its_own_months(book, acme, alice):
    scope = _scope(alice, acme)
    quarter = dashboards.Period("this_quarter", date(2026, 1, 1), date(2026, 3, 31), PARIS)
    card = _card(replace(scope, period=quarter), "forecast")
    # January to March, not six months on: March as in the month's forecast above.
    assert [row[0] for row in _values(card)] == ["Jan 2026", "Feb 2026", "Mar 2026"]
    assert _values(card)[2][:4] == ["Mar 2026", D("550.00"), D("5500.00"), D("4000.00")]


def test_win_rate_deal_size_and_sales_cycle(book, acme, alice):
    card = _card(_scope(alice, acme), "results")
    # Closed in March (Paris): won Alpha and Charlie, lost Bravo and India (23:30 on the
    # 31st). Delta closed in April; Foxtrot is open again.
    assert _figures(card) == {
        "Win rate": D("50.0"),  # 2 / (2 + 2)
        "Won": 2,
        "Lost": 2,
        "Won amount": D("4000.00"),  # 1,000 + 3,000
        "Average deal size": D("2000.00"),  # 4,000 / 2
        # Alpha 28 days (2,419,200 s); Charlie 1 Feb 10:00 to 1 Mar 00:30, 27 days 14.5 h
        # (2,385,000 s): (2,419,200 + 2,385,000) / 2 = 2,402,100 s = 27.80 days.
        "Average sales cycle": D("27.8"),
    }


def test_average_time_in_each_stage_left_in_the_period(book, acme, alice):
    card = _card(_scope(alice, acme), "results")
    assert _values(card) == [
        # Left Qualification in March: Bravo 1 day (86,400 s), Charlie 27 d 14.5 h
        # (2,385,000), Echo 2 days (172,800), Foxtrot 10 days (864,000), India 28 March
        # 10:00 CET to 31 March 23:30 CEST, 3 days 12.5 hours (304,200): 3,812,400 / 5 =
        # 762,480 s = 8.825 days, 8.8. (Alpha left it in February.)
        ["Qualification", 5, D("8.8")],
        # Alpha 13 days, Bravo 17, Echo 3: 33 / 3 = 11 days.
        ["Discovery", 3, D("11.0")],
        # Alpha 5 days, Echo 3: 4 days.
        ["Proposal", 2, D("4.0")],
        ["Negotiation", 0, None],
        # Foxtrot was 10 days in Won before it was reopened.
        ["Won", 1, D("10.0")],
    ]


def test_the_funnel_counts_a_deal_once_at_the_furthest_stage_it_reached(book, acme, alice):
    card = _card(_scope(alice, acme), "funnel")
    # Added in March: Bravo (reached Discovery, then lost), Echo (Proposal, then back),
    # Foxtrot (won, then reopened), Hotel (Qualification), India (Qualification, lost).
    assert _values(card) == [
        ["Qualification", 5, None, None],
        ["Discovery", 3, D("60.0"), D("60.0")],  # Bravo, Echo, Foxtrot: 3 / 5
        ["Proposal", 2, D("66.7"), D("40.0")],  # Echo, Foxtrot: 2 / 3, 2 / 5
        ["Negotiation", 1, D("50.0"), D("20.0")],  # Foxtrot (through Won): 1 / 2, 1 / 5
        ["Won", 1, D("100.0"), D("20.0")],
    ]


def test_the_reps_figures(book, acme, alice, rita):
    with time_machine.travel(paris(3, 31, 23, 30), tick=False):
        InteractionFactory(org=acme, by=rita, occurred_at=paris(3, 31, 23, 0))
    with time_machine.travel(paris(4, 2, 10), tick=False):
        InteractionFactory(org=acme, by=rita, occurred_at=paris(4, 1, 0, 30))  # April
        InteractionFactory(org=acme, by=alice, occurred_at=paris(3, 2, 10))
    TaskFactory(org=acme, by=alice, owner=rita, due_at=paris(4, 10, 9))  # overdue
    TaskFactory(org=acme, by=alice, owner=rita, due_at=paris(4, 20, 9))  # not yet due
    done = TaskFactory(org=acme, by=alice, owner=alice, due_at=paris(4, 1, 9))
    with activate(acme):
        task_complete(org=acme, task=done, by=alice)
    card = _card(_scope(alice, acme), "reps")
    assert _values(card) == [
        # Open: Golf 4,000; won in March: Charlie 3,000; lost: India. 1 / 2.
        ["Alice Archer", D("4000.00"), D("3000.00"), D("50.0"), 1, 0],
        # Open: Echo 2,000 + Foxtrot 3,000 + Hotel 1,500; won: Alpha 1,000; lost: Bravo.
        ["Rita Reyes", D("6500.00"), D("1000.00"), D("50.0"), 1, 1],
    ]


def test_slipping_deals(book, acme, alice):
    card = _card(_scope(alice, acme), "slipping")
    # Open and expected before 15 April: Golf (20 March, 26 days late), Hotel (31 March, 15).
    assert _values(card) == [
        ["Golf", "Qualification", "2026-03-20", 26, D("4000.00")],
        ["Hotel", "Qualification", "2026-03-31", 15, D("1500.00")],
    ]
    assert _figures(card) == {"Open deals past their close date": 2, "Their amount": D("5500.00")}


def test_a_rep_sees_only_their_own_figures(book, acme, alice, rita):
    scope = _scope(rita, acme, owner=None)  # a rep cannot widen it: the owner is set for them
    assert scope.owner == rita
    assert _values(_card(scope, "stages"))[-1] == ["Total", "", 3, D("6500.00"), D("2900.00")]
    assert _figures(_card(scope, "results"))["Won amount"] == D("1000.00")  # Alpha
    assert [row[0] for row in _values(_card(scope, "reps"))] == ["Rita Reyes"]
    assert _figures(_card(scope, "slipping"))["Their amount"] == D("1500.00")  # Hotel


def test_a_team_has_its_members_figures_and_its_own_target(book, acme, alice):
    with activate(acme):
        team = Team.objects.create(org=acme, name="Closers")
        TeamMember.objects.create(org=acme, team=team,
                                  membership=Membership.objects.get(user=alice))  # fmt: skip
        dashboard.target_set(org=acme, by=alice, month=date(2026, 3, 1), amount=D(10000),
                             team=team)  # fmt: skip
    scope = _scope(alice, acme, team=team)
    march = _values(_card(scope, "forecast"))[0]
    assert march == ["Mar 2026", D("400.00"), D("4000.00"), D("3000.00"), D("10000.00")]
    assert [row[0] for row in _values(_card(scope, "reps"))] == ["Alice Archer"]


def test_reps_of_the_organisation_show_with_nothing_yet(acme, alice, rita):
    # Without deals, Rita (a rep) still has her line; Alice (an admin) owns nothing.
    with activate(acme):
        from sales.pipelines import pipelines_ensure

        pipelines_ensure(org=acme)
    assert _values(_card(_scope(alice, acme), "reps")) == [
        ["Rita Reyes", D("0.00"), D("0.00"), None, 0, 0]
    ]


def test_deals_of_nobody_have_their_line_without_a_link(acme, alice):
    with time_machine.travel(paris(3, 2, 10), tick=False):
        deal = DealFactory(org=acme, by=alice, title="Orphan", amount=D(700))
    card = _card(_scope(alice, acme), "reps")
    assert _values(card) == [["No owner", D("700.00"), D("0.00"), None, None, None]]
    assert [cell.url for cell in card.rows[0]] == [""] * 6
    assert deal.owner_id is None
