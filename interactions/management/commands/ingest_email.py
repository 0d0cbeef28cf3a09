"""`ingest_email`: file raw messages as an organisation's inbound email, as its address
would (interactions.inbound.ingest): one message per file, or one from stdin.

    manage.py ingest_email --org acme message.eml another.eml
    manage.py ingest_email --org acme < message.eml

One line per message; the exit status is 1 when any was refused.
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from crm.models import Organization
from crm.tenancy import activate
from interactions import inbound
from interactions.mail_in import Refused


class Command(BaseCommand):
    help = "File raw RFC 822 messages (files, or stdin) as an organisation's inbound email."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument("files", nargs="*", type=Path, help="one message per file")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation has the slug {options['org']!r}.")
        sources = [(str(p), p) for p in options["files"]] or [("stdin", None)]
        refused = 0
        for name, path in sources:
            prefix = f"{name}: " if len(sources) > 1 else ""
            try:
                raw = path.read_bytes() if path else sys.stdin.buffer.read()
                with transaction.atomic(), activate(org):
                    interaction, created = inbound.ingest(org=org, raw=raw)
            except (Refused, OSError) as error:
                refused += 1
                reason = error.reason if isinstance(error, Refused) else error.strerror
                self.stdout.write(f"{prefix}refused: {reason}")
                continue
            verb = "stored" if created else "already stored"
            self.stdout.write(f"{prefix}{verb} #{interaction.pk}")
        if refused:
            raise CommandError(f"{refused} of {len(sources)} refused.", returncode=1)
