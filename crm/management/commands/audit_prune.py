"""`audit_prune`: the one way events leave the audit log, for an operator.

The app role may only append to the log (crm migration 0005); this command deletes events
older than a date as the owner role (DATABASE_OWNER_URL), one organisation at a time, and
records in each that it did. Without --yes it only says how many would go.

    manage.py audit_prune --before 2025-01-01
    manage.py audit_prune --before 2025-01-01 --org acme --yes
"""

from datetime import UTC, date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import ProgrammingError

from crm.audit import audit_record
from crm.db import as_owner
from crm.models import AuditEvent, Organization
from crm.tenancy import activate


class Command(BaseCommand):
    help = "Delete audit events older than a date (UTC), as the database's owner role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, type=date.fromisoformat,
                            help="delete the events from before this day, YYYY-MM-DD")  # fmt: skip
        parser.add_argument("--org", help="one organisation's slug (every one by default)")
        parser.add_argument("--yes", action="store_true", help="delete them, not only count")

    def handle(self, *args: Any, **options: Any) -> None:
        before = datetime.combine(options["before"], time.min, tzinfo=UTC)
        orgs = Organization.objects.order_by("slug")
        if options["org"]:
            orgs = orgs.filter(slug=options["org"])
            if not orgs.exists():
                raise CommandError(f"No organisation has the slug {options['org']!r}.")
        total = 0
        try:
            with as_owner():
                for org in list(orgs):
                    total += self._prune(org, before, delete=options["yes"])
        except ProgrammingError as error:
            raise CommandError(
                "The app role may not delete audit events: set DATABASE_OWNER_URL to the "
                f"owner role's address. ({error})"
            ) from error
        verb = "Deleted" if options["yes"] else "Would delete (run again with --yes)"
        self.stdout.write(f"{verb} {total} audit events from before {before:%Y-%m-%d}.")

    def _prune(self, org: Organization, before: datetime, *, delete: bool) -> int:
        with activate(org):
            old = AuditEvent.objects.filter(at__lt=before)
            count = old.count()
            if delete and count:
                old.delete()
                audit_record(
                    org=org, actor=None, action="audit.pruned",
                    changes={"before": [None, f"{before:%Y-%m-%d}"], "count": [None, count]},
                )  # fmt: skip
        self.stdout.write(f"  {org.slug}: {count}")
        return count
