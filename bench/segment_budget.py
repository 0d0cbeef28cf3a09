"""The segment budget: refreshes over the large organisation, timed, with the memory they
took in Python; and the nightly scores (contacts.scores), timed.

Three segments of growing size (the customers active in the last 90 days, the leads, and
every contact) are each refreshed three times: from empty (every member added), again
with nothing changed, and after a change of rules that takes every member out. Each
refresh is the service the worker runs; tracemalloc gives the peak of what Python held
during it, which stays flat however many contacts the segment has: no contact row reaches
Python. What the run wrote is deleted afterwards.

`bench_segment` keeps one segment in the organisation for the pages: its page, its
builder's live count and the contacts list filtered to it.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from django.db import connection

from contacts import scores
from contacts.models import Segment
from contacts.segments import services
from crm.models import Organization, User
from crm.tenancy import activate

BENCH_SEGMENT = "Bench: active customers"
ACTIVE = {"field": "interactions.count", "op": "gte", "value": 1, "params": {"days": 90}}
SIZES: list[tuple[str, dict[str, Any]]] = [
    ("active customers", {"match": "all", "rules": [
        {"field": "lifecycle", "op": "is", "value": "customer"}, ACTIVE]}),
    ("leads", {"match": "all", "rules": [{"field": "lifecycle", "op": "is", "value": "lead"}]}),
    ("every contact", {"match": "all", "rules": []}),
]  # fmt: skip
NOBODY = {"match": "all", "rules": [{"field": "email", "op": "is", "value": "nobody@nowhere"}]}


def bench_segment(org: Organization, admin: User) -> Segment:
    """The segment the pages are timed with, made and refreshed once."""
    with activate(org):
        found = Segment.objects.filter(name=BENCH_SEGMENT, deleted_at__isnull=True).first()
        if found is None:
            found = services.segment_save(
                org=org, by=admin, name=BENCH_SEGMENT, schedule=Segment.Schedule.MANUAL,
                rules_tree=SIZES[0][1],
            )  # fmt: skip
            services.segment_refresh(org=org, segment_id=found.pk, by=admin)
        return found


def measure(org: Organization, admin: User) -> list[dict[str, Any]]:
    """Per segment: its size, and the seconds and Python peak (KiB) of each refresh."""
    found = []
    for name, tree in SIZES:
        with activate(org):
            segment = services.segment_save(
                org=org, by=admin, name=f"Bench: {name}", rules_tree=tree,
                schedule=Segment.Schedule.MANUAL,
            )  # fmt: skip
        row: dict[str, Any] = {"name": name}
        try:
            for step in ("fill", "again", "empty"):
                if step == "empty":
                    with activate(org):
                        segment.refresh_from_db()
                        services.segment_save(
                            org=org, by=admin, segment=segment, name=segment.name,
                            rules_tree=NOBODY, schedule=Segment.Schedule.MANUAL,
                        )  # fmt: skip
                tracemalloc.start()
                started = time.perf_counter()
                with activate(org):
                    run = services.segment_refresh(org=org, segment_id=segment.pk, by=admin)
                seconds = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1] / 1024
                tracemalloc.stop()
                if run is None or run.status != run.Status.DONE:
                    raise RuntimeError(f"The refresh of {name} failed: {run and run.error}")
                if step == "fill":
                    row["size"] = run.size
                row[step] = (seconds, peak)
        finally:
            _delete(org, segment.pk)
        found.append(row)
    return found


def _delete(org: Organization, segment_id: int) -> None:
    """Delete a bench segment with its members in SQL (the ORM would read them first)."""
    with activate(org), connection.cursor() as cursor:
        for table in ("contacts_segmentspell", "contacts_segmentmember", "contacts_segmentrun"):
            # The table names are fixed here; the id goes as a parameter.
            sql = f"DELETE FROM {table} WHERE segment_id = %s"  # noqa: S608  # nosec B608
            cursor.execute(sql, [segment_id])
        cursor.execute("DELETE FROM contacts_segment WHERE id = %s", [segment_id])


def measure_scores(org: Organization) -> tuple[float, dict[str, int]]:
    """Seconds for the nightly scores over every contact, and what they wrote (the first run
    writes every scored contact; a second, on the same data, little)."""
    started = time.perf_counter()
    with activate(org):
        written = scores.scores_run(org=org)
    return time.perf_counter() - started, written
