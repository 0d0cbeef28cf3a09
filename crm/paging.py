"""Bounded pagination: fast on a million rows, because it never counts them all."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

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


def bounded_page(queryset: QuerySet[Any], page: str | None, size: int = PAGE_SIZE) -> BoundedPage:
    """One page of `queryset`, counting at most COUNT_CAP + 1 rows (one cheap query)."""
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    last = max(1, -(-min(count, COUNT_CAP) // size))
    try:
        number = min(max(1, int(page or 1)), last)
    except ValueError:
        number = 1
    start = (number - 1) * size
    return BoundedPage(list(queryset[start : start + size]), number, count, size)
