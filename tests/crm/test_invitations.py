"""/invitations/<token>/: what an invited person sees, accepting, and signing up through it."""

from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from crm import services
from crm.models import Invitation, Membership, Organization, Role, User
from crm.tenancy import activate
from tests.conftest import PASSWORD, member

pytestmark = pytest.mark.django_db


def _invite(org: Organization, by: User, email: str = "dana@example.com") -> tuple[Invitation, str]:
    """An open invitation to `org` as a manager, made as the members page makes one."""
    with activate(org):
        inviter = Membership.objects.get(user=by)
        invitation = services.invitation_create(
            org=org, email=email, role=Role.MANAGER, by=inviter, accept_url_for=str
        )
    return invitation, services.invitation_token(invitation)


def _role(org: Organization, user: User) -> str | None:
    """The user's role in `org`, or None when they are not a member."""
    with activate(org):
        return Membership.objects.filter(user=user).values_list("role", flat=True).first()


def _sign_up(client: Client, token: str, email: str = "dana@example.com"):
    return client.post(
        f"/accounts/signup/?invitation={token}",
        {
            "invitation": token,
            "name": "Dana Scully",
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def test_it_shows_an_anonymous_visitor_whom_they_would_join(client: Client, acme, alice):
    _, token = _invite(acme, alice)
    response = client.get(f"/invitations/{token}/")
    page = response.content.decode()
    assert "Join Acme" in page
    assert "Alice Archer invited <strong>dana@example.com</strong> to Acme" in page
    assert f'href="/accounts/signup/?invitation={quote(token)}"' in page
    assert f'href="/accounts/login/?next={quote(f"/invitations/{token}/")}"' in page


def test_it_answers_404_to_a_tampered_token(client: Client, acme, alice) -> None:
    _, token = _invite(acme, alice)
    response = client.get(f"/invitations/{token}x/")
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()
    assert "Join Acme" not in response.content.decode()


def test_it_answers_404_to_a_token_for_another_invitation_id(client: Client, acme, alice):
    invitation, _ = _invite(acme, alice)
    forged = signing.dumps({"o": acme.pk, "i": invitation.pk}, salt="another.salt")
    response = client.get(f"/invitations/{forged}/")
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()


def test_it_joins_a_signed_in_user_with_the_invited_role(
    client: Client, acme, alice, make_user
) -> None:
    invitation, token = _invite(acme, alice)
    dana = make_user("dana@example.com")
    client.force_login(dana)
    response = client.post(f"/invitations/{token}/")
    assert response["Location"] == "/o/acme/"
    assert _role(acme, dana) == Role.MANAGER
    with activate(acme):
        invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", dana)


def test_it_lets_the_new_member_in(client: Client, acme, alice, make_user) -> None:
    _, token = _invite(acme, alice)
    client.force_login(make_user("dana@example.com"))
    response = client.post(f"/invitations/{token}/", follow=True)
    page = response.content.decode()
    assert response.request["PATH_INFO"] == "/o/acme/"
    assert "Welcome to Acme." in page


def test_it_refuses_an_invitation_used_already(client: Client, acme, alice, make_user) -> None:
    _, token = _invite(acme, alice)
    client.force_login(make_user("dana@example.com"))
    client.post(f"/invitations/{token}/")
    erin = make_user("erin@example.com")
    client.force_login(erin)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 404
    assert "This invitation has already been used." in response.content.decode()
    assert _role(acme, erin) is None


def test_it_refuses_an_expired_invitation(client: Client, acme, alice, make_user) -> None:
    invitation, token = _invite(acme, alice)
    dana = make_user("dana@example.com")
    with time_machine.travel(invitation.expires_at + timedelta(minutes=1)):
        client.force_login(dana)  # a session started after the trip
        response = client.post(f"/invitations/{token}/")
    assert response.status_code == 404
    assert "This invitation has expired." in response.content.decode()
    assert _role(acme, dana) is None


def test_it_still_accepts_an_invitation_on_its_last_day(
    client: Client, acme, alice, make_user
) -> None:
    invitation, token = _invite(acme, alice)
    dana = make_user("dana@example.com")
    with time_machine.travel(invitation.expires_at - timedelta(minutes=1)):
        client.force_login(dana)
        client.post(f"/invitations/{token}/")
    assert _role(acme, dana) == Role.MANAGER


def test_it_refuses_a_revoked_invitation(client: Client, acme, alice, make_user) -> None:
    invitation, token = _invite(acme, alice)
    with activate(acme):
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    dana = make_user("dana@example.com")
    client.force_login(dana)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 404
    assert "This invitation was withdrawn." in response.content.decode()
    assert _role(acme, dana) is None


def test_it_tells_a_member_they_are_in_already(client: Client, acme, alice, bob) -> None:
    _, token = _invite(acme, alice)
    client.force_login(bob)
    page = client.get(f"/invitations/{token}/").content.decode()
    assert "You are already a member." in page
    assert "Accept and join" not in page


def test_it_signs_up_into_the_inviting_organisation(client: Client, acme, alice) -> None:
    invitation, token = _invite(acme, alice)
    response = _sign_up(client, token)
    assert response["Location"] == "/accounts/confirm-email/"
    dana = User.objects.get(email="dana@example.com")
    assert _role(acme, dana) == Role.MANAGER
    assert dana.display_name == "Dana Scully"  # the name asked at sign-up
    assert list(Organization.objects.values_list("slug", flat=True)) == ["acme"]
    with activate(acme):
        assert Invitation.objects.get(pk=invitation.pk).accepted_by == dana


def test_it_asks_no_organisation_name_when_signing_up_through_an_invitation(client, acme, alice):
    _, token = _invite(acme, alice)
    page = client.get(f"/accounts/signup/?invitation={token}").content.decode()
    assert "Join Acme" in page
    assert 'name="organization_name"' not in page
    assert f'<input type="hidden" name="invitation" value="{token}">' in page


def test_it_keeps_the_invitation_when_the_sign_up_form_has_errors(client: Client, acme, alice):
    _, token = _invite(acme, alice)
    response = client.post(
        "/accounts/signup/",
        {"invitation": token, "email": "dana@example.com", "password1": PASSWORD,
         "password2": PASSWORD + "x"},
    )  # fmt: skip
    assert "You must type the same password each time." in response.content.decode()
    assert f'name="invitation" value="{token}"' in response.content.decode()


def test_it_explains_a_withdrawn_invitation_at_sign_up(client: Client, acme, alice) -> None:
    invitation, token = _invite(acme, alice)
    with activate(acme):
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    response = _sign_up(client, token)
    assert "This invitation was withdrawn." in response.content.decode()
    assert not User.objects.filter(email="dana@example.com").exists()


def test_it_works_only_for_the_address_it_was_sent_to(client: Client, acme, alice, make_user):
    _, token = _invite(acme, alice)
    mallory = make_user("mallory@example.com")
    client.force_login(mallory)
    response = client.post(f"/invitations/{token}/")
    assert "This invitation is for dana@example.com." in response.content.decode()
    assert _role(acme, mallory) is None


def test_it_is_not_used_up_by_someone_already_a_member(client: Client, acme, alice) -> None:
    invitation, token = _invite(acme, alice)
    dana = member(acme, "dana@example.com", Role.REP)  # joined another way meanwhile
    client.force_login(dana)
    assert "You are already a member" in client.get(f"/invitations/{token}/").content.decode()
    client.post(f"/invitations/{token}/")
    with activate(acme):
        assert Invitation.objects.get(pk=invitation.pk).status == "open"
