"""When Redis or the database cannot be reached: signed-in pages go on from the database,
tasks that cannot be sent are logged rather than answering 500, and what cannot work
answers a plain 503 that says to try again."""

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory, TestCase

from contacts.models import Contact
from crm import cache as crm_cache
from crm.celery import app
from crm.models import Organization, User
from crm.tasks import enqueue
from crm.tenancy import activate
from crm.views.platform import server_error
from tests.conftest import PASSWORD, unused_port


def _stop_redis(settings: Any) -> str:
    """Point the cache at a port nothing listens on: Redis stopped, as far as it knows."""
    dead = f"redis://127.0.0.1:{unused_port()}/1"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": dead}}
    crm_cache.BREAKER.until = 0
    return dead


@pytest.fixture
def redis_down(settings: Any) -> Iterator[str]:
    yield _stop_redis(settings)
    crm_cache.BREAKER.until = 0


@pytest.mark.django_db
def test_signed_in_pages_and_writes_go_on_from_the_database(
    client: Client, rita: User, acme: Organization, settings: Any, caplog: Any
) -> None:
    client.force_login(rita)  # the session is in the database, and was in the cache
    _stop_redis(settings)
    with caplog.at_level(logging.WARNING, logger="crm.cache"):
        page = client.get("/o/acme/contacts/")
        assert page.status_code == 200
        assert "Rita Reyes" in page.content.decode()
        created = client.post("/o/acme/contacts/new/", {
            "first_name": "Ada", "last_name": "", "email": "ada@x.org", "phone": "",
            "company": "", "lifecycle": "lead", "tags": "", "owner": "", "country": "",
        })  # fmt: skip
    assert created.status_code == 302
    with activate(acme):
        assert Contact.objects.get().email == "ada@x.org"
    assert "The cache cannot be reached" in caplog.text
    crm_cache.BREAKER.until = 0


@pytest.mark.django_db
def test_signing_in_works_with_redis_down(client: Client, rita: User, redis_down: str) -> None:
    response = client.post("/accounts/login/", {"login": rita.email, "password": PASSWORD})
    assert response["Location"] == "/"
    assert client.get("/o/acme/").status_code == 200


@pytest.mark.django_db
def test_after_one_failure_the_process_leaves_redis_alone_for_a_while(redis_down: str) -> None:
    from django.core.cache import cache

    assert cache.get("anything", "missed") == "missed"
    assert crm_cache.BREAKER.open()
    cache.set("anything", 1)  # dropped, without trying
    assert cache.get("anything") is None


@pytest.mark.django_db
def test_a_task_that_cannot_be_sent_is_logged_and_the_write_stands(
    not_eager: None, caplog: Any, acme: Organization
) -> None:
    broker = app.conf.broker_url
    _use_broker(f"redis://127.0.0.1:{unused_port()}/0")
    try:
        with (
            caplog.at_level(logging.WARNING, logger="crm.tasks"),
            activate(acme),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            enqueue("records.duplicates_find", org_id=acme.pk)
    finally:
        _use_broker(broker)
    assert "Could not send records.duplicates_find" in caplog.text


def _use_broker(url: str) -> None:
    # The app keeps its connection and producer pools for the URL it first used.
    app.conf["broker_url"] = url
    vars(app)["_pool"] = None
    vars(app.amqp)["_producer_pool"] = None


def test_a_database_that_cannot_be_reached_answers_503_to_try_again() -> None:
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(RequestFactory().get("/o/acme/contacts/"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "try again in a minute" in response.content.decode().lower()
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(RequestFactory().get("/")).status_code == 500


@pytest.mark.django_db(transaction=True)
def test_a_page_answers_503_while_the_database_is_down(
    client: Client, rita: User, acme: Organization
) -> None:
    client.force_login(rita)
    client.raise_request_exception = False
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(unused_port())
    try:
        response = client.get("/o/acme/contacts/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert "We can’t reach part of our service right now" in response.content.decode()
