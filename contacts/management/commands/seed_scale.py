"""Load contacts and companies at benchmark scale, fast: COPY into a staging table, then
one INSERT … SELECT per table.

COPY cannot write into a table with row-level security, so rows are copied into a
temporary table (which has none) and inserted from there: the policy still checks every
row, and the command runs as the same app role as the product.
"""

import random
import time
from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from crm.models import Membership, Organization
from crm.staging import stage
from crm.tenancy import activate

FIRST = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Amélie",
    "Lukas",
    "Sofia",
    "Mateo",
    "Yuki",
    "Chen",
    "Aisha",
    "Omar",
    "Ingrid",
    "Pierre",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Müller",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Nakamura",
    "Kowalski",
    "Novak",
]
WORDS = [
    "Acorn",
    "Apex",
    "Arbor",
    "Atlas",
    "Beacon",
    "Birch",
    "Bright",
    "Cascade",
    "Cedar",
    "Crest",
    "Delta",
    "Ember",
    "Falcon",
    "Fjord",
    "Granite",
    "Harbor",
    "Horizon",
    "Iron",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Meridian",
    "Nimbus",
    "Oak",
    "Orbit",
    "Peak",
    "Pioneer",
    "Quartz",
    "Ridge",
    "Summit",
    "Tidal",
    "Vertex",
    "Willow",
    "Zenith",
]
KINDS = [
    "Labs",
    "Logistics",
    "Health",
    "Foods",
    "Energy",
    "Systems",
    "Studio",
    "Partners",
    "Bank",
    "Retail",
    "Works",
    "Group",
]
STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "advocate", "churned"]
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "NO", "JP", "IN", "BR", "CA", "AU"]
SOURCES = ["Website", "Referral", "Trade show", "Cold outreach", "Webinar", "Import", "Partner"]


class Command(BaseCommand):
    help = "Add N contacts and M companies to an organisation (created if missing), fast."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument("--contacts", type=int, default=100_000)
        parser.add_argument("--companies", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1, help="random seed (repeatable data)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["companies"] < 1 and options["contacts"] > 0:
            raise CommandError("Contacts need at least one company to belong to.")
        if not Organization.objects.filter(slug=options["org"]).exists():
            call_command("seed_demo", "--org", options["org"], stdout=self.stdout)
        org = Organization.objects.get(slug=options["org"])
        rng = random.Random(options["seed"])  # noqa: S311  # nosec B311  # seed data, not a secret
        started = time.monotonic()
        with transaction.atomic(), activate(org):
            owners = list(Membership.objects.values_list("user_id", flat=True))
            company_ids = self._companies(org, options["companies"], owners, rng)
        # The contacts' foreign keys are checked at COMMIT, one query per contact: planned
        # in the same transaction as the companies, without their statistics, that query
        # walked an (org, …) index through every company of the organisation each time
        # (100,000 contacts: minutes). Committed and analysed first, it finds one row.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_company")
        with transaction.atomic(), activate(org):
            self._contacts(org, options["contacts"], company_ids, owners, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_company; ANALYZE contacts_contact")
        self.stdout.write(
            f"Added {options['companies']:,} companies and {options['contacts']:,} contacts to "
            f"{org.slug} in {time.monotonic() - started:.1f} s."
        )

    def _companies(self, org: Organization, n: int, owners: list[int], rng: random.Random):
        now = timezone.now()
        columns = ["name", "domain", "industry", "size", "country", "owner_id", "created_at"]
        sizes = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001+"]

        def rows() -> Any:
            for i in range(n):
                name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(KINDS)} {i}"
                domain = f"{name.lower().replace(' ', '-')}.example"
                yield (name, domain, rng.choice(KINDS), rng.choice(sizes), rng.choice(COUNTRIES),
                       rng.choice(owners), now)  # fmt: skip

        staged = stage("contacts_company", columns, rows())
        return self._insert("contacts_company", staged, columns, org)

    def _contacts(self, org: Organization, n: int, companies: list[tuple[int, str]],
                  owners: list[int], rng: random.Random) -> None:  # fmt: skip
        now = timezone.now()
        columns = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "company_id",
            "company_name",
            "lifecycle",
            "source",
            "country",
            "owner_id",
            "created_at",
            "last_interaction_at",
        ]

        def rows() -> Any:
            for i in range(n):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                company_id, company_name = companies[rng.randrange(len(companies))]
                ascii_last = last.encode("ascii", "ignore").decode().lower()
                yield (
                    first,
                    last,
                    f"{first.lower()[:1]}.{ascii_last}{i}@mail{i % 97}.example",
                    f"+1212555{i % 10_000:04d}",
                    rng.choice(["CEO", "Buyer", "Engineer", "CFO"]),
                    company_id,
                    company_name,
                    rng.choice(STAGES),
                    rng.choice(SOURCES),
                    rng.choice(COUNTRIES),
                    rng.choice(owners),
                    now - timedelta(days=rng.randrange(1500)),
                    now - timedelta(days=rng.randrange(400)) if i % 3 else None,
                )

        staged = stage("contacts_contact", columns, rows())
        self._insert("contacts_contact", staged, columns, org, returning=False)

    def _insert(self, table: str, stage: str, columns: list[str], org: Organization,
                returning: bool = True) -> list[tuple[int, str]]:  # fmt: skip
        """INSERT … SELECT from the staging table; row-level security checks every row."""
        defaults = {"custom": "'{}'::jsonb", "street": "''", "city": "''", "region": "''",
                    "postal_code": "''", "updated_at": "now()", "other_emails": "'{}'",
                    "other_phones": "'{}'", "consent": "'{}'::jsonb", "source": "''",
                    "preferred_channel": "''", "language": "''", "external_id": "''",
                    "next_step": "''"}  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND is_generated = 'NEVER' AND column_name <> 'id'", [table]
            )  # fmt: skip
            target = [c for (c,) in cursor.fetchall()]
            values = [
                "%s" if c == "org_id" else c if c in columns else defaults.get(c, "NULL")
                for c in target
            ]
            # Bandit B608: the tables are this command's own, the columns from information_schema,
            # each value a staged column or a fixed default; the org's id goes as a parameter.
            sql = (
                f"INSERT INTO {table} ({', '.join(target)}) SELECT {', '.join(values)} FROM {stage}"  # noqa: S608  # nosec B608
            )
            if returning:
                sql += " RETURNING id, name"
            cursor.execute(sql, [org.pk])
            return [(row[0], row[1]) for row in cursor.fetchall()] if returning else []
