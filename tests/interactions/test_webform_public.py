"""/forms/<org id>.<key>/: the public capture form, and what a submission files."""

import threading
import time
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from contacts.models import ConsentEvent, Contact
from crm.tenancy import activate
from interactions import webforms
from interactions.models import Interaction, Task, WebForm
from interactions.services import task_create
from interactions.webforms import webform_create, webform_token, webform_update
from tests.factories import ContactFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"}


@pytest.fixture
def webform(acme, alice) -> WebForm:
    with activate(acme):
        return webform_create(
            org=acme, by=alice, name="Contact us", owner=alice, consent_label="Send me news",
            thank_you="Thanks, we will call you.",
            fields=[{"name": "first_name"}, {"name": "last_name"}, {"name": "phone"},
                    {"name": "job_title"}, {"name": "company"}],
        )  # fmt: skip


@pytest.fixture
def url(webform) -> str:
    return f"/forms/{webform_token(webform)}/"


def _contacts(org) -> list[Contact]:
    with activate(org):
        return cast(list[Contact], list(Contact.objects.select_related("company").order_by("pk")))


def _rows(org, model) -> list:
    with activate(org):
        return list(model.objects.order_by("pk"))


def test_it_shows_the_form_framable_with_a_strict_policy(client, url):
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("first_name", "last_name", "email", "phone", "job_title", "company", "consent"):
        assert f'name="{name}"' in body
    assert "Send me news" in body
    assert "X-Frame-Options" not in response.headers
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self'" in policy
    assert "<script" not in body
    assert "csrfmiddlewaretoken" not in body


def test_it_creates_a_contact_and_says_thanks(client, acme, url):
    response = client.post(url, {**ADA, "phone": "+44 20 7946 0958", "company": "Engines Ltd"})
    assert response.status_code == 200
    assert "Thanks, we will call you." in response.content.decode()
    [ada] = _contacts(acme)
    assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Lovelace", "ada@example.com")
    assert (ada.phone, ada.company.name) == ("+442079460958", "Engines Ltd")
    assert ada.source == "Web form: Contact us"


def test_it_updates_the_contact_with_that_email_without_blanking_it(client, acme, rita, url):
    ada = ContactFactory(org=acme, email="ada@example.com", first_name="Ada",
                         last_name="Byron", job_title="Countess", owner=rita)  # fmt: skip
    client.post(url, {"email": "ADA@example.com", "last_name": "Lovelace", "first_name": ""})
    [contact] = _contacts(acme)
    assert contact.pk == ada.pk
    assert (contact.first_name, contact.last_name) == ("Ada", "Lovelace")
    assert (contact.job_title, contact.owner_id) == ("Countess", rita.pk)


def test_it_records_the_consent_when_ticked(client, acme, url):
    client.post(url, {**ADA, "consent": "on"})
    [ada] = _contacts(acme)
    [event] = _rows(acme, ConsentEvent)
    assert (event.contact_id, event.purpose, event.granted) == (ada.pk, "email_marketing", True)
    assert "Contact us" in event.how
    assert ada.consent["email_marketing"]["granted"] is True


def test_it_records_no_consent_when_not_ticked(client, acme, url):
    client.post(url, ADA)
    assert _rows(acme, ConsentEvent) == []
    assert _contacts(acme)[0].consent == {}


def test_it_logs_an_inbound_web_form_interaction(client, acme, url):
    client.post(url, {**ADA, "job_title": "Analyst", "consent": "on"})
    [ada] = _contacts(acme)
    [logged] = _rows(acme, Interaction)
    assert (logged.channel, logged.direction) == ("web_form", "inbound")
    assert (logged.subject, logged.contact_id) == ("Web form: Contact us", ada.pk)
    assert logged.author_id is None  # it arrived on its own
    assert "First name: Ada" in logged.body
    assert "Job title: Analyst" in logged.body
    assert "Send me news: Yes" in logged.body


@time_machine.travel(datetime(2026, 3, 6, 16, 0, tzinfo=ZoneInfo("UTC")))  # a Friday
def test_it_gives_the_forms_owner_a_task_due_next_working_day(client, acme, alice, url):
    client.post(url, ADA)
    [logged] = _rows(acme, Interaction)
    [task] = _rows(acme, Task)
    assert (task.assignee_id, task.contact_id) == (alice.pk, logged.contact_id)
    assert task.source_key == f"web_form:{logged.pk}"
    assert task.due_at == datetime(2026, 3, 9, 9, 0, tzinfo=ZoneInfo("UTC"))  # Monday


def test_it_gives_the_contacts_owner_the_task(client, acme, rita, url):
    ContactFactory(org=acme, email="ada@example.com", owner=rita)
    client.post(url, ADA)
    assert [t.assignee_id for t in _rows(acme, Task)] == [rita.pk]


def test_each_submission_gets_its_own_task_and_a_repeat_makes_none(client, acme, url):
    client.post(url, ADA)
    client.post(url, ADA)
    first, _ = _rows(acme, Interaction)
    assert len(_rows(acme, Task)) == 2
    with activate(acme):
        again = task_create(org=acme, by=None, title="Again", source_key=f"web_form:{first.pk}")
    assert again.source_key == f"web_form:{first.pk}"
    assert len(_rows(acme, Task)) == 2


def test_it_counts_the_submissions(client, acme, url, webform):
    client.post(url, ADA)
    client.post(url, ADA)
    assert _rows(acme, WebForm)[0].submissions == 2


def test_it_captures_a_custom_field(client, acme, alice):
    CustomFieldFactory(org=acme, key="budget", label="Budget", kind="number")
    with activate(acme):
        form = webform_create(org=acme, by=alice, name="Quote",
                              fields=[{"name": "custom_budget", "required": True}])  # fmt: skip
    url = f"/forms/{webform_token(form)}/"
    assert 'name="custom_budget"' in client.get(url).content.decode()
    assert client.post(url, {"email": "ada@example.com"}).status_code == 400
    response = client.post(url, {"email": "ada@example.com", "custom_budget": "5000"})
    assert response.status_code == 200
    assert _contacts(acme)[0].custom == {"budget": 5000}
    assert "Budget: 5000" in _rows(acme, Interaction)[0].body


def test_it_keeps_the_contacts_other_custom_values(client, acme, alice):
    CustomFieldFactory(org=acme, key="budget", kind="number")
    CustomFieldFactory(org=acme, key="region_code", kind="text")
    ContactFactory(org=acme, email="ada@example.com", custom={"region_code": "EU"})
    with activate(acme):
        form = webform_create(org=acme, by=alice, name="Quote", fields=[{"name": "custom_budget"}])
    url = f"/forms/{webform_token(form)}/"
    client.post(url, {"email": "ada@example.com", "custom_budget": "7"})
    assert _contacts(acme)[0].custom == {"budget": 7, "region_code": "EU"}


def test_the_honeypot_thanks_a_bot_and_stores_nothing(client, acme, url):
    response = client.post(url, {**ADA, "website": "http://spam.example"})
    assert response.status_code == 200
    assert "Thanks, we will call you." in response.content.decode()
    assert _contacts(acme) == []
    assert _rows(acme, Interaction) == []
    assert _rows(acme, WebForm)[0].submissions == 0


def test_it_limits_submissions_per_address(client, acme, url, monkeypatch):
    monkeypatch.setattr(webforms, "RATE_LIMIT", 3)
    for _ in range(3):
        assert client.post(url, ADA).status_code == 200
    response = client.post(url, ADA)
    assert response.status_code == 429
    assert "Too many submissions" in response.content.decode()
    assert response["Retry-After"] == "600"
    assert len(_rows(acme, Interaction)) == 3
    # Another address is not held back by this one.
    assert client.post(url, ADA, REMOTE_ADDR="203.0.113.9").status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_name": "Ada"}, "email", "This field is required."),
        ({"email": "not an address"}, "email", "Enter a valid email address."),
        ({"email": "ada@example.com", "phone": "12"}, "phone", "is not a phone number"),
        ({"email": "ada@example.com", "first_name": "A" * 101}, "first_name", "at most 100"),
        ({"email": "ada@example.com", "job_title": "x\x00y"}, "job_title", "Null characters"),
    ],
)
def test_it_refuses_bad_input_beside_its_field_and_stores_nothing(
    client, acme, url, data, field, message
):
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert f'id="id_{field}_error_1"' in body
    assert _contacts(acme) == []
    assert _rows(acme, Interaction) == []


def test_it_refuses_an_oversize_submission(client, acme, url):
    response = client.post(url, {**ADA, "job_title": "x" * 70_000})
    assert response.status_code == 413
    assert _contacts(acme) == []


def test_an_inactive_form_answers_404(client, acme, alice, url, webform):
    with activate(acme):
        webform_update(org=acme, form=webform, by=alice, is_active=False)
    assert client.get(url).status_code == 404
    assert client.post(url, ADA).status_code == 404
    assert _contacts(acme) == []


@pytest.mark.parametrize(
    "token",
    ["nope", "1.nope", "999999.x", "..", "-1.x", "².x", "١.abc", "9" * 30 + ".x",
     "1." + "a" * 5000, "1.a b", "1.ä"],
)  # fmt: skip
def test_it_answers_404_to_a_token_that_opens_nothing(client, acme, webform, token):
    assert client.get(f"/forms/{token}/").status_code == 404
    assert client.post(f"/forms/{token}/", ADA).status_code == 404
    assert _contacts(acme) == []


def test_it_answers_404_to_a_key_with_another_organisations_id(client, acme, globex, webform):
    response = client.post(f"/forms/{globex.pk}.{webform.key}/", ADA)
    assert response.status_code == 404
    assert _contacts(acme) == []
    assert _contacts(globex) == []


def test_it_answers_404_without_the_dot(client, acme, webform):
    assert client.get(f"/forms/{acme.pk}{webform.key}/").status_code == 404


def test_it_pins_the_queries_of_the_form(client, url, django_assert_max_num_queries):
    client.get(url)  # the custom fields' definitions are cached after the first
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200


def test_a_malformed_token_costs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/forms/²." + "a" * 43 + "/").status_code == 404


@pytest.mark.django_db(transaction=True)  # two real transactions racing to one new address
def test_it_makes_one_contact_of_a_new_address_submitted_twice_at_once(acme, webform):
    first_in = threading.Event()

    def submit(hold: bool) -> None:
        try:
            if not hold:
                first_in.wait()
            with transaction.atomic(), activate(acme):
                webforms.webform_submit(org=acme, form=webform, values=dict(ADA))
                if hold:
                    first_in.set()
                    time.sleep(0.5)  # the second now waits on this transaction
        finally:
            first_in.set()
            connection.close()

    threads = [threading.Thread(target=submit, args=(hold,)) for hold in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_contacts(acme)) == 1
    assert len(_rows(acme, Interaction)) == 2
