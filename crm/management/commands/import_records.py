"""Import records of a kind from a CSV or XLSX file, as the import pages do, from the shell.

    python manage.py import_records --kind contact --org acme people.csv --dry-run
    python manage.py import_records --kind contact --org acme people.csv --mode update \\
        --map "E-mail=email" --map "Notes=" --match-by email

An app may offer a command per kind that subclasses this one with its kind set
(`import_contacts`, `import_companies`).

It prints the report the pages show, and exits with status 1 when rows were refused.
The import is recorded like one made in the browser, so it can be undone there.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import Organization
from crm.records import registry
from crm.records.imports import services
from crm.records.models import ImportJob
from crm.tenancy import activate


class Command(BaseCommand):
    help = "Import records of a kind from a CSV or XLSX file into an organisation."
    record_kind = ""  # set by a command for one kind; otherwise given as --kind

    def add_arguments(self, parser: CommandParser) -> None:
        if not self.record_kind:
            importable = [kind.key for kind in registry.kinds() if kind.imports]
            parser.add_argument("--kind", required=True, choices=importable)
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="the organisation's slug")
        parser.add_argument(
            "--mode", choices=ImportJob.Mode.values, default=ImportJob.Mode.UPSERT,
            help="create new records only, update existing ones only, or both (default)",
        )  # fmt: skip
        parser.add_argument(
            "--match-by",
            help="how a row finds the record it updates, e.g. email (default: suggested from "
            "the columns)",
        )  # fmt: skip
        parser.add_argument(
            "--map", action="append", default=[], metavar="HEADER=FIELD",
            help='which field a column fills, e.g. "E-mail=email"; "Notes=" leaves it out',
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="check, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation has the slug “{options['org']}”.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        kind = registry.kind(self.record_kind or options["kind"])
        assert kind.imports is not None
        if options["match_by"] and options["match_by"] not in kind.imports.match:
            choices = ", ".join(kind.imports.match)
            raise CommandError(f"--match-by takes one of {choices} for {kind.nouns}.")
        options["record_kind"] = kind.key
        with activate(org):
            job = self._run(org, path, options)
        self._report(job, dry_run=options["dry_run"])
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.error)
        if job.totals.get("rejected"):
            raise SystemExit(1)

    def _run(self, org: Organization, path: Path, options: dict[str, Any]) -> ImportJob:
        try:
            with path.open("rb") as file:
                job = services.import_upload(
                    org=org, by=None, record_kind=options["record_kind"], file=file,
                    name=path.name, size=path.stat().st_size, run_now=True,
                )  # fmt: skip
            if job.status == ImportJob.Status.FAILED:
                raise CommandError(job.error)
            mapping = self._mapping(job, options["map"])
            job = services.import_check_start(
                org=org, job=job, by=None, mapping=mapping, mode=options["mode"],
                match_by=options["match_by"] or job.match_by, run_now=True,
            )  # fmt: skip
            if options["dry_run"] or job.status != ImportJob.Status.CHECKED:
                return job
            if not (job.totals.get("created") or job.totals.get("updated")):
                return job  # nothing to write: the report says so
            return services.import_commit_start(org=org, job=job, by=None, run_now=True)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

    def _mapping(self, job: ImportJob, overrides: list[str]) -> list[str]:
        mapping = list(job.mapping)
        by_header = {header.lower(): index for index, header in enumerate(job.headers)}
        for item in overrides:
            header, sep, field = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes HEADER=FIELD, not “{item}”.")
            index = by_header.get(header.strip().lower())
            if index is None:
                raise CommandError(
                    f"The file has no column “{header}”. Its columns: {', '.join(job.headers)}."
                )
            mapping[index] = field.strip()
        return mapping

    def _report(self, job: ImportJob, *, dry_run: bool) -> None:
        out = self.stdout.write
        out(f"{job.file_name}: {len(job.headers)} columns")
        for header, field in zip(job.headers, job.mapping, strict=True):
            out(f"  {header} -> {field or '(left out)'}")
        if job.status == ImportJob.Status.FAILED:
            return
        totals = job.totals
        verb = "would be" if dry_run or job.status != ImportJob.Status.DONE else "were"
        out(f"{totals.get('rows', 0)} rows read; {verb}:")
        for name in ("created", "updated", "unchanged", "skipped", "rejected"):
            out(f"  {name}: {totals.get(name, 0)}")
        kind = registry.kind(job.record_kind)
        for label, number in kind.imports.totals_of_its_own(totals) if kind.imports else []:
            out(f"  {label.lower()}: {number}")
        for row, column, message, outcome in job.problems:
            out(f"row {row}, {column}: {message} ({outcome})")
        if len(job.problems) >= 1_000:
            out("(the first 1,000 problems)")
        if job.status == ImportJob.Status.DONE:
            out(f"Imported as import #{job.pk}; it can be undone from its page.")
