"""Settings → Members: the people and open invitations, inviting, roles, removing, revoking."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from crm import services
from crm.models import AuditEvent, Invitation, Membership, Organization, Role, User
from crm.tenancy import activate
from tests.conftest import member

pytestmark = pytest.mark.django_db


def _membership(org: Organization, user: User) -> Membership:
    with activate(org):
        return Membership.objects.select_related("user").get(user=user)


def _invite(org: Organization, email: str, by: User, role: str = Role.REP) -> Invitation:
    with activate(org):
        return Invitation.objects.create(
            org=org, email=email, role=role, invited_by=by,
            expires_at=timezone.now() + timedelta(days=services.INVITATION_DAYS),
        )  # fmt: skip


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _error_for(response, field: str) -> str:
    """The error shown under a form field, as the person reads it."""
    pattern = rf'<p class="field__error" id="id_{field}_error_1">(.*?)</p>'
    match = re.search(pattern, response.content.decode())
    return html.unescape(match[1]) if match else ""


def _open_invitations(client: Client) -> str:
    page = client.get("/o/acme/settings/members/").content.decode()
    return page.split('id="invitations-title"', 1)[1]


def test_it_lists_people_and_open_invitations(client: Client, acme, alice, bob) -> None:
    _invite(acme, "dana@example.com", by=alice)
    client.force_login(alice)
    page = client.get("/o/acme/settings/members/").content.decode()
    assert "Alice Archer" in page
    assert "bob@acme.test" in page  # beneath the name: the one page that shows addresses
    assert "dana@example.com" in page
    assert "No invitations waiting." not in page


def test_it_leaves_used_and_withdrawn_invitations_off_the_list(client: Client, acme, alice):
    used = _invite(acme, "used@example.com", by=alice)
    withdrawn = _invite(acme, "gone@example.com", by=alice)
    with activate(acme):
        Invitation.objects.filter(pk=used.pk).update(accepted_at=timezone.now())
        Invitation.objects.filter(pk=withdrawn.pk).update(revoked_at=timezone.now())
    client.force_login(alice)
    section = _open_invitations(client)
    assert "used@example.com" not in section
    assert "gone@example.com" not in section
    assert "No invitations waiting." in section


def test_it_invites_and_mails_the_link(
    client: Client, acme, alice, django_capture_on_commit_callbacks
) -> None:
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/o/acme/settings/members/invite/", {"email": "Dana@Example.com", "role": Role.MANAGER}
        )
    assert response["Location"] == "/o/acme/settings/members/"
    with activate(acme):
        invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "dana@example.com", Role.MANAGER, alice,
    )  # fmt: skip
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    link = re.search(r"http://testserver/invitations/([^/\s]+)/", str(message.body))
    assert link, message.body
    assert services.invitation_from_token(link[1]) == (acme, invitation.pk)


def test_it_audits_an_invitation(client: Client, acme, alice) -> None:
    client.force_login(alice)
    client.post("/o/acme/settings/members/invite/", {"email": "dana@example.com", "role": "rep"})
    with activate(acme):
        event = AuditEvent.objects.get(action="invitation.created")
    assert event.actor == alice
    assert event.changes == {"email": [None, "dana@example.com"], "role": [None, "rep"]}


def test_it_refuses_to_invite_a_member(client: Client, acme, alice, bob) -> None:
    client.force_login(alice)
    response = client.post(
        "/o/acme/settings/members/invite/", {"email": "BOB@acme.test", "role": "rep"}
    )
    assert _error_for(response, "email") == "bob@acme.test is already a member."
    with activate(acme):
        assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_it_shows_a_refused_invitation_in_a_page_htmx_can_swap(client, acme, alice, bob) -> None:
    client.force_login(alice)
    response = client.post(
        "/o/acme/settings/members/invite/", {"email": "bob@acme.test", "role": "rep"}
    )
    assert _error_for(response, "email") == "bob@acme.test is already a member."
    assert response.status_code == 200  # htmx does not swap a 4xx answer by default


def test_it_refuses_an_address_with_an_open_invitation(client: Client, acme, alice) -> None:
    _invite(acme, "dana@example.com", by=alice)
    client.force_login(alice)
    response = client.post(
        "/o/acme/settings/members/invite/", {"email": "dana@example.com", "role": "rep"}
    )
    assert _error_for(response, "email") == "dana@example.com already has an open invitation."
    with activate(acme):
        assert Invitation.objects.count() == 1


def test_it_offers_an_admin_no_owner_role(client: Client, alice) -> None:
    client.force_login(alice)
    form = client.get("/o/acme/settings/members/").context["invite_form"]
    roles = [value for value, _ in form.fields["role"].choices]
    assert Role.OWNER not in roles
    assert Role.ADMIN in roles


def test_it_refuses_an_owner_invitation_posted_by_an_admin(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = client.post(
        "/o/acme/settings/members/invite/", {"email": "dana@example.com", "role": "owner"}
    )
    assert "owner is not one of the available choices" in _error_for(response, "role")
    with activate(acme):
        assert not Invitation.objects.exists()


def test_the_service_refuses_an_owner_invitation_by_an_admin(acme, alice) -> None:
    admin = _membership(acme, alice)
    with activate(acme), pytest.raises(ValidationError) as refused:
        services.invitation_create(
            org=acme, email="dana@example.com", role=Role.OWNER, by=admin, accept_url_for=str
        )
    assert refused.value.message_dict == {"role": ["Only an owner can invite another owner."]}
    with activate(acme):
        assert not Invitation.objects.exists()


def test_it_lets_an_owner_invite_an_owner(client: Client, acme, oscar) -> None:
    client.force_login(oscar)
    response = client.post(
        "/o/acme/settings/members/invite/", {"email": "dana@example.com", "role": "owner"}
    )
    assert response["Location"] == "/o/acme/settings/members/"
    with activate(acme):
        assert Invitation.objects.get().role == Role.OWNER


def test_it_changes_a_role_and_audits_it(client: Client, acme, alice, bob) -> None:
    target = _membership(acme, bob)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/members/{target.pk}/role/", {"role": "rep"})
    assert _messages(response) == ["Bob Brown is now Sales rep."]
    with activate(acme):
        assert Membership.objects.get(pk=target.pk).role == Role.REP
        event = AuditEvent.objects.get(action="member.role_changed")
    assert (event.actor, event.object_id) == (alice, str(target.pk))
    assert event.changes == {"role": ["viewer", "rep"]}


def test_it_refuses_to_demote_the_last_owner(client: Client, acme, oscar, alice) -> None:
    own = _membership(acme, oscar)
    client.force_login(oscar)
    response = client.post(f"/o/acme/settings/members/{own.pk}/role/", {"role": "admin"})
    assert response["Location"] == "/o/acme/settings/members/"
    assert _messages(response) == [
        "This is the organisation's last owner: make someone else an owner first."
    ]
    with activate(acme):
        assert Membership.objects.get(pk=own.pk).role == Role.OWNER
        assert not AuditEvent.objects.filter(action="member.role_changed").exists()


def test_it_lets_an_owner_step_down_when_another_owner_remains(client: Client, acme, oscar):
    second = member(acme, "olga@acme.test", Role.OWNER)
    own = _membership(acme, oscar)
    client.force_login(oscar)
    client.post(f"/o/acme/settings/members/{own.pk}/role/", {"role": "admin"})
    with activate(acme):
        assert Membership.objects.get(pk=own.pk).role == Role.ADMIN
        assert Membership.objects.get(user=second).role == Role.OWNER


def test_it_refuses_to_remove_the_last_owner(client: Client, acme, oscar) -> None:
    own = _membership(acme, oscar)
    client.force_login(oscar)
    response = client.post(f"/o/acme/settings/members/{own.pk}/remove/")
    assert response["Location"] == "/o/acme/settings/members/"
    assert _messages(response) == [
        "This is the organisation's last owner: make someone else an owner first."
    ]
    with activate(acme):
        assert Membership.objects.filter(pk=own.pk, role=Role.OWNER).exists()
        assert not AuditEvent.objects.filter(action="member.removed").exists()


def test_it_lets_no_admin_change_an_owners_role(client: Client, acme, oscar, alice) -> None:
    owner = _membership(acme, oscar)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/members/{owner.pk}/role/", {"role": "viewer"})
    assert _messages(response) == ["Only an owner can give or take away the owner role."]
    with activate(acme):
        assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_it_lets_no_admin_make_an_owner(client: Client, acme, oscar, alice, bob) -> None:
    target = _membership(acme, bob)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/members/{target.pk}/role/", {"role": "owner"})
    assert _messages(response) == ["Only an owner can give or take away the owner role."]
    with activate(acme):
        assert Membership.objects.get(pk=target.pk).role == Role.VIEWER


def test_it_asks_before_removing(client: Client, acme, alice, bob) -> None:
    target = _membership(acme, bob)
    client.force_login(alice)
    response = client.get(f"/o/acme/settings/members/{target.pk}/remove/")
    page = response.content.decode()
    assert "Remove <strong>Bob Brown</strong> (Viewer) from Acme?" in page
    assert '<form method="post"' in page
    with activate(acme):
        assert Membership.objects.filter(pk=target.pk).exists()


def test_it_removes_a_member_and_audits_it(client: Client, acme, alice, bob) -> None:
    target = _membership(acme, bob)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/members/{target.pk}/remove/")
    assert response["Location"] == "/o/acme/settings/members/"
    assert _messages(response) == ["Bob Brown no longer has access."]
    with activate(acme):
        assert not Membership.objects.filter(pk=target.pk).exists()
        event = AuditEvent.objects.get(action="member.removed")
    assert event.actor == alice
    assert event.changes == {"user": ["bob@acme.test", None], "role": ["viewer", None]}


def test_a_removed_member_loses_access(client: Client, acme, alice, bob) -> None:
    target = _membership(acme, bob)
    client.force_login(alice)
    client.post(f"/o/acme/settings/members/{target.pk}/remove/")
    client.force_login(bob)
    assert client.get("/o/acme/").status_code == 404
    assert client.get("/")["Location"] == "/organizations/new/"


def test_it_revokes_an_invitation(client: Client, acme, alice) -> None:
    invitation = _invite(acme, "dana@example.com", by=alice)
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/invitations/{invitation.pk}/revoke/")
    assert _messages(response) == ["Withdrew the invitation for dana@example.com."]
    with activate(acme):
        assert Invitation.objects.get().status == "revoked"
        assert AuditEvent.objects.filter(action="invitation.revoked", actor=alice).exists()
    assert "dana@example.com" not in _open_invitations(client)


def test_it_refuses_to_revoke_twice(client: Client, acme, alice) -> None:
    invitation = _invite(acme, "dana@example.com", by=alice)
    with activate(acme):
        services.invitation_revoke(org=acme, invitation=invitation, by=_membership(acme, alice))
    client.force_login(alice)
    response = client.post(f"/o/acme/settings/invitations/{invitation.pk}/revoke/")
    assert response["Location"] == "/o/acme/settings/members/"
    assert _messages(response) == ["This invitation is revoked and cannot be withdrawn."]
    with activate(acme):
        assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_it_withdraws_an_expired_invitation(client: Client, acme, alice) -> None:
    invitation = _invite(acme, "dana@example.com", by=alice)
    with activate(acme):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    client.force_login(alice)
    client.post(f"/o/acme/settings/invitations/{invitation.pk}/revoke/")
    # The list shows an expired invitation with a Withdraw button: pressing it must work.
    assert "dana@example.com" not in _open_invitations(client)


def test_it_refuses_a_viewer_the_invite_form(client: Client, acme, bob) -> None:
    client.force_login(bob)
    response = client.post(
        "/o/acme/settings/members/invite/", {"email": "dana@example.com", "role": "rep"}
    )
    assert response.status_code == 403
    with activate(acme):
        assert not Invitation.objects.exists()


def test_it_hides_acmes_members_from_another_organisations_admin(
    client: Client, acme, bob, charlie
) -> None:
    target = _membership(acme, bob)
    client.force_login(charlie)
    response = client.post(f"/o/acme/settings/members/{target.pk}/role/", {"role": "admin"})
    assert response.status_code == 404
    assert _membership(acme, bob).role == Role.VIEWER


@pytest.mark.parametrize("invitations", [1, 20])
def test_it_lists_members_in_a_fixed_number_of_queries(
    client: Client, acme, alice, django_assert_max_num_queries, invitations: int
) -> None:
    for n in range(invitations):
        member(acme, f"person{n}@acme.test", Role.REP)
        _invite(acme, f"guest{n}@example.com", by=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(10):
        response = client.get("/o/acme/settings/members/")
    assert f"guest{invitations - 1}@example.com" in response.content.decode()
