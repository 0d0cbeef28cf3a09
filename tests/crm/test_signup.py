"""A new person signs up, confirms the address from the mail, logs out and logs in again."""

import re

import pytest
from django.core import mail
from django.test import Client

from crm.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_up(client: Client, email: str = "dana@example.com") -> None:
    response = client.post(
        "/accounts/signup/",
        {
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "organization_name": "Dunder",
        },
    )
    assert response.status_code == 302


def test_it_signs_up_confirms_logs_out_and_logs_in(client: Client) -> None:
    _sign_up(client)
    assert User.objects.get().email == "dana@example.com"
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", str(message.body))
    assert link, message.body
    assert str(message.body).startswith("Hello from Kestrel CRM!")  # the product, not the host

    confirmed = client.post(link.group(1))
    assert confirmed["Location"] == "/"  # signed in by the link, not sent to the login page
    assert client.get("/")["Location"] == "/o/dunder/"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302  # logged out: sent to the login page

    response = client.post("/accounts/login/", {"login": "dana@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == "/o/dunder/"
    assert "dana@example.com" in client.get("/o/dunder/").content.decode()


def test_it_holds_back_login_until_the_email_is_confirmed(client: Client) -> None:
    _sign_up(client)
    client.logout()
    response = client.post("/accounts/login/", {"login": "dana@example.com", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/").status_code == 302


def test_it_does_not_reveal_a_taken_address(client: Client, make_user) -> None:
    make_user("dana@example.com")
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Dana@Example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "organization_name": "Dunder",
        },
    )
    # The page looks like any sign-up, so nobody can probe which addresses have accounts;
    # the owner of the address is told by mail instead.
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.count() == 1
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert "already" in message.body


def test_it_explains_mismatched_passwords_next_to_the_field(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"email": "dana@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    assert response.status_code == 200
    assert "You must type the same password each time." in response.content.decode()
    assert User.objects.count() == 0


def test_it_asks_for_a_password_of_twelve_characters_at_least(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"email": "dana@example.com", "password1": "Qz8#mK2!pL9", "password2": "Qz8#mK2!pL9",
         "organization_name": "Dunder"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "It must contain at least 12 characters." in response.content.decode()
    assert User.objects.count() == 0


def test_it_rejects_a_wrong_password_with_a_message(client: Client, make_user) -> None:
    make_user("dana@example.com")
    response = client.post("/accounts/login/", {"login": "dana@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
