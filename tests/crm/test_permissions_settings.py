"""Settings → Permissions: which roles may do what takes much away at once (bulk delete,
exports of more than a page, merges, a contact's personal data). Managers, admins and
owners by default; owners and admins always."""

import pytest
from django.test import Client

from crm.models import AuditEvent, Organization, Role
from crm.permissions import CONFIGURABLE, can
from crm.tenancy import activate
from tests.conftest import allow
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/o/acme/settings/permissions/"


def _membership(org: Organization, user):
    with activate(org):
        return user.memberships.select_related("org").get(org=org)


def test_managers_and_up_may_by_default(acme, alice, rita, sam, bob) -> None:
    for action in CONFIGURABLE:
        assert can(_membership(acme, alice), action), action
        assert not any(can(_membership(acme, who), action) for who in (rita, sam, bob)), action


def test_an_admin_gives_reps_a_permission_and_it_is_recorded(client: Client, acme, alice, rita):
    client.force_login(alice)
    page = client.get(URL).content.decode()
    assert "Move many records to the Trash at once" in page
    assert "Merge contacts" in page
    response = client.post(URL, {"records__bulk_delete": ["manager", "rep"],
                                 "records__export_many": ["manager"]})  # fmt: skip
    assert response.status_code == 302
    assert can(_membership(acme, rita), "records.bulk_delete")
    assert not can(_membership(acme, rita), "records.export_many")
    # Left out: nobody but owners and admins.
    assert not can(_membership(acme, rita), "contact.merge")
    with activate(acme):
        event = AuditEvent.objects.get(action="org.permissions_updated")
    assert event.actor == alice
    assert event.changes["records.bulk_delete"] == [None, ["manager", "rep"]]


def test_owners_and_admins_always_keep_them(acme, alice, oscar) -> None:
    for action in CONFIGURABLE:
        with activate(acme):
            acme.refresh_from_db()
            acme.role_permissions = {**acme.role_permissions, action: []}
            acme.save(update_fields=["role_permissions"])
    assert all(can(_membership(acme, alice), action) for action in CONFIGURABLE)
    assert all(can(_membership(acme, oscar), action) for action in CONFIGURABLE)


def test_it_refuses_unknown_roles_beside_the_field(client: Client, acme, alice) -> None:
    client.force_login(alice)
    response = client.post(URL, {"records__bulk_delete": ["janitor"]})
    assert response.status_code == 200
    assert "Select a valid choice. janitor is not one of the available choices." in (
        response.content.decode()
    )
    with activate(acme):
        acme.refresh_from_db()
    assert acme.role_permissions == {}


@pytest.mark.parametrize("who", ["rita", "bob"])
def test_only_admins_open_it(client: Client, request, who: str) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"records__bulk_delete": ["viewer"]}).status_code == 403


def test_a_rep_exports_one_page_unless_the_organisation_lets_reps_export_more(
    client: Client, acme, rita
) -> None:
    for n in range(51):
        ContactFactory(org=acme, first_name="Row", last_name=f"{n:02d}", owner=rita)
    client.force_login(rita)
    response = client.get("/o/acme/contacts/export/?format=csv", follow=True)
    assert "Your role may export one page of a list at most (50 rows)" in (
        response.content.decode()
    )
    assert client.get("/o/acme/contacts/export/?format=csv&q=row%2000")["Content-Type"].startswith(
        "text/csv"
    )  # one page is fine
    allow(acme, "records.export_many", Role.REP)
    assert client.get("/o/acme/contacts/export/?format=csv")["Content-Type"].startswith("text/csv")
