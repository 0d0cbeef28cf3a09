"""Settings → Profile, Security, Record visibility; / and /organizations/new/; the switcher."""

import html
import re

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from crm import services
from crm.audit import audit_record
from crm.models import AuditEvent, Membership, Organization, Role
from crm.tenancy import activate
from tests.conftest import member

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "Acme Corporation",
    "slug": "acme",
    "base_currency": "EUR",
    "time_zone": "Europe/Paris",
    "fiscal_year_start_month": "4",
}


def _error_for(response, field: str) -> str:
    """The error shown under a form field, as the person reads it."""
    pattern = rf'<p class="field__error" id="id_{field}_error_1">(.*?)</p>'
    match = re.search(pattern, response.content.decode())
    return html.unescape(match[1]) if match else ""


def _events(org: Organization, action: str) -> list[AuditEvent]:
    with activate(org):
        return list(AuditEvent.objects.filter(action=action))


def test_it_saves_the_profile(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/settings/", PROFILE)
    assert response["Location"] == "/o/acme/settings/"
    acme.refresh_from_db()
    assert (acme.name, acme.base_currency, acme.time_zone) == (
        "Acme Corporation", "EUR", "Europe/Paris",
    )  # fmt: skip
    assert acme.fiscal_year_start_month == 4


def test_it_audits_the_profile_with_before_and_after(client: Client, acme, alice) -> None:
    client.force_login(alice)
    client.post("/o/acme/settings/", PROFILE)
    (event,) = _events(acme, "org.updated")
    assert event.actor == alice
    assert event.changes == {
        "name": ["Acme", "Acme Corporation"],
        "base_currency": ["USD", "EUR"],
        "time_zone": ["UTC", "Europe/Paris"],
        "fiscal_year_start_month": [1, 4],
    }


def test_it_moves_the_organisation_to_a_new_address(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/settings/", {**PROFILE, "slug": "acme-corp"})
    assert response["Location"] == "/o/acme-corp/settings/"
    acme.refresh_from_db()
    assert acme.slug == "acme-corp"
    assert client.get("/o/acme/").status_code == 404


def test_it_refuses_an_address_another_organisation_has(client: Client, acme, globex, alice):
    client.force_login(alice)
    response = client.post("/o/acme/settings/", {**PROFILE, "slug": "globex"})
    assert _error_for(response, "slug") == "The address “globex” is taken; choose another."
    acme.refresh_from_db()
    assert (acme.slug, acme.name) == ("acme", "Acme")
    assert _events(acme, "org.updated") == []


def test_it_refuses_a_reserved_address(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/settings/", {**PROFILE, "slug": "admin"})
    assert _error_for(response, "slug") == "“admin” is reserved; choose another address."
    acme.refresh_from_db()
    assert (acme.slug, acme.name) == ("acme", "Acme")
    assert _events(acme, "org.updated") == []


def test_it_refuses_a_taken_address_in_other_capitals(client: Client, acme, globex, alice):
    client.force_login(alice)
    response = client.post("/o/acme/settings/", {**PROFILE, "slug": "Globex"})
    assert "is taken" in _error_for(response, "slug")
    acme.refresh_from_db()
    assert acme.slug == "acme"


def test_it_turns_two_factor_authentication_on(client: Client, acme, alice) -> None:
    Authenticator.objects.create(user=alice, type=Authenticator.Type.TOTP, data={})
    client.force_login(alice)
    response = client.post("/o/acme/settings/security/", {"require_mfa": "on"}, follow=True)
    assert "Two-factor authentication is now required." in response.content.decode()
    acme.refresh_from_db()
    assert acme.require_mfa is True
    (event,) = _events(acme, "org.security_updated")
    assert event.changes == {"require_mfa": [False, True]}


def test_an_admin_without_two_factor_cannot_require_it(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = client.post("/o/acme/settings/security/", {"require_mfa": "on"})
    assert response.status_code == 200
    assert "Set up two-factor authentication for yourself first" in response.content.decode()
    acme.refresh_from_db()
    assert acme.require_mfa is False
    assert not _events(acme, "org.security_updated")


def test_it_sends_a_member_without_two_factor_to_set_it_up(client: Client, acme, bob) -> None:
    Organization.objects.filter(pk=acme.pk).update(require_mfa=True)
    client.force_login(bob)
    response = client.get("/o/acme/")
    assert response["Location"] == "/accounts/2fa/"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["Acme requires two-factor authentication: set it up first."]


def test_it_lets_a_member_with_two_factor_in(client: Client, acme, bob) -> None:
    Organization.objects.filter(pk=acme.pk).update(require_mfa=True)
    Authenticator.objects.create(user=bob, type=Authenticator.Type.TOTP, data={})
    client.force_login(bob)
    response = client.get("/o/acme/")
    assert response.status_code == 200
    assert "Bob Brown" in response.content.decode()


def test_it_saves_what_each_role_sees(client: Client, acme, alice) -> None:
    client.force_login(alice)
    choices = {"manager": "team", "rep": "own", "agent": "all", "viewer": "own"}
    response = client.post("/o/acme/settings/visibility/", choices)
    assert response["Location"] == "/o/acme/settings/visibility/"
    acme.refresh_from_db()
    assert acme.record_visibility == choices
    assert acme.visibility_for("rep") == "own"
    (event,) = _events(acme, "org.visibility_updated")
    assert event.changes["rep"] == [None, "own"]


def test_it_ignores_visibility_for_owners_and_admins(client: Client, acme, alice) -> None:
    client.force_login(alice)
    choices = {"manager": "all", "rep": "all", "agent": "all", "viewer": "all"}
    client.post("/o/acme/settings/visibility/", {**choices, "owner": "own", "admin": "own"})
    acme.refresh_from_db()
    assert acme.record_visibility == choices
    assert acme.visibility_for(Role.ADMIN) == acme.visibility_for(Role.OWNER) == "all"


def test_the_visibility_service_drops_owner_and_admin_keys(acme, alice) -> None:
    with activate(acme):
        services.org_set_visibility(
            org=acme, by=alice, visibility={"admin": "own", "owner": "team", "rep": "own"}
        )
    acme.refresh_from_db()
    assert acme.record_visibility == {"rep": "own"}


def test_the_visibility_service_refuses_an_unknown_scope(acme, alice) -> None:
    with activate(acme), pytest.raises(ValidationError):
        services.org_set_visibility(org=acme, by=alice, visibility={"rep": "everything"})
    acme.refresh_from_db()
    assert acme.record_visibility == {}


def test_it_sends_a_member_home_to_their_organisation(client: Client, alice) -> None:
    client.force_login(alice)
    assert client.get("/")["Location"] == "/o/acme/"


def test_it_sends_a_member_of_two_to_the_one_used_last(client: Client, acme, globex, alice):
    with activate(globex):
        Membership.objects.create(org=globex, user=alice, role=Role.REP)
    client.force_login(alice)
    client.get("/o/globex/")
    assert client.get("/")["Location"] == "/o/globex/"


def test_it_sends_someone_with_no_organisation_to_create_one(client: Client, make_user) -> None:
    client.force_login(make_user("dana@example.com"))
    assert client.get("/")["Location"] == "/organizations/new/"


def test_it_makes_the_creator_the_owner_of_a_new_organisation(client: Client, make_user):
    dana = make_user("dana@example.com")
    client.force_login(dana)
    response = client.post("/organizations/new/", {"name": "Dunder Mifflin"})
    assert response["Location"] == "/o/dunder-mifflin/settings/members/"
    org = Organization.objects.get(slug="dunder-mifflin")
    with activate(org):
        assert list(Membership.objects.values_list("user", "role")) == [(dana.pk, Role.OWNER)]
    assert client.get("/")["Location"] == "/o/dunder-mifflin/"


def test_it_lists_the_users_organisations_in_the_switcher(client: Client, acme, globex, alice):
    with activate(globex):
        Membership.objects.create(org=globex, user=alice, role=Role.REP)
    initech = Organization.objects.create(name="Initech", slug="initech")
    member(initech, "peter@initech.test", Role.OWNER)
    client.force_login(alice)
    page = client.get("/o/acme/").content.decode()
    switcher = re.search(r'<details class="menu menu--org">(.*?)</details>', page, re.S)
    assert switcher, page
    links = re.findall(r'href="(/o/[^"]+)"', switcher[1])
    assert links == ["/o/acme/", "/o/globex/"]


def test_it_shows_times_in_the_organisations_time_zone(client: Client, acme, alice) -> None:
    Organization.objects.filter(pk=acme.pk).update(time_zone="Asia/Tokyo")
    with activate(acme):
        audit_record(org=acme, actor=alice, action="test.recorded")
    client.force_login(alice)
    html = client.get("/o/acme/settings/audit/").content.decode()
    assert "JST" in html
