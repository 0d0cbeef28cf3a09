"""Create or update a demo organisation with one login per role; safe to run again."""

from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from crm import services
from crm.models import Organization, Role
from crm.signals import demo_seeded
from crm.tenancy import activate

DEFAULT_PASSWORD = "demo-pass-1234"  # noqa: S105  # nosec B105  # printed on purpose: a demo login
# A person's name per login, so that the demo shows names and avatars as real use does.
NAMES = {
    Role.OWNER: "Maria Alvarez",
    Role.ADMIN: "James Okafor",
    Role.MANAGER: "Priya Natarajan",
    Role.REP: "Lukas Becker",
    Role.AGENT: "Aiko Tanaka",
    Role.VIEWER: "Sam Taylor",
}


class Command(BaseCommand):
    help = "Create or update an organisation with a user per role: owner@SLUG.test and so on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--name", help="its display name (default: from the slug)")
        parser.add_argument("--password", default=DEFAULT_PASSWORD)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        slug, password = options["org"], options["password"]
        # Hashed once for the six logins: a hash costs a good part of a second, and this runs
        # at every start of `make run`.
        hashed = make_password(password)
        users = {
            role: services.user_set_up(
                email=f"{role}@{slug}.test", password_hash=hashed, name=NAMES[Role(role)]
            )
            for role in Role.values
        }
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            name = options["name"] or slug.replace("-", " ").title()
            org = services.org_create(name=name, slug=slug, owner=users[Role.OWNER])
        with activate(org):
            for role, user in users.items():
                services.membership_set(org=org, user=user, role=role, by=None)
            # Each domain app adds its own demo records (contacts, deals, tickets …).
            demo_seeded.send(sender=self.__class__, org=org, users=users)
        self.stdout.write(
            f"Organisation {org.name}: /o/{org.slug}/ — every login's password: {password}"
        )
        for role, user in users.items():
            self.stdout.write(f"  {Role(role).label:<14} {user.email:<24} {user.display_name}")
