"""A new person signs up, confirms the address from the mail, logs out and logs in again."""

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from crm.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_up(client: Client, email: str = "dana@example.com", **extra: str) -> Any:
    data = {"name": "Dana Scully", "email": email, "password1": PASSWORD, "password2": PASSWORD,
            "organization_name": "Dunder", **extra}  # fmt: skip
    return client.post("/accounts/signup/", data)


def test_it_signs_up_confirms_logs_out_and_logs_in(client: Client) -> None:
    assert _sign_up(client).status_code == 302
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
    assert "Dana Scully" in client.get("/o/dunder/").content.decode()  # the account menu


def test_it_holds_back_login_until_the_email_is_confirmed(client: Client) -> None:
    assert _sign_up(client).status_code == 302
    client.logout()
    response = client.post("/accounts/login/", {"login": "dana@example.com", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/").status_code == 302


def test_it_stores_the_name_as_first_and_last(client: Client) -> None:
    assert _sign_up(client, name="  Maria   de la Cruz ").status_code == 302
    user = User.objects.get()
    assert (user.first_name, user.last_name) == ("Maria", "de la Cruz")
    assert user.display_name == "Maria de la Cruz"


def test_it_asks_for_a_name(client: Client) -> None:
    response = _sign_up(client, name=" ")
    assert response.status_code == 200
    assert "Give your name." in response.content.decode()
    assert User.objects.count() == 0


def test_it_refuses_an_email_address_as_the_name(client: Client) -> None:
    response = _sign_up(client, name="dana@example.com")
    assert "Give your name rather than an email address." in response.content.decode()
    assert User.objects.count() == 0


def test_it_asks_for_the_name_first(client: Client) -> None:
    page = client.get("/accounts/signup/").content.decode()
    assert page.index('name="name"') < page.index('name="email"')
    assert "Your name" in page


def test_it_does_not_reveal_a_taken_address(client: Client, make_user) -> None:
    make_user("dana@example.com")
    response = _sign_up(client, email="Dana@Example.com")
    # The page looks like any sign-up, so nobody can probe which addresses have accounts;
    # the owner of the address is told by mail instead.
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.count() == 1
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert "already" in message.body


def test_it_explains_mismatched_passwords_next_to_the_field(client: Client) -> None:
    response = _sign_up(client, password2=PASSWORD + "x")
    assert response.status_code == 200
    assert "You must type the same password each time." in response.content.decode()
    assert User.objects.count() == 0


def test_it_asks_for_a_password_of_twelve_characters_at_least(client: Client) -> None:
    response = _sign_up(client, password1="Qz8#mK2!pL9", password2="Qz8#mK2!pL9")
    assert response.status_code == 200
    assert "It must contain at least 12 characters." in response.content.decode()
    assert User.objects.count() == 0


def test_it_rejects_a_wrong_password_with_a_message(client: Client, make_user) -> None:
    make_user("dana@example.com")
    response = client.post("/accounts/login/", {"login": "dana@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
