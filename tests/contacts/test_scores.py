"""contacts.scores: every contact's engagement and RFM scores, computed in SQL from their
interactions and won deals, shown on their page and usable in a segment's rules."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from contacts import scores
from contacts.models import Contact, ContactScore
from contacts.segments import rules
from crm.contributions import beat_schedule
from crm.tenancy import activate
from sales.models import Deal, Stage
from tests.factories import ContactFactory, DealFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def _won(org, contact, amount, days_ago):
    deal = DealFactory(org=org, contact=contact, amount=Decimal(amount))
    with activate(org):
        Deal.objects.filter(pk=deal.pk).update(
            stage=Stage.objects.get(kind="won"), amount_base=Decimal(amount),
            closed_at=timezone.now() - timedelta(days=days_ago),
        )  # fmt: skip


def _run(org):
    with activate(org):
        return scores.scores_run(org=org)


def _score(org, contact) -> Any:
    with activate(org):
        return ContactScore.objects.filter(contact=contact).first()


def test_engagement_counts_points_by_channel_halved_every_30_days(acme, alice) -> None:
    ada = ContactFactory(org=acme, first_name="Ada")
    now = timezone.now()
    for channel, direction, days in (
        ("meeting", "outbound", 0),  # 5 points
        ("email", "inbound", 30),  # 3, halved once: 1.5
        ("email", "outbound", 60),  # 1, halved twice: 0.25
        ("note", "internal", 1),  # none
        ("call", "outbound", 400),  # older than a year: not counted
    ):
        InteractionFactory(org=acme, contact=ada, channel=channel, direction=direction,
                           occurred_at=now - timedelta(days=days))  # fmt: skip
    _run(acme)
    found = _score(acme, ada)
    assert found is not None
    assert (found.engagement_points, found.interactions) == (6.75, 4)
    assert found.engagement == 34  # five times the points (33.75), rounded
    assert (found.rfm_segment, found.recency) == ("", None)  # no won deal


def test_engagement_is_at_most_100(acme) -> None:
    busy = ContactFactory(org=acme)
    for _ in range(6):
        InteractionFactory(org=acme, contact=busy, channel="meeting")
    _run(acme)
    assert _score(acme, busy).engagement == 100


def test_rfm_ranks_the_customers_with_won_deals_in_fifths(acme) -> None:
    people = [ContactFactory(org=acme, first_name=f"C{n}") for n in range(5)]
    # C4 won lately, often and much; C0 long ago, once, little.
    for n, person in enumerate(people):
        for k in range(n + 1):
            _won(acme, person, 1000 * (n + 1), days_ago=400 - 90 * n + k)
    nobody = ContactFactory(org=acme, first_name="Nobody")
    _run(acme)
    best, worst = _score(acme, people[4]), _score(acme, people[0])
    assert (best.recency, best.frequency, best.monetary) == (5, 5, 5)
    assert best.rfm_segment == "champions"
    assert best.rfm_label == "Champions"
    assert (best.won_deals, best.won_amount) == (5, Decimal("25000.00"))
    assert (worst.recency, worst.frequency, worst.monetary) == (1, 1, 1)
    assert worst.rfm_segment == "lost"
    assert _score(acme, nobody) is None


def test_a_second_night_writes_only_what_changed_and_drops_who_no_longer_scores(acme) -> None:
    ada = ContactFactory(org=acme)
    bea = ContactFactory(org=acme)
    InteractionFactory(org=acme, contact=ada, channel="call")
    met = InteractionFactory(org=acme, contact=bea, channel="meeting")
    assert _run(acme) == {"written": 2, "dropped": 0}
    assert _run(acme)["written"] <= 2  # the points decay with the clock: may move a little
    with activate(acme):
        from interactions.models import Interaction

        Interaction.objects.filter(pk=met.pk).update(deleted_at=timezone.now())
    assert _run(acme)["dropped"] == 1
    assert _score(acme, bea) is None


def test_another_organisation_s_contacts_are_neither_scored_nor_touched(acme, globex) -> None:
    theirs = ContactFactory(org=globex)
    InteractionFactory(org=globex, contact=theirs, channel="meeting")
    _run(globex)
    _run(acme)
    assert _score(globex, theirs) is not None  # Acme's run dropped nothing of Globex's


def test_scores_are_conditions_of_segments(acme) -> None:
    keen = ContactFactory(org=acme, first_name="Keen")
    ContactFactory(org=acme, first_name="Quiet")
    for _ in range(2):
        InteractionFactory(org=acme, contact=keen, channel="meeting")
    _won(acme, keen, 5000, days_ago=3)
    _run(acme)
    with activate(acme):

        def names(condition):
            tree = rules.validate({"match": "all", "rules": [condition]})
            found = Contact.objects.filter(rules.compile_rules(tree))
            return set(found.values_list("first_name", flat=True))

        assert names({"field": "scores.engagement", "op": "gte", "value": 40}) == {"Keen"}
        assert names({"field": "scores.engagement", "op": "lt", "value": 10}) == {"Quiet"}
        only = {"field": "scores.rfm", "op": "is", "value": _score(acme, keen).rfm_segment}
        assert names(only) == {"Keen"}


def test_the_contact_page_shows_the_scores_and_what_made_them(client: Client, acme, alice):
    ada = ContactFactory(org=acme, first_name="Ada")
    InteractionFactory(org=acme, contact=ada, channel="meeting")
    _won(acme, ada, 12500, days_ago=10)
    _run(acme)
    client.force_login(alice)
    body = client.get(f"/o/acme/contacts/{ada.pk}/").content.decode()
    card = body[body.index('id="scores"') :]
    card = " ".join(card[: card.index("</section>")].split())
    assert '<strong class="scores__value">25</strong>' in card
    assert "1 interaction in the last year, worth 5.0 points today" in card
    assert "1 won deal, 12,500 USD in all" in card
    quiet = ContactFactory(org=acme)
    body = client.get(f"/o/acme/contacts/{quiet.pk}/").content.decode()
    assert "No interaction in the last year" in body
    assert "No won deal yet" in body


def test_the_scores_are_computed_every_night() -> None:
    assert "contacts.scores_run" in [e["args"][0] for e in beat_schedule().values()]


def test_why_says_the_contact_s_scores(acme) -> None:
    keen = ContactFactory(org=acme, first_name="Keen")
    InteractionFactory(org=acme, contact=keen, channel="meeting")
    _won(acme, keen, 5000, days_ago=3)
    _run(acme)
    tree = {"match": "all", "rules": [
        {"field": "scores.engagement", "op": "gte", "value": 20},
        {"field": "scores.rfm", "op": "is", "value": "champions"},
    ]}  # fmt: skip
    with activate(acme):
        line = rules.explain(Contact.objects.filter(pk=keen.pk), rules.validate(tree))
    assert line is not None
    engagement, rfm = line.children
    assert (engagement.matched, engagement.value) == (True, 25)
    # The only customer is in every fifth's first: recency 5 is theirs alone.
    assert rfm.value == _score(acme, keen).rfm_label


def test_a_merge_keeps_the_survivor_s_score_and_drops_the_merged_one_s(acme, alice) -> None:
    from contacts.records import CONTACT
    from crm.records import merging

    keeper, twin, other = (ContactFactory(org=acme, first_name=n) for n in ("K", "T", "O"))
    for person in (keeper, twin):
        InteractionFactory(org=acme, contact=person, channel="call")
    _run(acme)
    with activate(acme):
        mine = ContactScore.objects.get(contact=keeper).pk
        merging.records_merge(org=acme, kind=CONTACT, survivor=keeper, others=[twin],
                              values={}, by=alice)  # fmt: skip
        assert list(ContactScore.objects.filter(contact=keeper).values_list("pk", flat=True)) == [
            mine
        ]
        assert not ContactScore.objects.filter(contact=twin).exists()
    assert _score(acme, other) is None
