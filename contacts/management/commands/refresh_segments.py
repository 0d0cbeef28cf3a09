"""`refresh_segments`: refresh an organisation's dynamic segments now, as their schedule
would (contacts.segments.services.segment_refresh), one line each.

    manage.py refresh_segments --org acme
    manage.py refresh_segments --org acme --segment 12

The exit status is 1 when a refresh failed (a broken segment says why).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import Segment
from contacts.segments import services
from crm.models import Organization
from crm.tenancy import activate


class Command(BaseCommand):
    help = "Refresh an organisation's dynamic segments now (or one, with --segment)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("--segment", type=int, help="one segment's id")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        with activate(org):
            found = Segment.objects.filter(deleted_at__isnull=True, kind=Segment.Kind.DYNAMIC)
            if options["segment"] is not None:
                found = found.filter(pk=options["segment"])
                if not found.exists():
                    raise CommandError(f"No dynamic segment {options['segment']} in {org.slug}.")
            segments = list(found.order_by("name", "id").values_list("pk", "name"))
        failed = 0
        for pk, name in segments:
            with activate(org):
                run = services.segment_refresh(org=org, segment_id=pk, trigger="asked")
            if run is None:
                self.stdout.write(f"{name}: skipped, another refresh of it is running")
            elif run.status == run.Status.DONE:
                self.stdout.write(f"{name}: {run.size:,} members, {run.added:,} added, "
                                  f"{run.removed:,} removed in {run.duration:.1f} s")  # fmt: skip
            else:
                failed += 1
                self.stdout.write(f"{name}: failed: {run.error}")
        if failed:
            raise CommandError(f"{failed} of {len(segments)} failed.", returncode=1)
