"""/accounts/profile/: a signed-in person changes the name colleagues see."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/accounts/profile/"


def test_it_is_linked_from_the_account_menu(client: Client, alice) -> None:
    client.force_login(alice)
    assert f'<a href="{URL}">Your name</a>' in client.get("/o/acme/").content.decode()


def test_it_shows_the_current_name(client: Client, alice) -> None:
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert 'value="Alice Archer"' in page
    assert "layout-manage" in page  # among the account pages, in the product's layout


def test_it_changes_the_name(client: Client, alice) -> None:
    client.force_login(alice)
    response = client.post(URL, {"name": " Alice   van der Berg "})
    assert response["Location"] == URL
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Alice", "van der Berg")
    assert "Saved your name." in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give your name."),
        ("   ", "Give your name."),
        ("A" * 151, "Ensure this value has at most 150 characters (it has 151)."),
        ("alice@acme.test", "Give your name rather than an email address."),
    ],
)
def test_it_explains_a_name_it_refuses(client: Client, alice, name: str, message: str) -> None:
    client.force_login(alice)
    response = client.post(URL, {"name": name})
    assert response.status_code == 200
    assert message in response.content.decode()
    alice.refresh_from_db()
    assert alice.display_name == "Alice Archer"


def test_it_takes_a_name_of_150_characters(client: Client, alice) -> None:
    client.force_login(alice)
    client.post(URL, {"name": "A" * 150})
    alice.refresh_from_db()
    assert alice.display_name == "A" * 150


def test_it_sends_anonymous_visitors_to_log_in(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
