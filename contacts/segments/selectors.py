"""Reads of segments: the list, a segment's page (its runs, its size over time, a few of its
members), the live count of the builder, and the segments a contact is in."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import DatabaseError, connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from contacts import selectors as contact_selectors
from contacts.models import Contact, Segment, SegmentMember, SegmentRun, SegmentSpell
from contacts.segments import rules
from crm.cache import org_rows
from crm.models import Membership

COUNT_MS = 250  # the live count's time; past it, the planner's estimate
RUNS_SHOWN = 20


CHOICES = "segments"


def _choice_rows() -> list[list[str]]:
    """The live segments as [id, name, kind], cached until one is saved, deleted, restored
    or frozen (crm.cache.org_rows): the contacts list reads them on every page."""
    return org_rows(CHOICES, lambda: [
        [str(pk), name, kind] for pk, name, kind in Segment.objects.filter(deleted_at__isnull=True)
        .order_by("name", "id").values_list("pk", "name", "kind")
    ])  # fmt: skip


def segment_choices() -> list[tuple[str, str]]:
    """Every live segment, for the contacts list's filter."""
    return [(pk, name) for pk, name, _ in _choice_rows()]


def static_segment_choices() -> list[tuple[str, str]]:
    """The static segments, which the contacts list's bulk action adds contacts to."""
    return [(pk, name) for pk, name, kind in _choice_rows() if kind == Segment.Kind.STATIC]


def segment_list(*, trashed: bool = False) -> QuerySet[Segment]:
    """The organisation's segments, with the status of their latest run."""
    latest = SegmentRun.objects.filter(segment=OuterRef("pk")).order_by("-started_at", "-id")
    found = Segment.objects.filter(deleted_at__isnull=not trashed)
    return found.annotate(last_status=Subquery(latest.values("status")[:1])).order_by("name", "id")


def visible_members(membership: Membership, segment: Segment) -> QuerySet[Contact]:
    """The segment's members this member may see (a rep limited to their own: theirs)."""
    inside = SegmentMember.objects.filter(segment=segment).values("contact_id")
    return contact_selectors.contact_list(membership).filter(pk__in=inside)


def runs(segment: Segment, limit: int = RUNS_SHOWN) -> list[SegmentRun]:
    return list(segment.runs.select_related("by").order_by("-started_at", "-id")[:limit])


def size_history(segment: Segment, limit: int = 60) -> list[SegmentRun]:
    """The sizes the latest finished runs found, oldest first: the chart's points."""
    done = segment.runs.filter(status=SegmentRun.Status.DONE).order_by("-started_at", "-id")
    # With the segment's id: a related manager's rows are given their segment by it, and
    # would each read it in a query of its own were it left out.
    return list(reversed(done.only("segment", "started_at", "size", "added", "removed")[:limit]))


# A contact's page lists the segments they left last, at most this many.
LEFT_SHOWN = 5


def with_segments(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts with `segments_in`, the live segments each is in by name ({"id", "name",
    "since"}), and `segments_left`, the ones they left last ({"id", "name", "entered",
    "left"}), read in the contacts' own query (a contact's page; see segment_card)."""
    live = {"contact": OuterRef("pk"), "segment__deleted_at__isnull": True}
    inside = (
        SegmentMember.objects.filter(**live).order_by("segment__name", "segment_id")
        .values(json=JSONObject(id="segment_id", name="segment__name", since="added_at"))
    )  # fmt: skip
    left = (
        SegmentSpell.objects.filter(**live).order_by("-left_at", "-id")
        .values(json=JSONObject(id="segment_id", name="segment__name", entered="entered_at",
                                left="left_at"))[:LEFT_SHOWN]
    )  # fmt: skip
    return contacts.annotate(segments_in=ArraySubquery(inside), segments_left=ArraySubquery(left))


def segment_card(contact: Contact) -> dict[str, list[dict[str, Any]]]:
    """What a contact's Segments card shows, from with_segments' annotations: the segments
    they are in, since when, and those they left last, with when they were in them."""

    def dated(row: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {**row, **{key: datetime.fromisoformat(row[key]) for key in keys}}

    return {
        "current": [dated(row, "since") for row in getattr(contact, "segments_in", None) or []],
        "left": [dated(row, "entered", "left")
                 for row in getattr(contact, "segments_left", None) or []],
    }  # fmt: skip


def estimate(tree: dict[str, Any]) -> tuple[int, bool]:
    """How many contacts the checked tree matches, and whether that is exact: counted when
    PostgreSQL can within COUNT_MS, else the planner's estimate."""
    found = Contact.objects.alive().filter(rules.compile_rules(tree)).order_by()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "set_config('statement_timeout', %s, true)", [str(COUNT_MS)],
            )  # fmt: skip
            before = cursor.fetchone()[0]
            count = found.count()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
        return count, True
    except DatabaseError:  # cancelled at COUNT_MS: the savepoint's rollback restores it
        pass
    sql, params = found.values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:  # a failure spoils nothing else
        # Django's compiled SQL, its values in `params`.
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)  # nosec B608
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"]), False


SIZE_WIDTH, SIZE_HEIGHT = 400, 120


def size_plot(history: list[SegmentRun]) -> dict[str, Any]:
    """The size over time as a line: a point per finished run, scaled to the largest."""
    if len(history) < 2:
        return {"points": "", "dots": []}
    top = max(run.size or 0 for run in history) or 1
    step = SIZE_WIDTH / (len(history) - 1)
    dots = []
    for i, run in enumerate(history):
        x = round(40 + i * step, 1)
        y = round(8 + SIZE_HEIGHT - (run.size or 0) / top * SIZE_HEIGHT, 1)
        dots.append({"x": x, "y": y, "run": run})
    return {
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots, "top": top,
        "width": 40 + SIZE_WIDTH + 8, "base": 8 + SIZE_HEIGHT,
    }  # fmt: skip
