"""manage.py seed_demo: the demo's logins are people with names."""

from io import StringIO

import pytest
from django.core.management import call_command

from crm.models import Role, User

pytestmark = pytest.mark.django_db


def test_it_gives_every_demo_login_a_name() -> None:
    out = StringIO()
    call_command("seed_demo", "--org", "demo", stdout=out)
    users = User.objects.filter(email__endswith="@demo.test")
    assert users.count() == len(Role.values)
    assert all(user.first_name and user.last_name for user in users)
    assert User.objects.get(email="owner@demo.test").display_name == "Maria Alvarez"
    assert "Maria Alvarez" in out.getvalue()
