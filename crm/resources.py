"""Caps on what one piece of work may take from the process that runs it."""

import re
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_VMDATA = re.compile(r"^VmData:\s+(\d+) kB$", re.MULTILINE)


@contextmanager
def memory_cap(megabytes: int) -> Iterator[None]:
    """Let the code inside allocate about `megabytes` more at most: past that, an allocation
    fails with MemoryError, which the caller can turn into a message, instead of the worker
    growing until the kernel kills it. The cap is lifted on the way out.

    Linux only, where RLIMIT_DATA counts the heap and private anonymous mappings (what
    Python allocates); elsewhere, or with `megabytes` 0, it caps nothing. Meant for a
    worker's task, where one thing runs at a time: other threads share the cap meanwhile.
    """
    if megabytes <= 0 or not sys.platform.startswith("linux"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    cap = _data_size() + megabytes * 1024 * 1024
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            cap = min(cap, limit)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _data_size() -> int:
    """The process's data segment now, in bytes (VmData, what RLIMIT_DATA is checked against)."""
    found = _VMDATA.search(Path("/proc/self/status").read_text())
    return int(found.group(1)) * 1024 if found else 0
