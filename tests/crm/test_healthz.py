import pytest
from django.test import Client


@pytest.mark.django_db
def test_it_answers_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_names_the_broker_when_redis_is_unreachable(client: Client, settings, free_port) -> None:
    # Nothing listens on free_port: a real refused connection, not a mock.
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("unreachable")


@pytest.mark.django_db
def test_it_refuses_writes(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
