"""/o/<org>/settings/queues/, sla-policies/, business-hours/, canned-replies/ and support/:
what each page saves, the errors it shows instead of saving, and who may open it."""

from datetime import date

import pytest

from crm.models import AuditEvent
from crm.tenancy import activate
from support import settings_services as services
from support.models import (
    BusinessCalendar,
    CannedReply,
    Queue,
    QueueAgent,
    SlaPolicy,
    SlaTarget,
    SupportSettings,
)

pytestmark = pytest.mark.django_db

S = "/o/acme/settings"
WEEKDAYS_9_TO_5 = [[[540, 1020]]] * 5 + [[], []]


@pytest.fixture
def calendar(acme, alice) -> BusinessCalendar:
    with activate(acme):
        return services.calendar_save(org=acme, by=alice, name="Office", zone="Europe/Paris",
                                      weekly=WEEKDAYS_9_TO_5, holidays=[])  # fmt: skip


@pytest.fixture
def policy(acme, alice, calendar) -> SlaPolicy:
    with activate(acme):
        return services.policy_save(org=acme, by=alice, name="Standard", calendar=calendar,
                                    is_default=True, targets={"normal": (60, 480)})  # fmt: skip


@pytest.fixture
def queue(acme, alice) -> Queue:
    with activate(acme):
        return services.queue_create(org=acme, by=alice, name="Billing")


@pytest.fixture
def reply(acme, alice) -> CannedReply:
    with activate(acme):
        return services.canned_reply_save(org=acme, by=alice, name="Reset", body="Hi there.")


def _queue_post(**values: object) -> dict[str, object]:
    return {"name": "Support", "email": "", "lead": "", "policy": "", "assignment": "manual",
            **values}  # fmt: skip


def _policy_post(calendar: BusinessCalendar, **values: object) -> dict[str, object]:
    return {"name": "Gold", "calendar": calendar.pk, "near_breach_percent": "75",
            "notify_lead": "on", **values}  # fmt: skip


def _calendar_post(**values: object) -> dict[str, object]:
    week = {f"open_{i}": "on" for i in range(5)}
    week |= {f"start_{i}": "09:00" for i in range(5)} | {f"end_{i}": "17:30" for i in range(5)}
    return {"name": "London office", "zone": "Europe/London", "holidays": "", **week, **values}


def _audited(acme, action: str) -> int:
    with activate(acme):
        return AuditEvent.objects.filter(action=action).count()


# --- Queues -----------------------------------------------------------------------------------


def test_it_adds_a_queue_with_its_lead_policy_and_agents(client, acme, alice, sam, policy):
    client.force_login(alice)
    data = _queue_post(email="Help@Acme.test", lead=alice.pk, policy=policy.pk,
                       assignment="round_robin", agents=[sam.pk, alice.pk])  # fmt: skip
    response = client.post(f"{S}/queues/new/", data)
    with activate(acme):
        queue = Queue.objects.get(name="Support")
        agents = set(QueueAgent.objects.filter(queue=queue).values_list("user_id", flat=True))
    assert response.url == f"{S}/queues/{queue.pk}/"
    assert (queue.email, queue.lead_id, queue.policy_id, queue.assignment) == (
        "Help@acme.test", alice.pk, policy.pk, "round_robin")  # fmt: skip
    assert agents == {sam.pk, alice.pk}
    assert _audited(acme, "queue.created") == 1


def test_the_list_shows_each_queues_inbound_address(client, alice, queue):
    client.force_login(alice)
    body = client.get(f"{S}/queues/").content.decode()
    assert f"/inbound/email/{queue.inbound_token}/" in body
    assert "Billing" in body


def test_the_queue_list_takes_a_fixed_number_of_queries(
    client, acme, alice, sam, policy, django_assert_max_num_queries
):
    with activate(acme):
        for name in ("Billing", "Technical", "Sales"):
            services.queue_create(org=acme, by=alice, name=name, lead=sam, policy=policy,
                                  agents=[sam, alice])  # fmt: skip
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        body = client.get(f"{S}/queues/").content.decode()
    assert body.count("Sam Singh") == 3


def test_it_edits_a_queue_and_its_agents(client, acme, alice, sam, queue):
    client.force_login(alice)
    post = _queue_post(name="Billing & refunds", agents=[sam.pk], assignment="least_open")
    client.post(f"{S}/queues/{queue.pk}/", post)
    with activate(acme):
        queue.refresh_from_db()
        agents = list(QueueAgent.objects.filter(queue=queue).values_list("user_id", flat=True))
    assert (queue.name, queue.assignment, agents) == ("Billing & refunds", "least_open", [sam.pk])
    assert _audited(acme, "queue.updated") == 1


def test_the_history_names_people_and_policies(client, acme, alice, sam, policy, queue):
    client.force_login(alice)
    post = _queue_post(name="Billing", lead=sam.pk, policy=policy.pk, agents=[sam.pk])
    client.post(f"{S}/queues/{queue.pk}/", post)
    with activate(acme):
        changes = AuditEvent.objects.get(action="queue.updated").changes
    assert changes["lead"] == [None, "Sam Singh"]
    assert changes["policy"] == [None, "Standard"]
    assert changes["agents"] == [[], ["Sam Singh"]]


def test_a_taken_name_is_a_field_error_whatever_its_case(client, acme, alice, queue):
    client.force_login(alice)
    response = client.post(f"{S}/queues/new/", _queue_post(name="  BILLING "))
    assert response.status_code == 200
    assert "There is already a queue called “BILLING”." in response.content.decode()
    with activate(acme):
        assert Queue.objects.count() == 1


def test_garbage_is_a_form_error_and_changes_nothing(client, acme, alice, queue):
    client.force_login(alice)
    post = _queue_post(name="x" * 101, email="nope", lead="abc", policy="99999999999999999999",
                       assignment="fastest", agents=["99999999999999999999", "x"])  # fmt: skip
    response = client.post(f"{S}/queues/{queue.pk}/", post)
    assert response.status_code == 200
    assert response.content.decode().count('class="field__error"') == 6
    with activate(acme):
        assert Queue.objects.get().name == "Billing"


def test_it_refuses_a_rep_as_an_agent(client, acme, alice, rita, queue):
    client.force_login(alice)
    response = client.post(f"{S}/queues/{queue.pk}/", _queue_post(agents=[rita.pk]))
    assert response.status_code == 200
    with activate(acme):
        assert not QueueAgent.objects.exists()


def test_it_archives_a_queue_and_brings_it_back(client, acme, alice, queue):
    client.force_login(alice)
    client.post(f"{S}/queues/{queue.pk}/archive/")
    with activate(acme):
        assert Queue.objects.get().is_archived
    client.post(f"{S}/queues/{queue.pk}/archive/")
    with activate(acme):
        assert not Queue.objects.get().is_archived
    assert _audited(acme, "queue.archived") == _audited(acme, "queue.unarchived") == 1


def test_a_new_address_replaces_the_old_one(client, acme, alice, queue):
    old = queue.inbound_token
    client.force_login(alice)
    assert client.get(f"{S}/queues/{queue.pk}/new-address/").status_code == 405
    client.post(f"{S}/queues/{queue.pk}/new-address/")
    with activate(acme):
        queue.refresh_from_db()
    assert queue.inbound_token != old
    assert _audited(acme, "queue.address_rotated") == 1


def test_a_rep_may_not_open_queue_settings(client, rita, queue):
    client.force_login(rita)
    assert client.get(f"{S}/queues/").status_code == 403
    assert client.post(f"{S}/queues/{queue.pk}/archive/").status_code == 403


def test_another_organisations_queue_answers_404(client, acme, globex, charlie, queue):
    client.force_login(charlie)
    assert client.get(f"/o/globex/settings/queues/{queue.pk}/").status_code == 404
    assert client.post(f"/o/globex/settings/queues/{queue.pk}/archive/").status_code == 404
    with activate(acme):
        assert not Queue.objects.get().is_archived


# --- SLA policies -----------------------------------------------------------------------------


def test_it_saves_the_targets_in_minutes(client, acme, alice, calendar):
    client.force_login(alice)
    data = _policy_post(calendar, urgent_first_response="0:30", urgent_resolution="4:00",
                        high_first_response="2h", high_resolution="1h 30m")  # fmt: skip
    response = client.post(f"{S}/sla-policies/new/", data)
    assert "Solving cannot be due before the first response." in response.content.decode()
    data["high_resolution"] = "16:00"
    client.post(f"{S}/sla-policies/new/", data)
    with activate(acme):
        found = set(SlaTarget.objects.values_list(
            "priority", "first_response_minutes", "resolution_minutes"))  # fmt: skip
    assert found == {("urgent", 30, 240), ("high", 120, 960)}


def test_it_shows_bad_durations_next_to_their_field(client, acme, alice, calendar):
    client.force_login(alice)
    data = _policy_post(calendar, low_first_response="soon", low_resolution="8:00")
    body = client.post(f"{S}/sla-policies/new/", data).content.decode()
    assert "Give hours and minutes, such as 1:30, 8:00, 2h or 45m." in body
    assert 'id="id_low_first_response_error_1"' in body
    with activate(acme):
        assert not SlaPolicy.objects.exists()


def test_making_one_default_undefaults_the_other(client, acme, alice, calendar, policy):
    client.force_login(alice)
    client.post(f"{S}/sla-policies/new/", _policy_post(calendar, is_default="on"))
    with activate(acme):
        defaults = list(SlaPolicy.objects.filter(is_default=True).values_list("name", flat=True))
    assert defaults == ["Gold"]


def test_the_policy_list_shows_targets_in_hours_and_minutes(
    client, alice, policy, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        body = client.get(f"{S}/sla-policies/").content.decode()
    assert '<td class="num">1:00<span class="settings-unit">' in body
    assert '<td class="num">8:00<span class="settings-unit">' in body


def test_it_edits_a_policy_and_drops_a_cleared_target(client, acme, alice, calendar, policy):
    client.force_login(alice)
    data = _policy_post(calendar, name="Standard", is_default="on",
                        urgent_first_response="15m", urgent_resolution="2:00")  # fmt: skip
    client.post(f"{S}/sla-policies/{policy.pk}/", data)
    with activate(acme):
        found = list(SlaTarget.objects.values_list("priority", "first_response_minutes"))
        policy.refresh_from_db()
    assert found == [("urgent", 15)]
    assert (policy.near_breach_percent, policy.is_default) == (75, True)


def test_a_policy_a_queue_uses_is_not_deleted(client, acme, alice, policy, queue):
    with activate(acme):
        Queue.objects.filter(pk=queue.pk).update(policy=policy)
    client.force_login(alice)
    body = client.post(f"{S}/sla-policies/{policy.pk}/delete/").content.decode()
    assert "1 queue uses Standard: give it another policy first." in body
    with activate(acme):
        assert SlaPolicy.objects.exists()


def test_an_unused_policy_is_deleted(client, acme, alice, policy):
    client.force_login(alice)
    assert "Delete policy" in client.get(f"{S}/sla-policies/{policy.pk}/delete/").content.decode()
    client.post(f"{S}/sla-policies/{policy.pk}/delete/")
    with activate(acme):
        assert not SlaPolicy.objects.exists()
        assert not SlaTarget.objects.exists()
    assert _audited(acme, "sla_policy.deleted") == 1


# --- Business hours ---------------------------------------------------------------------------


def test_it_adds_business_hours(client, acme, alice):
    client.force_login(alice)
    post = _calendar_post(open_5="on", start_5="10:00", end_5="24:00",
                          holidays="2026-12-25\n\n 2026-01-01 ")  # fmt: skip
    client.post(f"{S}/business-hours/new/", post)
    with activate(acme):
        calendar = BusinessCalendar.objects.get()
    assert calendar.zone == "Europe/London"
    assert calendar.weekly == [[[540, 1050]]] * 5 + [[[600, 1440]], []]
    assert calendar.holidays == [date(2026, 1, 1), date(2026, 12, 25)]


def test_it_refuses_a_day_that_closes_before_it_opens(client, acme, alice):
    client.force_login(alice)
    response = client.post(f"{S}/business-hours/new/", _calendar_post(end_2="08:00"))
    body = response.content.decode()
    assert "Wednesday closes after it opens: give a later time." in body
    assert 'id="id_end_2_error_1"' in body
    with activate(acme):
        assert not BusinessCalendar.objects.exists()


def test_it_names_each_bad_holiday_line(client, acme, alice):
    client.force_login(alice)
    post = _calendar_post(holidays="2026-12-25\nChristmas\n2026-02-30")
    body = client.post(f"{S}/business-hours/new/", post).content.decode()
    assert "Line 2: “Christmas” is not a date; write it as 2026-12-25." in body
    assert "Line 3: “2026-02-30” is not a date" in body
    with activate(acme):
        assert not BusinessCalendar.objects.exists()


def test_it_refuses_an_unknown_time_zone(client, acme, alice):
    client.force_login(alice)
    post = _calendar_post(zone="Mars/Olympus_Mons", start_0="25:00")
    body = client.post(f"{S}/business-hours/new/", post).content.decode()
    assert "Choose a time zone from the list." in body
    assert "Give a time as HH:MM, such as 09:00 or 17:30." in body
    with activate(acme):
        assert not BusinessCalendar.objects.exists()


def test_business_hours_a_policy_counts_in_are_not_deleted(client, acme, alice, policy):
    client.force_login(alice)
    path = f"{S}/business-hours/{policy.calendar_id}/delete/"
    assert "1 SLA policy counts in" in client.get(path).content.decode()
    body = client.post(path).content.decode()
    assert "An SLA policy counts in Office: give it other business hours first." in body
    with activate(acme):
        assert BusinessCalendar.objects.exists()


def test_unused_business_hours_are_deleted(client, acme, alice, calendar):
    client.force_login(alice)
    client.post(f"{S}/business-hours/{calendar.pk}/delete/")
    with activate(acme):
        assert not BusinessCalendar.objects.exists()


# --- Canned replies ---------------------------------------------------------------------------


def test_an_agent_adds_edits_and_deletes_a_canned_reply(client, acme, sam):
    client.force_login(sam)
    body = client.get(f"{S}/canned-replies/new/").content.decode()
    for placeholder in ("{{ contact.first_name }}", "{{ ticket.number }}", "{{ agent.name }}"):
        assert placeholder in body
    client.post(
        f"{S}/canned-replies/new/", {"name": "Refund", "body": "Hi {{ contact.first_name }}"}
    )
    with activate(acme):
        reply = CannedReply.objects.get()
    assert reply.created_by_id == sam.pk
    client.post(f"{S}/canned-replies/{reply.pk}/", {"name": "Refunds", "body": "Done."})
    with activate(acme):
        reply.refresh_from_db()
    assert (reply.name, reply.body) == ("Refunds", "Done.")
    assert (
        "Delete the canned reply"
        in client.get(f"{S}/canned-replies/{reply.pk}/delete/").content.decode()
    )
    client.post(f"{S}/canned-replies/{reply.pk}/delete/")
    with activate(acme):
        assert not CannedReply.objects.exists()


def test_a_canned_reply_name_is_taken_whatever_its_case(client, acme, sam, reply):
    client.force_login(sam)
    response = client.post(f"{S}/canned-replies/new/", {"name": "reset", "body": "Again."})
    assert "There is already a reply called “reset”." in response.content.decode()
    with activate(acme):
        assert CannedReply.objects.count() == 1


def test_a_viewer_reads_canned_replies_but_may_not_change_them(client, acme, bob, reply):
    client.force_login(bob)
    body = client.get(f"{S}/canned-replies/").content.decode()
    assert "Reset" in body
    assert "New reply" not in body
    assert client.get(f"{S}/canned-replies/new/").status_code == 403
    assert (
        client.post(f"{S}/canned-replies/{reply.pk}/", {"name": "X", "body": "Y"}).status_code
        == 403
    )
    assert client.post(f"{S}/canned-replies/{reply.pk}/delete/").status_code == 403
    with activate(acme):
        assert CannedReply.objects.get().name == "Reset"


def test_another_organisations_canned_reply_answers_404(client, globex, charlie, reply):
    client.force_login(charlie)
    assert client.get(f"/o/globex/settings/canned-replies/{reply.pk}/").status_code == 404
    assert client.post(f"/o/globex/settings/canned-replies/{reply.pk}/delete/").status_code == 404


# --- Support settings and access --------------------------------------------------------------


def test_it_turns_the_rating_off_and_on(client, acme, alice):
    client.force_login(alice)
    assert client.get(f"{S}/support/").status_code == 200
    client.post(f"{S}/support/", {})  # the box unticked posts nothing
    with activate(acme):
        assert SupportSettings.objects.get().csat_enabled is False
    client.post(f"{S}/support/", {"csat_enabled": "on"})
    with activate(acme):
        assert SupportSettings.objects.get().csat_enabled is True
    assert _audited(acme, "support_settings.updated") == 2


@pytest.mark.parametrize("who", ["rita", "sam", "bob"])
def test_only_admins_open_the_support_setup(client, who, request, policy, queue):
    client.force_login(request.getfixturevalue(who))
    for path in ("queues/", "queues/new/", f"queues/{queue.pk}/", "sla-policies/",
                 f"sla-policies/{policy.pk}/delete/", "business-hours/",
                 f"business-hours/{policy.calendar_id}/", "support/"):  # fmt: skip
        assert client.get(f"{S}/{path}").status_code == 403, path


def test_another_organisations_policy_and_hours_answer_404(client, globex, charlie, policy):
    client.force_login(charlie)
    for path in (f"sla-policies/{policy.pk}/", f"sla-policies/{policy.pk}/delete/",
                 f"business-hours/{policy.calendar_id}/",
                 f"business-hours/{policy.calendar_id}/delete/"):  # fmt: skip
        assert client.post(f"/o/globex/settings/{path}").status_code == 404, path
