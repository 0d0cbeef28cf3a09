"""crm.resources.memory_cap: an allocation past the cap fails, and the cap goes with the block."""

import sys

import pytest

from crm.resources import memory_cap

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux cap")


def test_an_allocation_past_the_cap_fails_and_the_cap_is_lifted_after() -> None:
    with pytest.raises(MemoryError), memory_cap(32):
        bytearray(256 * 1024 * 1024)
    assert len(bytearray(256 * 1024 * 1024)) == 256 * 1024 * 1024


def test_what_fits_under_the_cap_is_allocated() -> None:
    with memory_cap(64):
        assert len(bytearray(8 * 1024 * 1024)) == 8 * 1024 * 1024
