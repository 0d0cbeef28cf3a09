"""manage.py seed_demo: the demo's logins are people with names."""

from io import StringIO

import pytest
from django.core.management import call_command

from contacts.models import Contact, Segment
from crm.models import Organization, Role, User
from crm.tenancy import activate
from interactions.models import Interaction

pytestmark = pytest.mark.django_db


def test_it_gives_every_demo_login_a_name() -> None:
    out = StringIO()
    call_command("seed_demo", "--org", "demo", stdout=out)
    users = User.objects.filter(email__endswith="@demo.test")
    assert users.count() == len(Role.values)
    assert all(user.first_name and user.last_name for user in users)
    assert User.objects.get(email="owner@demo.test").display_name == "Maria Alvarez"
    assert "Maria Alvarez" in out.getvalue()


def test_it_gives_the_demo_contacts_a_year_of_interactions_once() -> None:
    call_command("seed_demo", "--org", "demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    with activate(org):
        count = Interaction.objects.count()
        channels = set(Interaction.objects.values_list("channel", flat=True))
        contacts = Contact.objects.filter(last_interaction_at__isnull=False).count()
        assert count >= 2 * Contact.objects.count()
        assert {"email", "call", "meeting", "note"} <= channels
        assert contacts == Contact.objects.count()  # "last contacted" kept, as services do
    call_command("seed_demo", "--org", "demo", stdout=StringIO())  # as every `make run` does
    with activate(org):
        assert Interaction.objects.count() == count


def test_it_makes_useful_segments_one_of_them_a_list_kept_by_hand() -> None:
    call_command("seed_demo", "--org", "demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    with activate(org):
        kinds = dict(Segment.objects.values_list("name", "kind"))
        assert kinds["New leads this month"] == Segment.Kind.DYNAMIC
        assert kinds["Champions"] == Segment.Kind.DYNAMIC
        guests = Segment.objects.get(name="Customer evening in Berlin")
        assert guests.kind == Segment.Kind.STATIC
        chosen = Contact.objects.filter(lifecycle="customer", country="DE")
        members = set(guests.members.values_list("contact_id", flat=True))
        assert members
        assert members == set(chosen.values_list("pk", flat=True))
        assert guests.size == len(members)
    call_command("seed_demo", "--org", "demo", stdout=StringIO())  # as every `make run` does
    with activate(org):
        assert Segment.objects.filter(name="Customer evening in Berlin").count() == 1
