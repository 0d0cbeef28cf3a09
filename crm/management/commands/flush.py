"""`flush`, run as the owner role: the app role may not TRUNCATE."""

from typing import Any

from django.core.management.commands import flush

from crm.db import as_owner


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(**options)
