"""A soft lockout of an account after failed sign-ins.

Five failures in a row are free; each one after that doubles the wait before the account
takes a password again (30 seconds, a minute, two… fifteen minutes at most). A try during
the wait is refused without looking at the password and does not lengthen it, so the
account's owner is never locked out for long, and meanwhile can sign in with a code sent
to their email, or reset their password: paths only they can take. A sign-in clears the
count; so does an hour without failures.

It counts per account, in the cache; allauth's own limit per client address stays (see
ACCOUNT_RATE_LIMITS). If the cache cannot be reached the wait is not enforced.
"""

import hashlib
import math
import time

from django.core.cache import cache

FREE_FAILURES = 5
FIRST_WAIT = 30
LONGEST_WAIT = 15 * 60
FORGET_AFTER = 3600


def _key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"lockout:{digest}"


def _failures(email: str, now: float) -> tuple[int, float]:
    """The account's failures in a row, and the time of the last; none after an hour."""
    found = cache.get(_key(email)) if email else None
    if not found or now - float(found[1]) > FORGET_AFTER:
        return 0, 0.0
    return int(found[0]), float(found[1])


def wait_seconds(email: str, now: float | None = None) -> int:
    """How long the account of `email` must wait before it takes a password again."""
    now = time.time() if now is None else now
    failures, last = _failures(email, now)
    if failures < FREE_FAILURES:
        return 0
    wait = min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), LONGEST_WAIT)
    return max(0, math.ceil(last + wait - now))


def record_failure(email: str, now: float | None = None) -> None:
    if not email:
        return
    now = time.time() if now is None else now
    failures, _ = _failures(email, now)
    cache.set(_key(email), [failures + 1, now], timeout=FORGET_AFTER + LONGEST_WAIT)


def clear(email: str) -> None:
    if email:
        cache.delete(_key(email))


def describe(seconds: int) -> str:
    """'45 seconds', '2 minutes': how long, as the sign-in page says it."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
