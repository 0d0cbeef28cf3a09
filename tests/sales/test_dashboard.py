"""/o/<org>/dashboards/pipeline/: the pipeline dashboard's page, its CSV, who may see what,
and the deals behind its figures. The book of deals and the numbers worked out by hand are
test_dashboard_figures'."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client

from crm.models import Membership, Team, TeamMember
from crm.tenancy import activate
from sales.models import Pipeline
from tests.factories import DealFactory
from tests.sales import test_dashboard_figures as figures

pytestmark = pytest.mark.django_db
# The book of deals of March 2026, and the clock stopped in mid-April.
book, _clock = figures.book, figures._clock
PAGE = "/o/acme/dashboards/pipeline/"
MARCH = "?period=last_month"


def _body(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _card(body: str, key: str) -> str:
    start = body.index(f'id="card-{key}"')
    return body[start : body.index("</section>", start)]


def _table(card: str) -> list[list[str]]:
    """The Data table's cells, as text."""
    table = card[card.index("<tbody>") : card.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in rows]  # fmt: skip


def test_it_shows_a_manager_every_card_of_march(client, book, alice):
    client.force_login(alice)
    body = _body(client, PAGE + MARCH)
    for title in ("Open pipeline by stage", "Forecast", "Win rate and cycle", "Conversion funnel",
                  "By rep", "Slipping deals"):  # fmt: skip
        assert title in body
    assert "1–31 March 2026" in body
    # Europe/Paris, in euros: Qualification holds Golf and Hotel, €5,500, weighted €550.
    assert _table(_card(body, "stages"))[0] == ["Qualification", "10%", "2", "€5,500", "€550"]
    assert 'style="' not in body  # the CSP allows no inline style: the charts use attributes


def test_the_data_tables_show_the_numbers_the_charts_draw(client, book, alice):
    client.force_login(alice)
    body = _body(client, PAGE + MARCH)
    for key in ("stages", "funnel", "reps", "slipping"):
        card = _card(body, key)
        texts = {row[0]: row for row in _table(card)}
        for label, value in re.findall(r"<title>(.*?): (.*?)</title>", card):
            assert value in texts[label]
    results = _card(body, "results")
    assert "Won 2 · Lost 2" in results  # the split bar, and the figures beside it
    assert re.search(r"<dt>Win rate</dt><dd><a [^>]+>50.0%</a>", results)


def test_the_csv_holds_the_numbers_of_the_page(client, book, alice):
    client.force_login(alice)
    body = _body(client, PAGE + MARCH)
    response = client.get("/o/acme/dashboards/pipeline/forecast.csv" + MARCH)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0] == ["Month", "Weighted", "Best case", "Won", "Target"]
    assert rows[1] == ["Mar 2026", "550.00", "5500.00", "4000.00", ""]
    assert _table(_card(body, "forecast"))[0] == ["Mar 2026", "€550", "€5,500", "€4,000", "—"]
    reps = client.get("/o/acme/dashboards/pipeline/reps.csv" + MARCH).content.decode()
    assert "Rita Reyes,6500.00,1000.00,50.0,0,0" in reps
    results = client.get("/o/acme/dashboards/pipeline/results.csv" + MARCH).content.decode()
    assert "Win rate,50.0" in results
    assert "Average sales cycle,27.8" in results


def test_an_unknown_table_is_not_found(client, book, alice):
    client.force_login(alice)
    assert client.get("/o/acme/dashboards/pipeline/secrets.csv").status_code == 404


def test_the_figures_link_to_the_deals_behind_them(client, book, alice):
    client.force_login(alice)
    results = _card(_body(client, PAGE + MARCH), "results")
    won = re.search(r"<dt>Won</dt><dd><a href=\"([^\"]+)\"", results).group(1)
    listed = _body(client, won)
    # Won in March in Paris: Alpha, and Charlie at 00:30 on the 1st; not Delta (1 April).
    assert "Alpha" in listed
    assert "Charlie" in listed
    assert "Delta" not in listed
    assert "Foxtrot" not in listed
    slipping = _card(_body(client, PAGE + MARCH), "slipping")
    late = re.search(r'<dd><a href="([^"]+)">2</a>', slipping).group(1)
    listed = _body(client, late)
    assert "Golf" in listed
    assert "Hotel" in listed
    assert "Echo" not in listed


def test_a_team_link_lists_the_teams_deals(client, book, acme, alice):
    with activate(acme):
        team = Team.objects.create(org=acme, name="Closers")
    client.force_login(alice)
    with activate(acme):
        TeamMember.objects.create(
            org=acme, team=team, membership=Membership.objects.get(user=alice)
        )
    body = _body(client, f"{PAGE}{MARCH}&team={team.pk}")
    stages = _card(body, "stages")
    assert _table(stages)[-1] == ["Total", "", "1", "€4,000", "€400"]  # Golf alone
    listed = _body(client, re.search(r'<a href="([^"]+)">See the deals</a>', stages).group(1))
    assert "Golf" in listed
    assert "Hotel" not in listed


def test_a_rep_sees_only_their_own_deals(client, book, rita):
    client.force_login(rita)
    body = _body(client, PAGE + MARCH)
    assert 'name="owner"' not in body
    assert 'name="team"' not in body
    assert "Golf" not in body  # Alice's slipping deal
    assert "Alice Archer" not in body
    assert _table(_card(body, "stages"))[-1] == ["Total", "", "3", "€6,500", "€2,900"]
    # Asking for someone else's figures changes nothing.
    assert _body(client, f"{PAGE}{MARCH}&owner=1").count("Golf") == 0


def test_a_viewer_sees_the_whole_organisation(client, book, bob):
    client.force_login(bob)
    body = _body(client, PAGE + MARCH)
    assert _table(_card(body, "stages"))[-1] == ["Total", "", "4", "€10,500", "€3,300"]


def test_it_refuses_a_support_agent(client, book, sam):
    client.force_login(sam)
    assert client.get(PAGE).status_code == 403
    assert client.get("/o/acme/dashboards/pipeline/stages.csv").status_code == 403


def test_it_hides_acme_from_another_organisations_admin(client, book, charlie, globex):
    client.force_login(charlie)
    assert client.get(PAGE).status_code == 404
    assert client.get("/o/acme/dashboards/pipeline/stages.csv").status_code == 404
    # Globex's own dashboard: zeros, though Acme has deals; and Acme's pipeline id is none
    # of its choices.
    acme_pipeline = book["Alpha"].pipeline_id
    body = _body(client, f"/o/globex/dashboards/pipeline/{MARCH}&pipeline={acme_pipeline}")
    assert _table(_card(body, "stages"))[-1] == ["Total", "", "0", "$0", "$0"]
    assert "Alpha" not in body
    assert "Golf" not in body
    assert "€" not in body


def test_it_swaps_the_cards_for_htmx(client, book, alice):
    client.force_login(alice)
    response = client.get(PAGE + MARCH, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in body
    assert 'class="dash-filters"' not in body


def test_a_custom_period_and_another_pipeline(client, book, acme, alice):
    client.force_login(alice)
    with activate(acme):
        renewals = Pipeline.objects.get(name="Renewals")
    url = f"{PAGE}?period=custom&from=2026-03-31&to=2026-03-01&pipeline={renewals.pk}"
    body = _body(client, url)
    assert "1–31 March 2026" in body  # the days put in order
    results = _card(body, "results")
    assert re.search(r"<dt>Won amount</dt><dd><a [^>]+>€9,999</a>", results)  # Juliet


def test_it_pins_its_queries(client, book, acme, alice, django_assert_max_num_queries):
    client.force_login(alice)
    # The request's own (the user, the member, the tenancy settings and savepoint: 8) and
    # the page's: the filters' choices (4), the figures (13) and the slipping deals (1).
    with django_assert_max_num_queries(26):
        client.get(PAGE + MARCH)
    for n in range(10):  # more deals, the same queries
        DealFactory(org=acme, by=alice, title=f"More {n}")
    with django_assert_max_num_queries(26):
        client.get(PAGE + MARCH)


def test_the_navigation_offers_dashboards_to_those_who_may_see_them(client, acme, alice, rita, sam):
    for person, shown in ((alice, True), (rita, True), (sam, False)):
        client.force_login(person)
        assert (
            'href="/o/acme/dashboards/pipeline/"' in client.get("/o/acme/").content.decode()
        ) is shown


def test_a_viewer_kept_to_their_own_records_sees_only_those(client, book, acme, bob):
    acme.record_visibility = {"viewer": "own"}
    acme.save(update_fields=["record_visibility"])
    client.force_login(bob)
    body = _body(client, PAGE + MARCH)
    assert _table(_card(body, "stages"))[-1] == ["Total", "", "0", "€0", "€0"]
    assert "Golf" not in body


# --- A long period's figures, kept a while (crm.dashboards.Keeper) --------------------------

YEAR = "?period=last_12_months"


def _words(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _open_total(body: str) -> str:
    return _table(_card(body, "stages"))[-1][2]  # the Total row's deals


def test_a_year_s_figures_are_kept_per_owner_and_read_again_when_asked(
    client, book, acme, alice, rita
):
    client.force_login(alice)
    body = _body(client, PAGE + YEAR)
    assert "Figures as of 15 Apr, 14:00 · read again every 15 minutes" in _words(body)
    everyone = _open_total(body)
    ritas = _open_total(_body(client, f"{PAGE}{YEAR}&owner={rita.pk}"))  # figures of its own
    assert ritas != everyone
    with activate(acme):
        DealFactory(org=acme, by=alice, owner=rita, title="Newcomer")
    # Kept: the same figures, for everyone and for Rita alone...
    assert _open_total(_body(client, PAGE + YEAR)) == everyone
    assert _open_total(_body(client, f"{PAGE}{YEAR}&owner={rita.pk}")) == ritas
    # ... or read at once when asked, and kept so.
    body = _body(client, PAGE + YEAR + "&now=1")
    assert int(_open_total(body)) == int(everyone) + 1
    assert "now=1&now=1" not in body
    assert int(_open_total(_body(client, PAGE + YEAR))) == int(everyone) + 1
    # A month is read as asked.
    assert "Figures as of" not in _body(client, PAGE + MARCH)


def test_aged_kept_figures_are_shown_while_the_worker_reads_them_again(
    client, book, acme, alice, rita, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    before = int(_open_total(_body(client, PAGE + YEAR)))
    with activate(acme):
        DealFactory(org=acme, by=alice, owner=rita, title="Newcomer")
    with time_machine.travel(figures.NOW + timedelta(minutes=16), tick=False):
        with django_capture_on_commit_callbacks(execute=True) as sent:
            body = _body(client, PAGE + YEAR)
        assert "Figures as of 15 Apr, 14:00 · being read again" in _words(body)
        assert int(_open_total(body)) == before
        assert len(sent) == 1  # the worker's task (sales.dashboard_keep), run here at once
        with django_capture_on_commit_callbacks(execute=True) as again:
            body = _body(client, PAGE + YEAR)
        assert not again
        assert "Figures as of 15 Apr, 14:16" in _words(body)
        assert int(_open_total(body)) == before + 1


def test_a_kept_year_exports_as_the_page_shows_it(client, book, alice):
    client.force_login(alice)
    live = client.get(f"{PAGE}reps.csv{YEAR}").content.decode()  # read, and kept
    assert client.get(f"{PAGE}reps.csv{YEAR}").content.decode() == live
    assert "Rita Reyes,6500.00,1000.00,50.0" in live  # amounts come back as numbers


def test_a_rep_is_not_shown_everyone_s_kept_figures(client, book, alice, rita):
    client.force_login(alice)
    everyone = _open_total(_body(client, PAGE + YEAR))
    client.force_login(rita)
    assert _open_total(_body(client, PAGE + YEAR)) != everyone  # her own deals alone
