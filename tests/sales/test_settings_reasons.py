"""/o/<org>/settings/lost-reasons/…: the reasons offered when a deal is lost."""

import pytest

from crm.tenancy import activate
from sales.models import LostReason
from sales.pipelines import pipelines_ensure

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/settings/lost-reasons/"


def _reasons(acme) -> list[tuple[str, bool]]:
    with activate(acme):
        return list(LostReason.objects.values_list("name", "is_archived"))


def _reason(acme, name: str) -> LostReason:
    with activate(acme):
        pipelines_ensure(org=acme)
        return LostReason.objects.get(name=name)


def test_a_new_organisation_sees_the_usual_reasons(client, acme, alice):
    client.force_login(alice)
    body = client.get(PAGE).content.decode()
    assert "Chose a competitor" in body
    assert len(_reasons(acme)) == 5


def test_it_adds_a_reason_at_the_end(client, acme, alice):
    client.force_login(alice)
    client.get(PAGE)
    assert client.post(PAGE, {"name": "Went silent"}).status_code == 302
    assert _reasons(acme)[-1] == ("Went silent", False)


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give it a name."), ("price", "There is already a reason called “price”."),
     ("x" * 101, "Keep the name to 100 characters.")],
)  # fmt: skip
def test_it_refuses_an_empty_or_taken_name_beside_the_field(client, acme, alice, name, message):
    client.force_login(alice)
    client.get(PAGE)
    response = client.post(PAGE, {"name": name})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(_reasons(acme)) == 5


def test_it_renames_a_reason(client, acme, alice):
    reason = _reason(acme, "Timing")
    client.force_login(alice)
    assert client.post(f"{PAGE}{reason.pk}/", {"name": "Bad timing"}).status_code == 302
    assert _reasons(acme)[-1] == ("Bad timing", False)
    assert "Timing → Bad timing" in client.get(f"{PAGE}{reason.pk}/").content.decode()


def test_it_refuses_a_rename_to_a_name_taken(client, acme, alice):
    reason = _reason(acme, "Timing")
    client.force_login(alice)
    response = client.post(f"{PAGE}{reason.pk}/", {"name": "PRICE"})
    assert "There is already a reason called “PRICE”." in response.content.decode()
    assert _reasons(acme)[-1] == ("Timing", False)


def test_it_archives_a_reason_and_brings_it_back(client, acme, alice):
    reason = _reason(acme, "Price")
    client.force_login(alice)
    assert client.post(f"{PAGE}{reason.pk}/archive/").url == PAGE
    assert _reasons(acme)[0] == ("Price", True)
    assert '<span class="badge badge--neutral">Archived</span>' in client.get(PAGE).content.decode()
    client.post(f"{PAGE}{reason.pk}/archive/")
    assert _reasons(acme)[0] == ("Price", False)


def test_it_pins_the_queries_of_the_list(client, acme, alice, django_assert_max_num_queries):
    _reason(acme, "Price")
    client.force_login(alice)
    with django_assert_max_num_queries(11):
        assert client.get(PAGE).status_code == 200


def test_it_is_in_the_settings_navigation(client, alice):
    client.force_login(alice)
    link = f'<a href="{PAGE}" aria-current="page">Lost reasons</a>'
    assert link in client.get(PAGE).content.decode()
