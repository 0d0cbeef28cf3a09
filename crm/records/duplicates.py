"""Likely duplicates: pairs of records of one kind that look like one, found nightly by each
kind's finder, listed until merged or dismissed.

A kind that looks for duplicates declares a DuplicateSpec: the reasons its finder gives,
the finder itself (set-based SQL that stores pairs, the lower id first), and how the list
describes a record beside its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from crm.audit import audit_record
from crm.models import Membership, Organization, User
from crm.records import registry
from crm.records.models import DuplicatePair, Merge
from crm.tasks import enqueue
from crm.tenancy import cache_key

if TYPE_CHECKING:
    from crm.records.registry import Kind

# Seconds during which "Look for duplicates now" does not send the search again.
FIND_AGAIN_AFTER = 60


@dataclass(frozen=True)
class DuplicateSpec:
    """How a kind's likely duplicates are found and shown."""

    reasons: dict[str, str]  # what the finder stores -> what the list says: "Same email address"
    # find(org=) stores the organisation's pairs of this kind: new pairs added, pairs no
    # longer found removed, dismissed ones left dismissed. Answers how many were added.
    find: Callable[..., int]
    describe: Callable[[Any], str]  # the line under a record's name in the list
    explain: str = ""  # what the list page says its pairs are


@transaction.atomic
def duplicates_find(*, org: Organization) -> dict[str, int]:
    """Look for likely duplicates of every kind that declares a finder."""
    return {
        kind.key: kind.duplicates.find(org=org)
        for kind in registry.kinds()
        if kind.duplicates is not None
    }


def duplicates_find_soon(*, org: Organization) -> bool:
    """Send the search for duplicates now (once the request commits), unless it was sent a
    moment ago: a second press would only repeat the same work. True if it was sent."""
    if not cache.add(cache_key("duplicates_find"), True, timeout=FIND_AGAIN_AFTER):
        return False
    enqueue("records.duplicates_find", org_id=org.pk)
    return True


@transaction.atomic
def duplicate_dismiss(*, org: Organization, pair: DuplicatePair, by: User | None) -> None:
    """Say that a pair is not one record: it is never listed again."""
    if pair.dismissed_at is None:
        pair.dismissed_at, pair.dismissed_by = timezone.now(), by
        pair.save(update_fields=["dismissed_at", "dismissed_by"])
        audit_record(
            org=org, actor=by, action=f"{pair.record_kind}.duplicate_dismissed", target=pair,
            changes={"records": [None, [pair.first_id, pair.second_id]]},
        )  # fmt: skip


def pairs_forget(*, kind: Kind, ids: Sequence[int]) -> int:
    """Forget the pairs of records deleted for good, dismissed or not; how many."""
    pairs = DuplicatePair.objects.filter(record_kind=kind.key)
    deleted, _ = pairs.filter(Q(first_id__in=ids) | Q(second_id__in=ids)).delete()
    return deleted


# --- Reads -------------------------------------------------------------------------------


def _pairable(kind: Kind, membership: Membership) -> QuerySet[Any]:
    """The records of a kind that may be listed in a pair for this member: visible, alive,
    not erased."""
    found = kind.visible(membership).select_related(None).prefetch_related(None)
    return found.filter(**{kind.erased_field: None}) if kind.erased_field else found


def _open_pairs(kind: Kind, membership: Membership) -> Q:
    """The open pairs of one kind whose two records this member may see."""
    visible = _pairable(kind, membership)
    return Q(
        Exists(visible.filter(pk=OuterRef("first_id"))),
        Exists(visible.filter(pk=OuterRef("second_id"))),
        record_kind=kind.key, dismissed_at__isnull=True,
    )  # fmt: skip


def duplicate_pairs(kind: Kind, membership: Membership) -> QuerySet[DuplicatePair]:
    """The open pairs whose two records this member may see, most alike first."""
    found = DuplicatePair.objects.filter(_open_pairs(kind, membership))
    return cast(QuerySet[DuplicatePair], found.order_by("-score", "id"))


def with_records(kind: Kind, pairs: Sequence[DuplicatePair]) -> list[DuplicatePair]:
    """The pairs, each with its two records (`pair.records`), read in one query."""
    ids = {pk for pair in pairs for pk in (pair.first_id, pair.second_id)}
    records = kind.model._default_manager.in_bulk(ids) if ids else {}
    for pair in pairs:
        pair.records = (records.get(pair.first_id), records.get(pair.second_id))  # type: ignore[attr-defined]
    return list(pairs)


def duplicate_pair(pair_id: int, membership: Membership) -> DuplicatePair | None:
    """An open pair whose two records this member may see, in one query."""
    either = Q(pk__in=[])
    for kind in registry.kinds():
        if kind.duplicates is not None:
            either |= _open_pairs(kind, membership)
    return cast(DuplicatePair | None, DuplicatePair.objects.filter(either, pk=pair_id).first())


def recent_merges(kind: Kind, membership: Membership, limit: int = 10) -> list[Merge]:
    """The latest merges into records this member may see, with those records."""
    visible = kind.every_visible(membership)
    merges = Merge.objects.filter(record_kind=kind.key).filter(
        Exists(visible.filter(pk=OuterRef("survivor_id")))
    )
    found = list(merges.select_related("by")[:limit])
    survivors = visible.in_bulk([merge.survivor_id for merge in found])
    for merge in found:
        merge.survivor = survivors.get(merge.survivor_id)  # type: ignore[attr-defined]
    return found
