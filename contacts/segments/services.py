"""Writes of segments: save (rules checked, no cycles), delete and restore, membership by
hand for a static segment, and the refresh that keeps a dynamic one's members.

A refresh is set-based SQL: the rules' query fills a temporary table of contact ids, then
one INSERT … SELECT adds the newcomers (a member row says since when) and one DELETE
removes the departed, keeping their time in it as a past spell; no contact row reaches
Python.
Membership changes in one transaction: a refresh that dies midway (a worker killed) leaves
the previous members as they were. One refresh of a segment runs at a time (an advisory
lock held until its transaction ends, which PostgreSQL drops with the connection too); a
second one skips.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact, Segment, SegmentMember, SegmentRun
from contacts.segments import rules
from contacts.segments.selectors import CHOICES
from crm.audit import audit_record
from crm.cache import org_forget
from crm.models import Organization, User
from crm.tenancy import cache_key

logger = logging.getLogger(__name__)

LOCK_CLASS = 7301  # pg_try_advisory_lock(LOCK_CLASS, segment id): a refresh per segment
EVERY = {Segment.Schedule.HOURLY: timedelta(hours=1), Segment.Schedule.DAILY: timedelta(days=1)}
# A refresh killed midway leaves its progress behind: the page stops showing it after this.
PROGRESS_SECONDS = 300
PHASES = ["Reading the rules", "Finding the contacts", "Adding newcomers", "Removing leavers"]


# --- Saving ----------------------------------------------------------------------------------


def segment_save(
    *, org: Organization, by: User | None, segment: Segment | None = None, name: str,
    description: str = "", kind: str = Segment.Kind.DYNAMIC, rules_tree: Any = None,
    schedule: str = Segment.Schedule.DAILY,
) -> Segment:  # fmt: skip
    """Create or change a segment. Its rules are checked (an unknown field, operator or
    value is refused, naming it) and may not name itself through other segments."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the segment a name."})
    tree = rules.validate(rules_tree if rules_tree is not None else rules.empty())
    if segment is not None:
        _refuse_cycle(segment.pk, tree)
    before = _state(segment) if segment else {}
    created = segment is None
    if segment is None:
        segment = Segment(org=org, created_by=by)
    segment.name, segment.description = name[:100], description.strip()[:300]
    segment.kind, segment.rules, segment.schedule = kind, tree, schedule
    segment.broken = ""
    segment.refresh_due_at = _next_due(segment, timezone.now())
    segment.save()
    if created and kind == Segment.Kind.STATIC and tree["rules"]:
        # A new static segment takes its first members from its rules, once.
        chosen = Contact.objects.alive().filter(rules.compile_rules(tree)).order_by()
        ids_sql, params = chosen.values("pk").query.sql_with_params()
        _add_from(org, segment, ids_sql, list(params), empty=True)  # made just now
        _recount(segment)
    org_forget(CHOICES)
    after = _state(segment)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit_record(org=org, actor=by, action="segment.saved", target=segment, changes=changes)
    return segment


def _state(segment: Segment) -> dict[str, Any]:
    return {"name": segment.name, "description": segment.description, "kind": segment.kind,
            "rules": segment.rules, "schedule": segment.schedule}  # fmt: skip


def _refuse_cycle(segment_id: int, tree: dict[str, Any]) -> None:
    """Refuse rules that lead back to this segment through the segments they name."""
    seen: set[int] = set()
    todo = set(rules.segment_ids(tree))
    while todo:
        current = todo.pop()
        if current == segment_id:
            raise ValidationError(
                "A segment cannot contain itself, directly or through another segment."
            )
        if current in seen:
            continue
        seen.add(current)
        named = Segment.objects.filter(pk=current).values_list("rules", flat=True).first()
        todo |= rules.segment_ids(named or {})


def _next_due(segment: Segment, now: datetime) -> datetime | None:
    if segment.kind != Segment.Kind.DYNAMIC or segment.deleted_at is not None:
        return None
    every = EVERY.get(Segment.Schedule(segment.schedule))
    return now + every if every else None


def segment_delete(*, org: Organization, by: User | None, segment: Segment) -> None:
    """To the Trash of segments: gone from the lists, its members kept until restored."""
    segment.deleted_at, segment.refresh_due_at = timezone.now(), None
    segment.save(update_fields=["deleted_at", "refresh_due_at", "updated_at"])
    org_forget(CHOICES)
    audit_record(org=org, actor=by, action="segment.deleted", target=segment)


def segment_restore(*, org: Organization, by: User | None, segment: Segment) -> None:
    segment.deleted_at = None
    segment.refresh_due_at = _next_due(segment, timezone.now())
    segment.save(update_fields=["deleted_at", "refresh_due_at", "updated_at"])
    org_forget(CHOICES)
    audit_record(org=org, actor=by, action="segment.restored", target=segment)


# --- Static segments: members by hand ----------------------------------------------------------


def segment_add(*, org: Organization, by: User | None, segment: Segment,
                contacts: QuerySet[Any]) -> int:  # fmt: skip
    """Add contacts to a static segment (the contacts list's bulk action): set-based, the
    ones already in it left alone. How many were added."""
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError("Only a static segment takes contacts by hand.")
    ids_sql, params = contacts.order_by().values("pk").query.sql_with_params()
    with transaction.atomic():
        # Django's compiled SQL, its values in `params`: _add_from names its column.
        added = _add_from(org, segment, ids_sql, list(params))
        _recount(segment)
    audit_record(org=org, actor=by, action="segment.members_added", target=segment,
                 changes={"added": [None, added]})  # fmt: skip
    return added


def segment_remove(*, org: Organization, by: User | None, segment: Segment,
                   contact_ids: list[int]) -> int:  # fmt: skip
    """Take contacts out of a static segment."""
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError("Members of a dynamic segment come from its rules.")
    with transaction.atomic():
        removed = _leave(segment, timezone.now(), "m.contact_id = ANY(%s)", [list(contact_ids)])
        _recount(segment)
    audit_record(org=org, actor=by, action="segment.members_removed", target=segment,
                 changes={"removed": [None, removed]})  # fmt: skip
    return removed


def segment_freeze(*, org: Organization, by: User | None, segment: Segment) -> Segment:
    """Make a dynamic segment static: its members as they are now, kept until changed by
    hand."""
    segment.kind, segment.refresh_due_at = Segment.Kind.STATIC, None
    segment.save(update_fields=["kind", "refresh_due_at", "updated_at"])
    org_forget(CHOICES)
    audit_record(org=org, actor=by, action="segment.frozen", target=segment)
    return segment


def _recount(segment: Segment) -> None:
    segment.size = SegmentMember.objects.filter(segment=segment).count()
    segment.save(update_fields=["size", "updated_at"])


# --- Refreshing --------------------------------------------------------------------------------


def progress_key(segment_id: int) -> str:
    return cache_key("segment_progress", segment_id)


def progress(segment_id: int) -> dict[str, Any] | None:
    """The phase a running refresh is in, as the page shows it; None when none runs."""
    found = cache.get(progress_key(segment_id))
    return found if isinstance(found, dict) else None


def progress_start(segment_id: int) -> None:
    """Say a refresh was asked for, until the worker takes it up."""
    waiting = {"phase": -1, "of": len(PHASES), "label": "Waiting for the worker"}
    cache.set(progress_key(segment_id), waiting, timeout=PROGRESS_SECONDS)


def _say(segment_id: int, phase: int) -> None:
    said = {"phase": phase, "of": len(PHASES), "label": PHASES[phase]}
    cache.set(progress_key(segment_id), said, timeout=PROGRESS_SECONDS)


def segment_refresh(
    *, org: Organization, segment_id: int, trigger: str = "asked", by: User | None = None
) -> SegmentRun | None:
    """Bring a dynamic segment's members up to its rules; the run, or None when another
    refresh of it is running (this one skips). All in one transaction: a refresh killed
    midway leaves nothing behind, and the next one does the work."""
    with transaction.atomic():
        if not _lock(segment_id):
            return None
        try:
            segment = Segment.objects.filter(pk=segment_id, deleted_at__isnull=True).first()
            if segment is None or segment.kind != Segment.Kind.DYNAMIC:
                return None
            run = SegmentRun.objects.create(org=org, segment=segment, trigger=trigger, by=by)
            try:
                _refresh(org, segment, run)
            except ValidationError as error:
                _fail(segment, run, "; ".join(error.messages), broken=True)
            except Exception as error:  # the run says it failed; the worker logs why
                logger.exception("Segment %s: the refresh failed", segment_id)
                _fail(segment, run, f"The refresh failed: {type(error).__name__}.")
            run.refresh_from_db()
            return run
        finally:
            cache.delete(progress_key(segment_id))


def _lock(segment_id: int) -> bool:
    """The segment's lock, held until the transaction that took it ends: past the commit of
    what the refresh wrote, so that a second refresh never reads the members half-written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_CLASS, segment_id])
        return bool(cursor.fetchone()[0])


def _refresh(org: Organization, segment: Segment, run: SegmentRun) -> None:
    with transaction.atomic():
        _say(segment.pk, 0)
        try:
            tree = rules.validate(segment.rules)
        except ValidationError as error:
            raise ValidationError(_broken_message(error)) from error
        missing = rules.segment_ids(tree) - set(
            Segment.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True)
        )
        if missing:
            raise ValidationError("A segment its rules name was deleted; edit the rules.")
        chosen = Contact.objects.alive().filter(rules.compile_rules(tree)).order_by()
        ids_sql, params = chosen.values("pk").query.sql_with_params()
        _say(segment.pk, 1)
        now = timezone.now()
        if not SegmentMember.objects.filter(segment=segment).exists():
            # A first fill (or one after the segment emptied): every contact chosen is a
            # newcomer and nobody leaves, so they go straight in, without the scratch table.
            _say(segment.pk, 2)
            size = added = _add_from(org, segment, ids_sql, list(params), now=now, empty=True)
            removed = 0
        else:
            size, added, removed = _replace(org, segment, ids_sql, list(params), now)
        segment.size, segment.refreshed_at, segment.broken = size, now, ""
        segment.refresh_due_at = _next_due(segment, now)
        segment.save(update_fields=["size", "refreshed_at", "broken", "refresh_due_at",
                                    "updated_at"])  # fmt: skip
        SegmentRun.objects.filter(pk=run.pk).update(
            status=SegmentRun.Status.DONE, finished_at=timezone.now(), size=size, added=added,
            removed=removed,
        )  # fmt: skip


def _replace(
    org: Organization, segment: Segment, ids_sql: str, params: list[Any], now: datetime
) -> tuple[int, int, int]:
    """Make the members the contacts of `ids_sql`: its size, how many came and went."""
    with connection.cursor() as cursor:
        # Dropped with the transaction; and first, should an enclosing one still hold
        # the table of an earlier refresh.
        cursor.execute("DROP TABLE IF EXISTS segment_now")
        cursor.execute(
            "CREATE TEMPORARY TABLE segment_now (contact_id bigint PRIMARY KEY) ON COMMIT DROP"
        )
        # The compiled query's own SQL and parameters: user values stay parameters.
        cursor.execute(f"INSERT INTO segment_now (contact_id) {ids_sql}", params)  # nosec B608
        cursor.execute("ANALYZE segment_now")
    _say(segment.pk, 2)
    added = _add_from(org, segment, "SELECT contact_id FROM segment_now", [], now=now)
    _say(segment.pk, 3)
    removed = _remove_missing(segment, now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM segment_now")
        size = cursor.fetchone()[0]
    return size, added, removed


def _broken_message(error: ValidationError) -> str:
    text = "; ".join(error.messages)
    return f"Its rules no longer hold: {text}"[:300]


def _add_from(
    org: Organization, segment: Segment, ids_sql: str, params: list[Any],
    now: datetime | None = None, *, empty: bool = False,
) -> int:  # fmt: skip
    """Insert the contacts of `ids_sql` not yet in the segment: how many. `empty`: the
    caller holds the segment's lock and has seen it has no members, so none is looked for."""
    now = now or timezone.now()
    unseen = "" if empty else (
        "WHERE NOT EXISTS (SELECT 1 FROM contacts_segmentmember m"
        " WHERE m.segment_id = %s AND m.contact_id = chosen.id)"
    )  # fmt: skip
    with connection.cursor() as cursor:
        # The table and column names are fixed here; `ids_sql` is a compiled query or a
        # fixed one, its values in `params`.
        sql = f"""
            WITH new AS (
                INSERT INTO contacts_segmentmember (org_id, segment_id, contact_id, added_at)
                SELECT %s, %s, chosen.id, %s FROM ({ids_sql}) AS chosen (id) {unseen}
                RETURNING 1
            )
            SELECT count(*) FROM new
            """  # noqa: S608  # nosec B608
        cursor.execute(sql, [org.pk, segment.pk, now, *params, *([] if empty else [segment.pk])])
        return int(cursor.fetchone()[0])


def _remove_missing(segment: Segment, now: datetime) -> int:
    """Take out the members the refresh did not choose (those not in segment_now)."""
    missing = "NOT EXISTS (SELECT 1 FROM segment_now n WHERE n.contact_id = m.contact_id)"
    return _leave(segment, now, missing, [])


def _leave(segment: Segment, now: datetime, which: str, params: list[Any]) -> int:
    """Delete the members `which` picks (a condition on `m`, its values in `params`) and
    keep each one's time in the segment as a past spell, in one statement: how many."""
    with connection.cursor() as cursor:
        # `which` is one of this module's fixed conditions; its values are parameters.
        sql = f"""
            WITH gone AS (
                DELETE FROM contacts_segmentmember m
                WHERE m.segment_id = %s AND {which}
                RETURNING m.org_id, m.contact_id, m.added_at
            ), spells AS (
                INSERT INTO contacts_segmentspell
                    (org_id, segment_id, contact_id, entered_at, left_at)
                SELECT org_id, %s, contact_id, added_at, %s FROM gone
            )
            SELECT count(*) FROM gone
            """  # noqa: S608  # nosec B608
        cursor.execute(sql, [segment.pk, *params, segment.pk, now])
        return int(cursor.fetchone()[0])


def _fail(segment: Segment, run: SegmentRun, message: str, *, broken: bool = False) -> None:
    with transaction.atomic():
        SegmentRun.objects.filter(pk=run.pk).update(
            status=SegmentRun.Status.FAILED, finished_at=timezone.now(), error=message[:300]
        )
        if broken:
            # Not every night in silence: the segment says why, and waits for its rules.
            Segment.objects.filter(pk=segment.pk).update(broken=message[:300],
                                                         refresh_due_at=None)  # fmt: skip


def segments_due(*, org: Organization, now: datetime | None = None) -> list[int]:
    """Claim the segments whose schedule wants a refresh, moving each one's next time on,
    and give their ids (the beat job sends a refresh for each)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Segment.objects.select_for_update(skip_locked=True)
            .filter(deleted_at__isnull=True, refresh_due_at__lte=now, broken="")
            .order_by("refresh_due_at")[:100]
        )  # fmt: skip
        for segment in due:
            segment.refresh_due_at = _next_due(segment, now)
            segment.save(update_fields=["refresh_due_at"])
    return [segment.pk for segment in due]
