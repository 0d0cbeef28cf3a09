"""`migrate`, run as the owner role, then granting the app role access to the new tables."""

from typing import Any

from django.core.management.commands import migrate

from crm.db import as_owner, grant_app_role


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(*args, **options)
            grant_app_role(options["database"])
