"""Bounded pagination: fast on a million rows, because it never counts them all."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Window

PAGE_SIZE = 50
# Past this many matches the page says "more than 1,000" and asks for narrower filters:
# counting a broad filter over a million rows to the end costs more than the page budget,
# and nobody pages through twenty pages of a list instead of filtering it.
COUNT_CAP = 1_000


@dataclass
class BoundedPage:
    object_list: list[Any]
    number: int
    count: int  # capped at COUNT_CAP + 1
    page_size: int = PAGE_SIZE

    cap: int = COUNT_CAP

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def num_pages(self) -> int:
        return max(1, -(-min(self.count, COUNT_CAP) // self.page_size))

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.object_list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    @property
    def paginator(self) -> "BoundedPage":  # the shape components/_pagination.html reads
        return self


def _last(count: int, size: int) -> int:
    return max(1, -(-min(count, COUNT_CAP) // size))


def _number(page: str | None) -> int:
    try:
        return max(1, int(page or 1))
    except ValueError:
        return 1


def bounded_page(
    queryset: QuerySet[Any], page: str | None, size: int = PAGE_SIZE, *, among: int | None = None
) -> BoundedPage:
    """One page of `queryset`, counting at most COUNT_CAP + 1 rows (one cheap query).

    `among`: the rows are known to be among that many ids at most (a search found them).
    Then one pass over them counts and orders them together, and the page's rows are read
    by id: counting, then sorting them for the page, would read every match twice.
    """
    if among is not None:
        return _page_among(queryset, _number(page), size)
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    number = min(_number(page), _last(count, size))
    start = (number - 1) * size
    return BoundedPage(list(queryset[start : start + size]), number, count, size)


def _page_among(queryset: QuerySet[Any], number: int, size: int) -> BoundedPage:
    # Ids only, with the count of all matches beside each: the joins and prefetches of the
    # full rows are for the page's rows alone.
    ids_only = queryset.select_related(None).prefetch_related(None)
    ids_only = ids_only.annotate(_matches=Window(Count("pk")))
    start = (number - 1) * size
    found = list(ids_only.values_list("pk", "_matches")[start : start + size])
    # Past the last page, or past the pages a capped count shows: the last one instead.
    last = _last(found[0][1], size) if found else None
    if number > 1 and (last is None or number > last):
        number = last or _last(queryset.order_by().count(), size)
        start = (number - 1) * size
        found = list(ids_only.values_list("pk", "_matches")[start : start + size])
    count = min(found[0][1], COUNT_CAP + 1) if found else 0
    rows = list(queryset.filter(pk__in=[pk for pk, _ in found])) if found else []
    return BoundedPage(rows, number, count, size)
