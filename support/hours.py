"""Business-hours arithmetic for support SLA clocks: pure functions, no database.

A `Calendar` says when a team works: weekly open intervals of local wall-clock time in one
IANA zone, and holidays closed all day. The functions below measure and add business time
between real instants, so that an SLA clock stops overnight, at weekends, on holidays and
while a ticket is paused.

Wall time becomes real time one local day at a time, and each interval boundary is read
with `fold=0` and normalised through UTC, as `datetime` arithmetic does:

- An ambiguous wall time (the repeated hour when clocks fall back) is its first occurrence,
  so on the fall-back day 02:00-03:00 in Europe/Berlin lasts two real hours and 00:00-24:00
  lasts 25.
- A wall time that does not exist (the skipped hour when clocks spring forward) is read
  with the offset in force before the change, which lands it as far past the gap as it
  was into it: in Europe/Berlin, 02:30 on the spring-forward day is 03:30 CEST. So
  02:00-03:00 on that day counts nothing and 00:00-24:00 lasts 23 hours. An interval whose
  end so lands before its start is empty.
- The real spans of all intervals are merged before anything is counted, so a real second
  is counted once even if two wall-clock intervals land on it.

Business time is counted in whole seconds: work is done in microseconds, and a measured
duration is rounded down. Datetimes may be in any zone; naive ones are refused, because
an SLA clock that guesses the zone is wrong twice a year.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "NoBusinessHours",
    "add_business_seconds",
    "business_seconds",
    "due",
    "elapsed",
]

Interval = tuple[int, int]
Pause = tuple[datetime, datetime | None]

MINUTES_PER_DAY = 24 * 60
# add_business_seconds gives up after this many local days in a row without an open minute,
# rather than walk to the year 9999 through a calendar that a typo closed for good.
MAX_CLOSED_DAYS = 400

_US = 1_000_000  # microseconds per second
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_ONE_US = timedelta(microseconds=1)
# No zone is a day ahead of UTC (the furthest is +14:00): an interval of local day d starts
# no earlier than this before d's midnight read as UTC, so earlier spans are final.
_MAX_OFFSET_US = 26 * 3600 * _US
# Local days read either side of a span, for intervals moved across midnight by a gap.
_MARGIN = timedelta(days=2)


class NoBusinessHours(ValueError):
    """The calendar never opens (or not within MAX_CLOSED_DAYS), so a deadline never comes."""


@dataclass(frozen=True)
class Calendar:
    """Business hours: a time zone, weekly open intervals, and holidays (closed all day)."""

    zone: str  # IANA name, e.g. "Europe/Berlin"
    # Seven entries, Monday first; each a tuple of (start_minute, end_minute) intervals of local
    # wall-clock time, 0 <= start < end <= 1440, sorted, not overlapping. 1440 is the midnight
    # at the day's end.
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()  # local dates in `zone`

    def __post_init__(self) -> None:
        if not isinstance(self.zone, str) or not self.zone:
            raise ValueError(
                f"The time zone must be an IANA name such as 'Europe/Berlin', not {self.zone!r}."
            )
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"Unknown time zone {self.zone!r}.") from error
        # Lists are accepted and stored as tuples, so that a calendar stays hashable.
        try:
            weekly = tuple(tuple(tuple(interval) for interval in day) for day in self.weekly)
        except TypeError as error:
            raise ValueError(
                "The week is 7 days, each a tuple of (start_minute, end_minute) intervals."
            ) from error
        if len(weekly) != 7:
            raise ValueError(
                f"The week needs 7 days of intervals, Monday first, not {len(weekly)}."
            )
        for weekday, intervals in enumerate(weekly):
            _check_day(weekday, intervals)
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise ValueError(f"A holiday is a date, not {holiday!r}.")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def always(cls, zone: str = "UTC") -> "Calendar":
        """Open around the clock every day, with no holidays."""
        return cls(zone, (((0, MINUTES_PER_DAY),),) * 7)

    @classmethod
    def weekdays(
        cls,
        zone: str,
        start: int = 9 * 60,
        end: int = 17 * 60,
        holidays: frozenset[date] = frozenset(),
    ) -> "Calendar":
        """Open from `start` to `end` (minutes after local midnight) Monday to Friday."""
        return cls(zone, (((start, end),),) * 5 + ((), ()), frozenset(holidays))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)  # ZoneInfo caches instances by key: this is a lookup

    def is_never_open(self) -> bool:
        """True when no weekday has an open interval."""
        return not any(self.weekly)


def _check_day(weekday: int, intervals: tuple[tuple[int, ...], ...]) -> None:
    day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[weekday]
    previous_end = 0
    for interval in intervals:
        if len(interval) != 2 or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in interval
        ):
            raise ValueError(
                f"{day}: an interval is two whole minutes (start, end), not {interval!r}."
            )
        start, end = interval
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValueError(
                f"{day}: the interval {interval!r} must have 0 <= start < end <= 1440."
            )
        if start < previous_end:
            raise ValueError(
                f"{day}: the intervals must be sorted and must not overlap, at {interval!r}."
            )
        previous_end = end


def business_seconds(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Business seconds in [start, end), rounded down; 0 if end <= start."""
    return _open_us(calendar, _us(start), _us(end)) // _US


def add_business_seconds(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """The first instant (in UTC) at which `seconds` business seconds have passed since `start`.

    It is the earliest such instant: a target met at closing time is due at closing time,
    not at the next opening. `seconds == 0` returns `start` (in UTC), open or not. Raises
    NoBusinessHours when the calendar never opens, or stays closed for MAX_CLOSED_DAYS
    local days in a row before the target is met.
    """
    _check_seconds(seconds)
    return _from_us(_add_us(calendar, _us(start), seconds * _US))


def elapsed(calendar: Calendar, start: datetime, now: datetime, pauses: Sequence[Pause]) -> int:
    """Business seconds of [start, now) outside every pause, rounded down.

    A pause whose end is None is still running (until `now`). Pauses may overlap one
    another or reach outside [start, now): each business second is counted at most once.
    """
    begin, stop = _us(start), _us(now)
    if stop <= begin:
        return 0
    paused = _merge_pauses(pauses, begin, stop)
    total = _open_us(calendar, begin, stop)
    total -= sum(_open_us(calendar, a, b) for a, b in paused)
    return total // _US


def due(
    calendar: Calendar, start: datetime, target_seconds: int, pauses: Sequence[Pause]
) -> datetime | None:
    """When the clock started at `start` reaches `target_seconds` of unpaused business time.

    None while a pause is open and the target was not already met before it began: the
    clock is stopped, so the deadline is unknown. A target met before an open pause began
    keeps its instant, so a breach is not hidden by pausing afterwards. Returned in UTC;
    a target of 0 is due at `start`. Raises NoBusinessHours as add_business_seconds does.
    """
    _check_seconds(target_seconds)
    cursor = _us(start)
    remaining = target_seconds * _US
    if remaining == 0:
        return _from_us(cursor)
    running = [_us(p_start) for p_start, p_end in pauses if p_end is None]
    stopped_at = min(running) if running else None  # the clock stops for good here
    for pause_start, pause_end in _merge_pauses(pauses, cursor, stopped_at):
        if pause_start > cursor:
            available = _open_us(calendar, cursor, pause_start)
            if available >= remaining:
                return _from_us(_add_us(calendar, cursor, remaining))
            remaining -= available
        cursor = max(cursor, pause_end)
    if stopped_at is None:
        return _from_us(_add_us(calendar, cursor, remaining))
    if stopped_at > cursor and _open_us(calendar, cursor, stopped_at) >= remaining:
        return _from_us(_add_us(calendar, cursor, remaining))
    return None


def _check_seconds(seconds: int) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"Business seconds are a whole number >= 0, not {seconds!r}.")


def _us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: SLA clocks need aware datetimes.")
    return (moment - _EPOCH) // _ONE_US


def _from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _local_date(calendar: Calendar, micros: int) -> date:
    return _from_us(micros).astimezone(calendar.tz).date()


def _merge_pauses(pauses: Sequence[Pause], begin: int, stop: int | None) -> list[Interval]:
    """The pauses clipped to [begin, stop), merged and sorted; stop None is unbounded.

    A running pause (end None) reaches `stop`; with stop None it is left to the caller.
    """
    spans: list[Interval] = []
    for pause_start, pause_end in pauses:
        a = max(_us(pause_start), begin)
        if pause_end is None:
            if stop is None:
                continue
            b = stop
        else:
            b = _us(pause_end) if stop is None else min(_us(pause_end), stop)
        if a < b:
            spans.append((a, b))
    return _merge(spans)


def _merge(spans: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _open_us(calendar: Calendar, begin: int, stop: int) -> int:
    """Open microseconds of the calendar in [begin, stop)."""
    if stop <= begin or calendar.is_never_open():
        return 0
    first = _local_date(calendar, begin) - _MARGIN
    last = _local_date(calendar, stop) + _MARGIN
    total = 0
    for a, b in _spans(calendar, first, last):
        if a >= stop:
            break
        if b > begin:
            total += min(b, stop) - max(a, begin)
    return total


def _add_us(calendar: Calendar, begin: int, amount: int) -> int:
    """The first instant at which `amount` open microseconds have passed since `begin`."""
    if amount == 0:
        return begin
    if calendar.is_never_open():
        raise NoBusinessHours(f"The calendar for {calendar.zone} has no open hours on any weekday.")
    for a, b in _spans(calendar, _local_date(calendar, begin) - _MARGIN, None):
        if b <= begin:
            continue
        a = max(a, begin)
        if b - a >= amount:
            return a + amount
        amount -= b - a
    raise AssertionError("unreachable: _spans without a last day runs until it raises")


def _spans(calendar: Calendar, first: date, last: date | None) -> Iterator[Interval]:
    """The open spans (microseconds since the epoch) of local days first..last, sorted and
    disjoint, though one may end where the next begins. With last None it goes on until
    MAX_CLOSED_DAYS closed days in a row, and then raises NoBusinessHours."""
    tz = calendar.tz
    pending: list[Interval] = []  # merged and sorted; may still meet a later day's interval
    day = first
    closed_days = 0
    while last is None or day <= last:
        intervals = _day_intervals(calendar, tz, day)
        for interval in intervals:
            if not pending or interval[0] > pending[-1][1]:
                pending.append(interval)
            else:  # a DST gap moved this interval onto an earlier one
                pending = _merge([*pending, interval])
        day += timedelta(days=1)
        # Every later day's interval starts at or after this bound, so what lies before it is
        # final. A span running past it (open around the clock) is yielded up to it in pieces.
        bound = ((day.toordinal() - _EPOCH_ORDINAL) * 86400) * _US - _MAX_OFFSET_US
        while pending and pending[0][0] < bound:
            a, b = pending[0]
            if b <= bound:
                del pending[0]
            else:
                pending[0] = (bound, b)
            yield a, min(b, bound)
        closed_days = 0 if intervals else closed_days + 1
        if last is None and closed_days > MAX_CLOSED_DAYS:
            raise NoBusinessHours(
                f"The calendar for {calendar.zone} is closed for more than {MAX_CLOSED_DAYS} "
                f"days in a row from {day - timedelta(days=closed_days)}."
            )
    yield from pending


def _day_intervals(calendar: Calendar, tz: ZoneInfo, day: date) -> list[Interval]:
    """The real spans of one local day's open intervals, in microseconds since the epoch."""
    if day in calendar.holidays:
        return []
    midnight = datetime(day.year, day.month, day.day)
    wall_midnight = (day.toordinal() - _EPOCH_ORDINAL) * 86400
    spans = []
    for start, end in calendar.weekly[day.weekday()]:
        a = _instant(tz, midnight, wall_midnight, start)
        b = _instant(tz, midnight, wall_midnight, end)
        if a < b:
            spans.append((a * _US, b * _US))
    return spans


def _instant(tz: ZoneInfo, midnight: datetime, wall_midnight: int, minute: int) -> int:
    """Seconds since the epoch of a local wall time, read with fold=0 (see the module doc)."""
    offset = tz.utcoffset(midnight + timedelta(minutes=minute))
    assert offset is not None  # a ZoneInfo always has an offset
    return wall_midnight + minute * 60 - offset // timedelta(seconds=1)
