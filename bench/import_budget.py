"""The import budget: a CSV of 100,000 new contacts, checked and then imported, timed.

The import runs in this process, as a worker would run it (the dry run, then the commit in
one transaction), into the large organisation. What it wrote is deleted afterwards, so
every run measures the same thing on the same data.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
import uuid
from pathlib import Path

from django.db import connection

from crm.db import as_owner
from crm.models import Organization, User
from crm.records.imports import services
from crm.records.models import ImportJob
from crm.tenancy import activate

FIRST = ["Ada", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gustav", "Hana", "Ibrahim", "Julia"]
LAST = ["Andersen", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Ito", "Jansen"]
COUNTRIES = ["United Kingdom", "FR", "de", "United States", "Netherlands", "ES"]
HEADERS = [
    "First Name", "Last Name", "E-mail Address", "Company Name", "Mobile Phone", "Job Title",
    "Lifecycle Stage", "Tags", "City", "Country", "Email marketing consent",
]  # fmt: skip


def write_file(path: Path, rows: int) -> None:
    """A file as a CRM export gives it: every row new (its email carries this run's token)."""
    rng = random.Random(11)  # noqa: S311  # nosec B311  # benchmark data, not a secret
    token = uuid.uuid4().hex[:8]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            writer.writerow([
                first, last, f"{last.lower()}.{i}.{token}@import{i % 50}.example",
                f"Import Company {i % 3000}", f"+44 20 7946 {i % 10000:04d}",
                rng.choice(["CEO", "CTO", "Buyer"]), rng.choice(["Lead", "Customer", "MQL"]),
                rng.choice(["VIP", "Newsletter", "VIP; Partner", ""]),
                rng.choice(["London", "Paris", "Berlin"]), rng.choice(COUNTRIES),
                rng.choice(["yes", "no", ""]),
            ])  # fmt: skip


def measure(org: Organization, user: User, rows: int) -> tuple[float, float]:
    """Seconds for the dry run and for the import of `rows` new contacts."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench-import.csv"
        write_file(path, rows)
        with activate(org), path.open("rb") as file:
            job = services.import_upload(
                org=org, by=user, record_kind="contact", file=file, name=path.name,
                size=path.stat().st_size, run_now=True,
            )  # fmt: skip
    started = time.perf_counter()
    with activate(org):
        job = services.import_check_start(
            org=org, job=job, by=user, mapping=job.mapping, mode="upsert", match_by="email",
            run_now=True,
        )  # fmt: skip
    checked = time.perf_counter()
    with activate(org):
        job = services.import_commit_start(org=org, job=job, by=user, run_now=True)
    done = time.perf_counter()
    if job.status != ImportJob.Status.DONE or job.totals["created"] != rows:
        raise SystemExit(f"the benchmark import did not create {rows:,} rows: {job.totals}")
    _clean_up(org, job)
    return checked - started, done - checked


def _clean_up(org: Organization, job: ImportJob) -> None:
    """Delete what the import wrote, as if it had never run: one statement per table (the
    ORM's delete would go a hundred rows at a time, each batch firing the tables' triggers)."""
    created = (
        "SELECT record_id FROM crm_importchange WHERE job_id = %s AND record_kind = %s AND created"
    )
    # Bandit B608: the table names are fixed here and `created` is the constant subquery
    # above; the values go as parameters.
    with activate(org), connection.cursor() as cursor:
        for table in ("contacts_contacttag", "contacts_consentevent"):
            cursor.execute(
                f"DELETE FROM {table} WHERE contact_id IN ({created})",  # nosec B608
                [job.pk, "contact"],
            )
        cursor.execute(f"DELETE FROM contacts_contact WHERE id IN ({created})", [job.pk, "contact"])  # nosec B608
        cursor.execute(f"DELETE FROM contacts_company WHERE id IN ({created})", [job.pk, "company"])  # nosec B608
        ImportJob.objects.filter(pk=job.pk).delete()
    # The import's History events are all later than its dry run. The app role may only
    # append to the audit log: they are deleted as the owner, under the same policy.
    with as_owner(), activate(org), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM crm_auditevent WHERE at >= %s AND object_type IN (%s, %s)",
            [job.checked_at, "contacts.contact", "contacts.company"],
        )
