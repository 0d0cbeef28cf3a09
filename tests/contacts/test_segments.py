"""contacts.segments: rules checked and compiled, membership refreshed set-based with its
runs and spells, and the pages: the list, the builder, a segment's page with "why"."""

import html
import re
from datetime import timedelta

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from contacts.models import Contact, Segment, SegmentMember, SegmentRun, SegmentSpell
from contacts.segments import rules, services
from crm import services as crm_services
from crm.records import custom_fields
from crm.tenancy import activate
from sales.models import Deal, Stage
from support.models import Ticket
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    InteractionFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def _all(*conditions, match="all"):
    return {"match": match, "rules": list(conditions)}


def _save(org, by, tree, name="Chosen", **extra):
    with activate(org):
        return services.segment_save(org=org, by=by, name=name, rules_tree=tree, **extra)


def _refresh(org, segment):
    with activate(org):
        return services.segment_refresh(org=org, segment_id=segment.pk)


def _members(org, segment) -> set[str]:
    with activate(org):
        ids = SegmentMember.objects.filter(segment=segment).values("contact_id")
        return set(Contact.objects.filter(pk__in=ids).values_list("first_name", flat=True))


def _matching(org, tree) -> set[str]:
    with activate(org):
        checked = rules.validate(tree)
        found = Contact.objects.alive().filter(rules.compile_rules(checked))
        return set(found.values_list("first_name", flat=True))


# --- Checking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (_all({"field": "shoe_size", "op": "is", "value": "9"}), "Unknown field “shoe_size”"),
        (_all({"field": "lifecycle", "op": "contains", "value": "x"}),
         "Lifecycle stage: “contains” is not one of its operators"),
        (_all({"field": "lifecycle", "op": "is", "value": "royalty"}),
         "Lifecycle stage: “royalty” is not one of its values"),
        (_all({"field": "created", "op": "before", "value": "yesterday"}),
         "Added: “yesterday” is not a date (YYYY-MM-DD)."),
        (_all({"field": "interactions.count", "op": "gte", "value": "many"}),
         "Interactions: “many” is not a number."),
        (_all({"field": "interactions.count", "op": "gte", "value": 2, "params": {"days": 0}}),
         "Interactions: days must be a whole number from 1 to 3650."),
        (_all({"field": "interactions.count", "op": "gte", "value": 2,
               "params": {"channel": "pigeon"}}), "Interactions: “pigeon” is not a channel."),
        (_all({"field": "interactions.days_since", "op": "gte", "value": -5}),
         "Days since the last interaction: “-5” is below its least, 0."),
        (_all({"field": "scores.recency", "op": "lte", "value": 0}),
         "Recency (1–5): “0” is below its least, 1."),
        ({"match": "most", "rules": []}, "A group matches “all” or “any” of its rules"),
        ("DROP TABLE contacts", "The rules must be a group"),
    ],
)  # fmt: skip
def test_rules_that_do_not_hold_are_refused_naming_what_is_wrong(acme, tree, message) -> None:
    with activate(acme), pytest.raises(ValidationError) as refused:
        rules.validate(tree)
    assert any(message in text for text in refused.value.messages), refused.value.messages


def test_a_segment_cannot_contain_itself_through_another(acme, alice) -> None:
    first = _save(acme, alice, _all(), name="First")
    second = _save(acme, alice, _all({"field": "segment", "op": "in", "value": first.pk}),
                   name="Second")  # fmt: skip
    with activate(acme), pytest.raises(ValidationError, match="cannot contain itself"):
        services.segment_save(org=acme, by=alice, segment=first, name="First",
                              rules_tree=_all({"field": "segment", "op": "in",
                                               "value": second.pk}))  # fmt: skip


def test_user_values_reach_the_sql_as_parameters(acme, alice) -> None:
    ContactFactory(org=acme, first_name="Ada", source="x'); DROP TABLE contacts_contact; --")
    tree = _all({"field": "source", "op": "is", "value": "x'); DROP TABLE contacts_contact; --"})
    assert _matching(acme, tree) == {"Ada"}


# --- Conditions -------------------------------------------------------------------------------


@pytest.fixture
def people(acme, alice, rita):
    """Ada: a customer at a bank, VIP, emailed twice lately, a won deal, an unsolved ticket
    rated 2; Bea: a lead, called once long ago, an open deal of 5,000; Cy: a lead, nothing."""
    bank = CompanyFactory(org=acme, name="Bank", industry="Banking")
    ada = ContactFactory(org=acme, first_name="Ada", lifecycle="customer", company=bank,
                         tags=("VIP",), owner=alice, email="ada@example.com")  # fmt: skip
    bea = ContactFactory(org=acme, first_name="Bea", lifecycle="lead", owner=rita,
                         email="bea@example.com")  # fmt: skip
    cy = ContactFactory(org=acme, first_name="Cy", lifecycle="lead", owner=rita)
    now = timezone.now()
    for days in (2, 5):
        InteractionFactory(org=acme, contact=ada, channel="email", direction="inbound",
                           occurred_at=now - timedelta(days=days))  # fmt: skip
    InteractionFactory(org=acme, contact=bea, channel="call", direction="outbound",
                       occurred_at=now - timedelta(days=200))  # fmt: skip
    won = DealFactory(org=acme, contact=ada, title="Won", amount=1000)
    DealFactory(org=acme, contact=bea, title="Open", amount=5000)
    with activate(acme):
        Deal.objects.filter(pk=won.pk).update(stage=Stage.objects.get(kind="won"), closed_at=now)
    ticket = TicketFactory(org=acme, requester=ada, subject="Help")
    with activate(acme):
        Ticket.objects.filter(pk=ticket.pk).update(csat_score=2, csat_at=now)
    return {"ada": ada, "bea": bea, "cy": cy}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "lifecycle", "op": "is", "value": "lead"}, {"Bea", "Cy"}),
        ({"field": "lifecycle", "op": "is_not", "value": "lead"}, {"Ada"}),
        ({"field": "company.industry", "op": "contains", "value": "bank"}, {"Ada"}),
        ({"field": "email", "op": "is_empty"}, {"Cy"}),
        ({"field": "interactions.count", "op": "gte", "value": 2,
          "params": {"days": 30, "channel": "email"}}, {"Ada"}),
        ({"field": "interactions.count", "op": "eq", "value": 0, "params": {"days": 30}},
         {"Bea", "Cy"}),
        ({"field": "interactions.count", "op": "lt", "value": 2}, {"Bea", "Cy"}),
        ({"field": "interactions.any", "op": "has_not"}, {"Cy"}),
        ({"field": "interactions.days_since", "op": "gte", "value": 90}, {"Bea", "Cy"}),
        ({"field": "deals.open_amount", "op": "gte", "value": 1000}, {"Bea"}),
        ({"field": "deals.open_amount", "op": "lt", "value": 1000}, {"Ada", "Cy"}),
        ({"field": "deals.won", "op": "has"}, {"Ada"}),
        ({"field": "tickets.open", "op": "gte", "value": 1}, {"Ada"}),
        ({"field": "tickets.csat", "op": "lte", "value": 3}, {"Ada"}),
        ({"field": "tickets.csat", "op": "gte", "value": 3}, set()),
        ({"field": "created", "op": "in_last", "value": 7}, {"Ada", "Bea", "Cy"}),
    ],
)  # fmt: skip
def test_each_kind_of_condition_picks_its_contacts(acme, people, condition, expected) -> None:
    assert _matching(acme, _all(condition)) == expected


def test_tags_owners_and_custom_fields_are_conditions(acme, alice, people) -> None:
    with activate(acme):
        custom_fields.custom_field_save(org=acme, by=alice, record_kind="contact", key="seats",
                                        label="Seats", kind="number", choices=[])  # fmt: skip
        Contact.objects.filter(pk=people["bea"].pk).update(custom={"seats": 40})
        Contact.objects.filter(pk=people["cy"].pk).update(custom={"seats": 5})
        vip = str(people["ada"].tag_links.get().tag_id)
    assert _matching(acme, _all({"field": "tags", "op": "has", "value": vip})) == {"Ada"}
    assert _matching(acme, _all({"field": "tags", "op": "has_not", "value": vip})) == {"Bea", "Cy"}
    assert _matching(acme, _all({"field": "owner", "op": "is", "value": alice.pk})) == {"Ada"}
    assert _matching(acme, _all({"field": "custom.seats", "op": "gte", "value": 10})) == {"Bea"}


def test_groups_nest_with_all_and_any(acme, people) -> None:
    tree = _all(
        {"field": "lifecycle", "op": "is", "value": "lead"},
        _all({"field": "deals.open_amount", "op": "gte", "value": 1},
             {"field": "email", "op": "is_empty"}, match="any"),
    )  # fmt: skip
    assert _matching(acme, tree) == {"Bea", "Cy"}
    tree["rules"][1]["rules"].pop()
    assert _matching(acme, tree) == {"Bea"}


# --- Refreshing -------------------------------------------------------------------------------


def test_a_refresh_adds_the_newcomers_removes_the_leavers_and_records_the_run(
    acme, alice, people
) -> None:
    segment = _save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}))
    run = _refresh(acme, segment)
    assert (run.status, run.size, run.added, run.removed) == ("done", 2, 2, 0)
    assert _members(acme, segment) == {"Bea", "Cy"}
    with activate(acme):
        cy_since = SegmentMember.objects.get(segment=segment, contact=people["cy"]).added_at
        Contact.objects.filter(pk=people["cy"].pk).update(lifecycle="customer")
        Contact.objects.filter(pk=people["ada"].pk).update(lifecycle="lead")
    run = _refresh(acme, segment)
    assert (run.size, run.added, run.removed) == (2, 1, 1)
    assert _members(acme, segment) == {"Ada", "Bea"}
    with activate(acme):
        segment.refresh_from_db()
        assert (segment.size, segment.broken) == (2, "")
        # Cy's time in it is kept as they leave; the members' are their rows.
        spell = SegmentSpell.objects.get(segment=segment)
        assert (spell.contact_id, spell.entered_at) == (people["cy"].pk, cy_since)
        assert spell.left_at == segment.refreshed_at
        assert SegmentRun.objects.filter(segment=segment, status="done").count() == 2


def test_a_rule_naming_a_deleted_custom_field_marks_the_segment_broken(acme, alice, people):
    with activate(acme):
        field = custom_fields.custom_field_save(org=acme, by=alice, record_kind="contact",
                                                key="tier", label="Tier", kind="text",
                                                choices=[])  # fmt: skip
    segment = _save(acme, alice, _all({"field": "custom.tier", "op": "is", "value": "Gold"}),
                    schedule=Segment.Schedule.HOURLY)  # fmt: skip
    with activate(acme):
        custom_fields.custom_field_delete(org=acme, by=alice, field=field)
    run = _refresh(acme, segment)
    assert run.status == "failed"
    assert "Unknown field “custom.tier”" in run.error
    with activate(acme):
        segment.refresh_from_db()
        assert "Unknown field “custom.tier”" in segment.broken
        assert segment.refresh_due_at is None  # not tried again every hour in silence


def test_a_second_refresh_while_one_runs_skips(acme, alice, people) -> None:
    segment = _save(acme, alice, _all())
    # Another session holds the segment's lock, as a refresh running in another worker does.
    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"],
                            user=db["USER"], password=db.get("PASSWORD") or None)  # fmt: skip
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [services.LOCK_CLASS, segment.pk])
        assert _refresh(acme, segment) is None
        # Let go before closing: a closed connection's server process ends a moment later.
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [services.LOCK_CLASS, segment.pk])
    finally:
        other.close()
    assert _refresh(acme, segment).size == 3


def test_the_beat_job_claims_the_segments_due(acme, alice, people) -> None:
    hourly = _save(acme, alice, _all(), name="Hourly", schedule=Segment.Schedule.HOURLY)
    _save(acme, alice, _all(), name="By hand", schedule=Segment.Schedule.MANUAL)
    later = timezone.now() + timedelta(hours=1, minutes=1)
    with activate(acme):
        assert services.segments_due(org=acme, now=later) == [hourly.pk]
        assert services.segments_due(org=acme, now=later) == []  # moved on an hour


# --- Pages ------------------------------------------------------------------------------------


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_builder_adds_and_removes_conditions_without_javascript(
    client: Client, acme, alice, people, django_capture_on_commit_callbacks
) -> None:
    client.force_login(alice)
    page = client.get("/o/acme/segments/new/")
    assert "No conditions: every contact matches." not in _text(page)  # it counts them: 3
    assert "3 contacts match now" in _text(page)
    form = {"name": "Leads", "kind": "dynamic", "schedule": "daily", "g-r-match": "all"}
    added = client.post("/o/acme/segments/new/", {**form, "do": "add:r"})
    assert 'name="c-r.0-field"' in added.content.decode()
    chosen = {**form, "c-r.0-field": "lifecycle", "c-r.0-op": "is", "c-r.0-value": "lead"}
    assert "2 contacts match now" in _text(client.post("/o/acme/segments/new/", chosen))
    removed = client.post("/o/acme/segments/new/", {**chosen, "do": "remove:r.0"})
    assert 'name="c-r.0-field"' not in removed.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post("/o/acme/segments/new/", {**chosen, "do": "save"})
    with activate(acme):
        segment = Segment.objects.get(name="Leads")
    assert saved["Location"] == f"/o/acme/segments/{segment.pk}/"
    assert segment.rules == _all({"field": "lifecycle", "op": "is", "value": "lead"})
    assert _members(acme, segment) == {"Bea", "Cy"}  # refreshed on save (the worker, eager)


def test_the_builder_says_what_is_wrong_next_to_the_condition_and_saves_nothing(
    client: Client, acme, alice
) -> None:
    client.force_login(alice)
    form = {"name": "", "kind": "dynamic", "schedule": "daily", "g-r-match": "all",
            "c-r.0-field": "interactions.count", "c-r.0-op": "gte", "c-r.0-value": "lots",
            "do": "save"}  # fmt: skip
    response = client.post("/o/acme/segments/new/", form)
    assert response.status_code == 400
    text = _text(response)
    assert "Interactions: “lots” is not a number." in text
    assert "This field is required." in text
    with activate(acme):
        assert not Segment.objects.exists()


def test_the_segment_page_explains_why_a_contact_is_in_or_not(client: Client, acme, alice,
                                                              people) -> None:  # fmt: skip
    tree = _all({"field": "lifecycle", "op": "is", "value": "lead"},
                {"field": "interactions.count", "op": "lte", "value": 1})  # fmt: skip
    segment = _save(acme, alice, tree, name="Quiet leads")
    _refresh(acme, segment)
    client.force_login(alice)
    page = _text(client.get(f"/o/acme/segments/{segment.pk}/", {"who": "bea@example.com"}))
    assert "Bea" in page
    assert "is in this segment, since " in page
    assert "✓ Lifecycle stage is Lead · Bea's: Lead" in page
    assert "✓ Interactions at most 1 · Bea's: 1" in page
    why_not = _text(client.get(f"/o/acme/segments/{segment.pk}/",
                               {"contact": people["ada"].pk}))  # fmt: skip
    assert "is not in this segment" in why_not
    assert "✗ Lifecycle stage is Lead · Ada's: Customer The first condition they fail" in why_not
    assert "✗ Interactions at most 1 · Ada's: 2" in why_not


def test_the_refresh_status_polls_while_one_runs_then_brings_the_new_size_to_the_header(
    client: Client, acme, alice, people
) -> None:
    segment = _save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}),
                    name="Leads")  # fmt: skip
    with activate(acme):
        Contact.objects.filter(pk=people["ada"].pk).update(lifecycle="lead")
        services.progress_start(segment.pk)
    client.force_login(alice)
    url = f"/o/acme/segments/{segment.pk}/status/"
    waiting = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in waiting
    assert "Waiting for the worker" in waiting
    assert "segment-header" not in waiting
    assert "segment-runs" not in waiting
    assert "segment-sizes" not in waiting
    _refresh(acme, segment)
    answer = client.get(url, headers={"HX-Request": "true"})
    done = answer.content.decode()
    assert "every 1s" not in done
    assert "Refreshed: 3 members, 3 added, 0 removed." in _text(answer)
    header = done[done.index('id="segment-header"') :]
    assert header.startswith('id="segment-header" hx-swap-oob="true">')
    assert "<strong>3</strong> members" in header
    runs = done[done.index('id="segment-runs"') :]
    assert runs.startswith('id="segment-runs" aria-labelledby="runs-title" hx-swap-oob="true">')
    assert "+3 −0" in runs
    assert "Refresh now</button>" in header
    assert "disabled" not in header


# The request's own (the user, the member and organisation, and their settings); the
# segment, a page of its members, its runs and its sizes (one each, however many); and the
# why: the contact, since when they are in it, and their explanation.
SEGMENT_PAGE_QUERIES = 13


@pytest.mark.parametrize("count", [1, 3])
def test_the_segment_page_pins_its_queries_whatever_its_members(
    client: Client, acme, alice, people, count, django_assert_num_queries
) -> None:
    segment = _save(acme, alice, _all(), name="Everyone")
    for _ in range(count):
        _refresh(acme, segment)
    client.force_login(alice)
    client.get(f"/o/acme/segments/{segment.pk}/")  # the session's first read
    with django_assert_num_queries(SEGMENT_PAGE_QUERIES):
        page = client.get(f"/o/acme/segments/{segment.pk}/", {"contact": people["ada"].pk})
    assert "is in this segment, since " in _text(page)


@pytest.mark.parametrize("count", [1, 4])
def test_the_list_and_the_builder_pin_their_queries_whatever_the_segments(
    client: Client, acme, alice, people, count, django_assert_num_queries
) -> None:
    made = [_save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}),
                  name=f"Leads {i}") for i in range(count)]  # fmt: skip
    for segment in made:
        _refresh(acme, segment)
    client.force_login(alice)
    client.get("/o/acme/segments/")  # the session's first read
    with django_assert_num_queries(SEGMENT_LIST_QUERIES):
        assert f"Leads {count - 1}" in _text(client.get("/o/acme/segments/"))
    with django_assert_num_queries(SEGMENT_BUILDER_QUERIES):
        assert client.get(f"/o/acme/segments/{made[0].pk}/edit/").status_code == 200


# The list: the request's own, and the segments with their last run's status in one query.
SEGMENT_LIST_QUERIES = 9
# The builder: the request's own, the segment, the fields' choices (owners, teams, tags,
# custom fields, segments, most of them kept in the cache) and the live count.
SEGMENT_BUILDER_QUERIES = 13


def test_a_contacts_page_lists_their_segments_since_when_and_those_they_left(
    client: Client, acme, alice, people
) -> None:
    segment = _save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}),
                    name="Warm leads")  # fmt: skip
    _refresh(acme, segment)
    with activate(acme):
        Contact.objects.filter(pk=people["cy"].pk).update(lifecycle="customer")
    _refresh(acme, segment)
    client.force_login(alice)
    today = timezone.localdate().strftime("%-d %b %Y")
    bea = _text(client.get(f"/o/acme/contacts/{people['bea'].pk}/"))
    assert f"Segments 1 All segments Warm leads since {today}" in bea
    assert "Left Warm leads" not in bea
    cy = _text(client.get(f"/o/acme/contacts/{people['cy'].pk}/"))
    assert f"In no segment. Left Warm leads {today}" in cy
    assert f"{today} –" not in cy  # in and out on one day: the day once
    why = _text(client.get(f"/o/acme/segments/{segment.pk}/", {"contact": people["cy"].pk}))
    assert "is not in this segment (left it " in why


def test_a_rep_limited_to_their_own_sees_only_their_members(client: Client, acme, alice, rita,
                                                            people) -> None:  # fmt: skip
    with activate(acme):
        crm_services.org_set_visibility(org=acme, by=alice, visibility={"rep": "own"})
    segment = _save(acme, alice, _all(), name="Everyone")
    _refresh(acme, segment)
    client.force_login(rita)
    page = client.get(f"/o/acme/segments/{segment.pk}/").content.decode()
    assert "Bea" in page
    assert "Cy" in page
    assert "Ada" not in page
    listed = client.get("/o/acme/contacts/", {"segment": segment.pk}).content.decode()
    assert "Bea" in listed
    assert "Ada" not in listed
    assert "Ada" not in _text(client.get(f"/o/acme/segments/{segment.pk}/",
                                         {"who": "ada@example.com"}))  # fmt: skip


def test_refresh_now_runs_and_the_page_shows_the_run(
    client: Client, acme, alice, people, django_capture_on_commit_callbacks
):
    segment = _save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}))
    client.force_login(alice)
    with activate(acme):
        assert not SegmentRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/o/acme/segments/{segment.pk}/refresh/")
    page = _text(client.get(f"/o/acme/segments/{segment.pk}/"))
    assert "2 members" in page
    assert "2 members +2 −0" in page


def test_delete_asks_first_and_restore_brings_it_back(client: Client, acme, alice) -> None:
    segment = _save(acme, alice, _all(), name="Doomed")
    client.force_login(alice)
    assert "Delete Doomed?" in _text(client.get(f"/o/acme/segments/{segment.pk}/delete/"))
    client.post(f"/o/acme/segments/{segment.pk}/delete/")
    assert client.get(f"/o/acme/segments/{segment.pk}/").status_code == 404
    client.post(f"/o/acme/segments/{segment.pk}/restore/")
    assert client.get(f"/o/acme/segments/{segment.pk}/").status_code == 200


def test_a_viewer_reads_segments_but_cannot_change_them(client: Client, acme, alice, bob):
    segment = _save(acme, alice, _all(), name="Read me")
    client.force_login(bob)
    assert "Read me" in client.get("/o/acme/segments/").content.decode()
    assert client.get("/o/acme/segments/new/").status_code == 403
    assert client.post(f"/o/acme/segments/{segment.pk}/refresh/").status_code == 403


def test_a_contact_s_page_lists_its_segments_each_linking_to_why(
    client: Client, acme, alice, people
) -> None:
    leads = _save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}),
                  name="Leads")  # fmt: skip
    _refresh(acme, leads)
    gone = _save(acme, alice, _all(), name="Deleted one")
    _refresh(acme, gone)
    with activate(acme):
        services.segment_delete(org=acme, by=alice, segment=gone)
    client.force_login(alice)
    bea = people["bea"]
    body = client.get(f"/o/acme/contacts/{bea.pk}/").content.decode()
    card = body[body.index('id="segments"') :]
    card = card[: card.index("</section>")]
    assert f'href="/o/acme/segments/{leads.pk}/?contact={bea.pk}#why"' in card
    assert "Leads" in card
    assert "Deleted one" not in card
    assert (
        "In no segment yet." in client.get(f"/o/acme/contacts/{people['ada'].pk}/").content.decode()
    )


def test_refresh_segments_refreshes_from_the_shell(acme, alice, people) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    leads = _save(acme, alice, _all({"field": "lifecycle", "op": "is", "value": "lead"}),
                  name="Leads")  # fmt: skip
    out = StringIO()
    call_command("refresh_segments", "--org", "acme", stdout=out)
    assert out.getvalue().startswith("Leads: 2 members, 2 added, 0 removed in ")
    assert _members(acme, leads) == {"Bea", "Cy"}
    with pytest.raises(CommandError, match="No dynamic segment 999999"):
        call_command("refresh_segments", "--org", "acme", "--segment", "999999")


def test_a_condition_just_added_or_given_another_field_starts_afresh(
    client: Client, acme, alice
) -> None:
    client.force_login(alice)
    form = {"name": "", "kind": "dynamic", "schedule": "daily", "g-r-match": "all"}
    added = client.post("/o/acme/segments/new/", {**form, "do": "add:r"}).content.decode()
    assert "is not one of its values" not in added  # its value starts at the first choice
    changed = {**form, "c-r.0-was": "lifecycle", "c-r.0-field": "interactions.count",
               "c-r.0-op": "is", "c-r.0-value": "customer"}  # fmt: skip
    body = client.post("/o/acme/segments/new/", changed).content.decode()
    assert "is not a number" not in body
    assert 'name="c-r.0-value" value="1"' in body  # "at least 1", its own first operator


def test_why_shows_each_kind_of_value_as_the_page_says_it(client: Client, acme, alice, people):
    with activate(acme):
        custom_fields.custom_field_save(org=acme, by=alice, record_kind="contact", key="seats",
                                        label="Seats", kind="number", choices=[])  # fmt: skip
        Contact.objects.filter(pk=people["bea"].pk).update(custom={"seats": 40})
        vip = str(people["ada"].tag_links.get().tag_id)
    tree = _all(
        {"field": "custom.seats", "op": "gte", "value": 10},
        {"field": "owner", "op": "is", "value": alice.pk},
        {"field": "tags", "op": "has", "value": vip},
        {"field": "deals.open_amount", "op": "gte", "value": 100},
        match="any",
    )  # fmt: skip
    segment = _save(acme, alice, tree, name="Mixed")
    client.force_login(alice)
    page = _text(client.get(f"/o/acme/segments/{segment.pk}/", {"contact": people["bea"].pk}))
    assert "✓ Seats is at least 10 · Bea's: 40" in page
    assert "✗ Owner is Alice Archer · Bea's: Rita Reyes" in page
    assert "✗ Tags has VIP · Bea's: none" in page
    assert "✓ Open deals' amount is at least 100 · Bea's: 5,000" in page


def test_the_contacts_list_adds_the_selected_to_a_static_segment(
    client: Client, acme, alice, people
) -> None:
    static = _save(acme, alice, _all(), name="Conference list", kind=Segment.Kind.STATIC)
    dynamic = _save(acme, alice, _all(), name="Follows its rules")
    client.force_login(alice)
    page = client.get("/o/acme/contacts/").content.decode()
    toolbar = page[page.index('name="to_segment"') :]
    toolbar = toolbar[: toolbar.index("</select>")]
    assert f'<option value="{static.pk}">Conference list</option>' in toolbar
    assert "Follows its rules" not in toolbar  # a dynamic segment follows its rules
    chosen = [people["ada"].pk, people["bea"].pk]
    data = {"action": "add_to_segment", "to_segment": static.pk, "scope": "selected",
            "ids": chosen}  # fmt: skip
    client.post("/o/acme/contacts/bulk/apply/", data)
    assert _members(acme, static) == {"Ada", "Bea"}
    client.post(
        "/o/acme/contacts/bulk/apply/", {**data, "ids": [people["bea"].pk, people["cy"].pk]}
    )
    assert _members(acme, static) == {"Ada", "Bea", "Cy"}  # Bea once
    with activate(acme):
        static.refresh_from_db()
        assert static.size == 3
    refused = client.post("/o/acme/contacts/bulk/apply/", {**data, "to_segment": dynamic.pk},
                          follow=True)  # fmt: skip
    assert "is not a static segment" in html.unescape(refused.content.decode())
    assert _members(acme, dynamic) == set()
    # Taken out one by one on its page.
    client.post(f"/o/acme/segments/{static.pk}/remove/", {"contact": people["cy"].pk})
    assert _members(acme, static) == {"Ada", "Bea"}


def test_with_no_static_segment_the_bulk_action_says_what_to_do_first(
    client: Client, acme, alice, people
) -> None:
    dynamic = _save(acme, alice, _all(), name="Follows its rules")
    client.force_login(alice)
    page = client.get("/o/acme/contacts/").content.decode()
    toolbar = page[page.index('name="to_segment"') :]
    toolbar = toolbar[: toolbar.index("</select>")]
    assert ">No static segment yet</option>" in toolbar
    data = {"action": "add_to_segment", "to_segment": "", "scope": "selected",
            "ids": [people["ada"].pk]}  # fmt: skip
    refused = client.post("/o/acme/contacts/bulk/apply/", data, follow=True)
    assert "There is no static segment yet: make one under Segments" in html.unescape(
        refused.content.decode()
    )
    assert _members(acme, dynamic) == set()


def test_a_new_static_segment_takes_its_first_members_from_its_rules_once(
    acme, alice, people
) -> None:
    leads = _all({"field": "lifecycle", "op": "is", "value": "lead"})
    static = _save(acme, alice, leads, name="Leads today", kind=Segment.Kind.STATIC)
    assert _members(acme, static) == {"Bea", "Cy"}
    with activate(acme):
        Contact.objects.filter(pk=people["ada"].pk).update(lifecycle="lead")
        assert services.segment_refresh(org=acme, segment_id=static.pk) is None  # by hand now
    assert _members(acme, static) == {"Bea", "Cy"}


def test_a_static_segment_s_page_says_how_its_members_came_not_which_rule_they_fail(
    client: Client, acme, alice, people
) -> None:
    leads = _all({"field": "lifecycle", "op": "is", "value": "lead"})
    static = _save(acme, alice, leads, name="Guest list", kind=Segment.Kind.STATIC)
    with activate(acme):
        services.segment_add(org=acme, by=alice, segment=static,
                             contacts=Contact.objects.filter(pk=people["ada"].pk))  # fmt: skip
    client.force_login(alice)
    page = html.unescape(
        client.get(f"/o/acme/segments/{static.pk}/?contact={people['ada'].pk}").content.decode()
    )
    assert "is in this segment, since" in page
    assert "A static segment keeps the contacts put in it" in page
    assert "The first condition they fail" not in page  # Ada, a customer, was added by hand
    assert "filled from its rules once, when it is made; then by hand" in page
    assert "A static segment is not refreshed" in page
    assert "The chart draws itself" not in page  # no size history to draw
    by_hand = _save(acme, alice, _all(), name="By hand", kind=Segment.Kind.STATIC)
    everyone = _save(acme, alice, _all(), name="Everyone")
    assert (
        "None: its members are added by hand."
        in client.get(f"/o/acme/segments/{by_hand.pk}/").content.decode()
    )
    assert (
        "No conditions: every contact is a member."
        in client.get(f"/o/acme/segments/{everyone.pk}/").content.decode()
    )
