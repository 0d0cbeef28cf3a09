"""crm.links: the URLs of many records, reversed once per name and organisation."""

import pytest
from django.urls import reverse

from crm.links import record_url


@pytest.mark.parametrize(
    "name", ["contacts:detail", "interactions:edit", "interactions:delivery", "tasks:complete"]
)
def test_it_gives_what_reverse_gives(name: str) -> None:
    for slug, pk in [("acme", 7), ("globex-2", 1042), ("acme", 0)]:
        assert record_url(name, slug, pk) == reverse(name, args=[slug, pk])
