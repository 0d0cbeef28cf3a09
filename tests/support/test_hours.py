"""support.hours: business time for SLA clocks. Examples worked out by hand (Mon 1 June 2026
is a Monday), daylight-saving days in three zones, pauses, and properties under random
calendars that include Australia/Lord_Howe's half-hour shift. No database."""

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.hours import (
    Calendar,
    NoBusinessHours,
    add_business_seconds,
    business_seconds,
    due,
    elapsed,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
HOUR = 3600
OFFICE = Calendar.weekdays("Europe/Berlin")  # Mon-Fri 09:00-17:00
LUNCH = Calendar("Europe/Berlin", (((9 * 60, 12 * 60), (13 * 60, 17 * 60)),) * 5 + ((), ()))
NIGHT = Calendar("Europe/Berlin", (((60, 4 * 60),),) * 7)  # 01:00-04:00 every day


def berlin(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def daily(zone: str, start: int, end: int) -> Calendar:
    return Calendar(zone, (((start, end),),) * 7)


def _utc(moment: datetime) -> datetime:
    # Two datetimes of one zone compare and subtract by wall clock: real time is in UTC.
    return moment.astimezone(UTC)


def _real_seconds(start: datetime, end: datetime) -> int:
    return int((_utc(end) - _utc(start)).total_seconds())


# Measuring


def test_it_counts_a_span_inside_opening_hours() -> None:
    assert business_seconds(OFFICE, berlin(1, 10), berlin(1, 12, 30)) == 2 * HOUR + 30 * 60


def test_it_counts_only_the_open_part_of_a_longer_day() -> None:
    assert business_seconds(OFFICE, berlin(1, 7), berlin(1, 19)) == 8 * HOUR


def test_it_stops_overnight() -> None:
    assert business_seconds(OFFICE, berlin(1, 16), berlin(2, 10)) == 2 * HOUR


def test_it_stops_over_the_weekend() -> None:
    assert business_seconds(OFFICE, berlin(5, 16), berlin(8, 10)) == 2 * HOUR


def test_it_skips_a_holiday() -> None:
    calendar = Calendar.weekdays("Europe/Berlin", holidays=frozenset({date(2026, 6, 3)}))
    assert business_seconds(calendar, berlin(2, 16), berlin(4, 10)) == 2 * HOUR


def test_it_reads_holidays_as_local_dates() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    monday = datetime(2026, 6, 1, 8, tzinfo=tokyo)  # Sunday 23:00 UTC
    calendar = Calendar.weekdays("Asia/Tokyo", holidays=frozenset({date(2026, 6, 1)}))
    assert (
        business_seconds(Calendar.weekdays("Asia/Tokyo"), monday, monday + timedelta(hours=10))
        == 8 * HOUR
    )
    assert business_seconds(calendar, monday, monday + timedelta(hours=10)) == 0


def test_it_leaves_out_a_lunch_break() -> None:
    assert business_seconds(LUNCH, berlin(1, 11), berlin(1, 14)) == 2 * HOUR


def test_it_counts_nothing_when_the_end_is_not_after_the_start() -> None:
    assert business_seconds(OFFICE, berlin(1, 12), berlin(1, 10)) == 0
    assert business_seconds(OFFICE, berlin(1, 12), berlin(1, 12)) == 0


def test_it_accepts_datetimes_in_any_zone() -> None:
    start = datetime(2026, 6, 1, 14, tzinfo=UTC)  # 16:00 in Berlin
    end = datetime(2026, 6, 2, 4, tzinfo=NEW_YORK)  # 10:00 in Berlin
    assert business_seconds(OFFICE, start, end) == 2 * HOUR


def test_it_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        business_seconds(OFFICE, datetime(2026, 6, 1, 9), berlin(1, 10))
    with pytest.raises(ValueError, match="no time zone"):
        add_business_seconds(OFFICE, datetime(2026, 6, 1, 9), 60)


def test_it_rounds_a_part_second_down() -> None:
    start = berlin(1, 10)
    assert business_seconds(OFFICE, start, start + timedelta(seconds=1.9)) == 1


def test_it_counts_wall_clock_seconds_around_the_clock() -> None:
    calendar = Calendar.always("America/New_York")
    start = datetime(2026, 3, 1, 12, tzinfo=NEW_YORK)
    end = datetime(2026, 11, 15, 12, tzinfo=NEW_YORK)  # both of 2026's changes lie between
    assert business_seconds(calendar, start, end) == _real_seconds(start, end)


def test_it_measures_a_year_in_a_few_milliseconds() -> None:
    begun = time.perf_counter()
    seconds = business_seconds(
        OFFICE, berlin(1, 0, month=1), berlin(1, 0, month=12) + timedelta(days=31)
    )
    assert time.perf_counter() - begun < 0.05  # a generous bound for a busy CI machine
    assert seconds == 261 * 8 * HOUR  # 2026 has 261 weekdays


# Adding


def test_it_adds_within_a_day() -> None:
    assert add_business_seconds(OFFICE, berlin(1, 10), 2 * HOUR) == berlin(1, 12)


def test_it_adds_from_before_opening() -> None:
    assert add_business_seconds(OFFICE, berlin(1, 7), HOUR) == berlin(1, 10)


def test_it_adds_overnight() -> None:
    assert add_business_seconds(OFFICE, berlin(1, 16), 2 * HOUR) == berlin(2, 10)


def test_it_adds_over_the_weekend() -> None:
    assert add_business_seconds(OFFICE, berlin(5, 16, 30), HOUR) == berlin(8, 9, 30)


def test_it_adds_over_a_holiday() -> None:
    calendar = Calendar.weekdays("Europe/Berlin", holidays=frozenset({date(2026, 6, 5)}))
    assert add_business_seconds(calendar, berlin(4, 16), 2 * HOUR) == berlin(8, 10)


def test_it_adds_over_a_lunch_break() -> None:
    assert add_business_seconds(LUNCH, berlin(1, 11, 30), HOUR) == berlin(1, 13, 30)


def test_it_is_due_at_closing_time_not_at_the_next_opening() -> None:
    assert add_business_seconds(OFFICE, berlin(1, 16), HOUR) == berlin(1, 17)


def test_it_returns_utc() -> None:
    result = add_business_seconds(OFFICE, berlin(1, 10), 60)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 6, 1, 8, 1, tzinfo=UTC)


def test_it_returns_the_start_for_zero_seconds_even_when_closed() -> None:
    saturday = berlin(6, 12)
    assert add_business_seconds(OFFICE, saturday, 0) == saturday


def test_it_refuses_negative_seconds() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        add_business_seconds(OFFICE, berlin(1, 10), -1)


def test_it_raises_when_the_calendar_never_opens() -> None:
    closed = Calendar("UTC", ((),) * 7)
    with pytest.raises(NoBusinessHours, match="no open hours"):
        add_business_seconds(closed, berlin(1, 10), 1)
    with pytest.raises(NoBusinessHours):
        due(closed, berlin(1, 10), 1, [])
    assert business_seconds(closed, berlin(1, 10), berlin(8, 10)) == 0  # measuring is fine
    assert issubclass(NoBusinessHours, ValueError)


def test_it_raises_after_more_than_400_days_of_holidays() -> None:
    holidays = frozenset(date(2026, 6, 1) + timedelta(days=n) for n in range(401))
    calendar = Calendar.weekdays("Europe/Berlin", holidays=holidays)
    with pytest.raises(NoBusinessHours, match="closed for more than 400 days"):
        add_business_seconds(calendar, berlin(1, 10), 1)


def test_it_waits_through_a_long_run_of_holidays_under_the_bound() -> None:
    holidays = frozenset(date(2026, 6, 1) + timedelta(days=n) for n in range(300))
    calendar = Calendar.weekdays("Europe/Berlin", holidays=holidays)
    # The holidays end on Saturday 27 March 2027; Monday 29 March is the next open day.
    result = add_business_seconds(calendar, berlin(1, 10), HOUR)
    assert result == datetime(2027, 3, 29, 10, tzinfo=BERLIN)


# Daylight saving


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (BERLIN, date(2026, 3, 29), 23),
        (BERLIN, date(2026, 10, 25), 25),
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 25),
        (LORD_HOWE, date(2026, 10, 4), 23.5),
        (LORD_HOWE, date(2026, 4, 5), 24.5),
    ],
)
def test_it_counts_a_change_day_around_the_clock(zone: ZoneInfo, day: date, hours: float) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)  # wall-clock arithmetic: the next local midnight
    assert business_seconds(Calendar.always(zone.key), start, end) == hours * HOUR


@pytest.mark.parametrize(
    ("zone", "sunday", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
    ],
)
def test_it_counts_the_real_length_of_midnight_to_midnight(
    zone: str, sunday: date, hours: int
) -> None:
    calendar = Calendar(zone, ((),) * 6 + (((0, 24 * 60),),))  # Sundays only
    start = datetime(2026, sunday.month, sunday.day, tzinfo=ZoneInfo(zone)) - timedelta(days=3)
    assert business_seconds(calendar, start, start + timedelta(days=7)) == hours * HOUR


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 2),  # 01:00 CET to 04:00 CEST
        ("Europe/Berlin", date(2026, 10, 25), 4),  # 01:00 CEST to 04:00 CET
        ("America/New_York", date(2026, 3, 8), 2),
        ("America/New_York", date(2026, 11, 1), 4),  # 01:00 is ambiguous: its first time
        ("Australia/Lord_Howe", date(2026, 10, 4), 2.5),
        ("Australia/Lord_Howe", date(2026, 4, 5), 3.5),
    ],
)
def test_it_counts_the_real_length_of_a_night_interval(zone: str, day: date, hours: float) -> None:
    calendar = daily(zone, 60, 4 * 60)
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    assert business_seconds(calendar, start, start + timedelta(days=1)) == hours * HOUR


def test_it_counts_nothing_for_the_skipped_hour() -> None:
    calendar = daily("Europe/Berlin", 2 * 60, 3 * 60)
    start = berlin(29, 0, month=3)
    assert business_seconds(calendar, start, start + timedelta(days=1)) == 0


def test_it_counts_the_repeated_hour_twice() -> None:
    calendar = daily("Europe/Berlin", 2 * 60, 3 * 60)
    start = berlin(25, 0, month=10)
    assert business_seconds(calendar, start, start + timedelta(days=1)) == 2 * HOUR


def test_it_reads_a_skipped_wall_time_with_the_old_offset() -> None:
    # 02:30 does not exist on 29 March in Berlin: read as 02:30 CET, it is 03:30 CEST.
    calendar = daily("Europe/Berlin", 60 + 30, 2 * 60 + 30)
    start = berlin(29, 0, month=3)
    assert business_seconds(calendar, start, start + timedelta(days=1)) == 1 * HOUR
    assert add_business_seconds(calendar, start, HOUR) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_it_counts_a_second_once_when_two_intervals_land_on_it() -> None:
    # 02:15-02:45 is read as 03:15-03:45 CEST, inside 03:05-04:00: together 03:05-04:00.
    calendar = Calendar("Europe/Berlin", (((135, 165), (185, 240)),) * 7)
    start = berlin(29, 0, month=3)
    assert business_seconds(calendar, start, start + timedelta(days=1)) == 55 * 60


def test_it_reads_an_ambiguous_wall_time_as_its_first_occurrence() -> None:
    calendar = daily("Europe/Berlin", 2 * 60 + 30, 3 * 60 + 30)  # 02:30 CEST to 03:30 CET
    start = berlin(25, 0, month=10)
    assert business_seconds(calendar, start, start + timedelta(days=1)) == 2 * HOUR


def test_it_adds_across_spring_forward_around_the_clock() -> None:
    calendar = Calendar.always("Europe/Berlin")
    result = add_business_seconds(calendar, berlin(29, 1, 30, month=3), HOUR)
    assert result.astimezone(BERLIN) == berlin(29, 3, 30, month=3)


def test_it_adds_across_fall_back_around_the_clock() -> None:
    calendar = Calendar.always("America/New_York")
    start = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)  # EDT, 04:30 UTC
    assert add_business_seconds(calendar, start, 2 * HOUR) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


def test_it_adds_through_a_short_night_interval() -> None:
    start = berlin(29, 0, month=3)
    assert add_business_seconds(NIGHT, start, 2 * HOUR) == datetime(2026, 3, 29, 2, tzinfo=UTC)
    # One second more is the first second of the next night: 01:00 CEST on 30 March.
    assert add_business_seconds(NIGHT, start, 2 * HOUR + 1) == datetime(
        2026, 3, 29, 23, 0, 1, tzinfo=UTC
    )


# Pauses


def test_it_leaves_out_a_pause() -> None:
    pauses = [(berlin(1, 10), berlin(1, 11))]
    assert elapsed(OFFICE, berlin(1, 9), berlin(1, 15), pauses) == 5 * HOUR


def test_it_leaves_out_several_pauses() -> None:
    pauses = [(berlin(1, 10), berlin(1, 11)), (berlin(1, 13), berlin(1, 13, 30))]
    assert elapsed(OFFICE, berlin(1, 9), berlin(1, 15), pauses) == 4 * HOUR + 30 * 60


def test_it_counts_overlapping_pauses_once() -> None:
    pauses = [(berlin(1, 11), berlin(1, 13)), (berlin(1, 10), berlin(1, 12))]
    assert elapsed(OFFICE, berlin(1, 9), berlin(1, 15), pauses) == 3 * HOUR


def test_it_ignores_a_pause_outside_opening_hours() -> None:
    pauses = [(berlin(1, 18), berlin(2, 8))]
    assert elapsed(OFFICE, berlin(1, 9), berlin(2, 12), pauses) == 11 * HOUR
    assert due(OFFICE, berlin(1, 9), 9 * HOUR, pauses) == berlin(2, 10)


def test_it_clips_a_pause_reaching_outside_the_clock() -> None:
    pauses = [(berlin(31, 12, month=5), berlin(1, 10)), (berlin(1, 11), berlin(9, 12))]
    assert elapsed(OFFICE, berlin(1, 9), berlin(1, 12), pauses) == HOUR


def test_it_counts_a_running_pause_until_now() -> None:
    pauses = [(berlin(1, 11), None)]
    assert elapsed(OFFICE, berlin(1, 9), berlin(1, 15), pauses) == 2 * HOUR


def test_it_counts_nothing_before_the_start() -> None:
    assert elapsed(OFFICE, berlin(1, 12), berlin(1, 10), []) == 0


def test_it_is_due_later_by_a_pause_then_resume() -> None:
    pauses = [(berlin(1, 10), berlin(1, 11))]
    assert due(OFFICE, berlin(1, 9), 4 * HOUR, pauses) == berlin(1, 14)


def test_it_is_due_later_by_overlapping_pauses_once() -> None:
    pauses = [(berlin(1, 10), berlin(1, 12)), (berlin(1, 11), berlin(1, 13))]
    assert due(OFFICE, berlin(1, 9), 4 * HOUR, pauses) == berlin(1, 16)


def test_it_is_due_after_a_pause_over_the_weekend() -> None:
    pauses = [(berlin(5, 16, 30), berlin(8, 10))]
    assert due(OFFICE, berlin(5, 16), 2 * HOUR, pauses) == berlin(8, 11, 30)


def test_it_is_not_due_while_a_pause_is_open() -> None:
    pauses = [(berlin(1, 10), berlin(1, 10, 30)), (berlin(1, 11), None)]
    assert due(OFFICE, berlin(1, 9), 4 * HOUR, pauses) is None


def test_it_keeps_a_deadline_met_before_a_pause_was_opened() -> None:
    pauses = [(berlin(1, 11), None)]
    assert due(OFFICE, berlin(1, 9), HOUR, pauses) == berlin(1, 10)


def test_it_is_due_at_the_start_for_a_zero_target() -> None:
    assert due(OFFICE, berlin(6, 12), 0, [(berlin(6, 11), None)]) == berlin(6, 12)


# Calendars


def test_it_builds_weekday_and_round_the_clock_calendars() -> None:
    assert OFFICE.weekly == (((540, 1020),),) * 5 + ((), ())
    assert Calendar.always().weekly == (((0, 1440),),) * 7
    assert Calendar.always().zone == "UTC"


def test_it_stores_lists_as_tuples_so_a_calendar_stays_hashable() -> None:
    calendar = Calendar("UTC", [[[540, 1020]]] * 7, {date(2026, 6, 1)})  # type: ignore[arg-type]
    assert calendar == Calendar("UTC", (((540, 1020),),) * 7, frozenset({date(2026, 6, 1)}))
    assert hash(calendar)


@pytest.mark.parametrize(
    ("zone", "weekly", "holidays", "message"),
    [
        ("Mars/Olympus", ((),) * 7, frozenset(), "Unknown time zone"),
        ("", ((),) * 7, frozenset(), "IANA name"),
        ("../etc/passwd", ((),) * 7, frozenset(), "Unknown time zone"),
        ("UTC", ((),) * 6, frozenset(), "7 days"),
        ("UTC", (((600, 540),),) + ((),) * 6, frozenset(), "start < end"),
        ("UTC", (((0, 1441),),) + ((),) * 6, frozenset(), "start < end"),
        ("UTC", (((-1, 60),),) + ((),) * 6, frozenset(), "start < end"),
        ("UTC", (((540, 720), (700, 900)),) + ((),) * 6, frozenset(), "not overlap"),
        ("UTC", (((700, 900), (540, 600)),) + ((),) * 6, frozenset(), "sorted"),
        ("UTC", (((540,),),) + ((),) * 6, frozenset(), "two whole minutes"),
        ("UTC", (((9.5, 17),),) + ((),) * 6, frozenset(), "two whole minutes"),
        ("UTC", (5,) * 7, frozenset(), "7 days"),
        ("UTC", ((),) * 7, frozenset({datetime(2026, 6, 1, tzinfo=UTC)}), "a date"),
    ],
)
def test_it_refuses_a_bad_calendar(zone, weekly, holidays, message) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar(zone, weekly, holidays)


def test_it_names_the_day_of_a_bad_interval() -> None:
    with pytest.raises(ValueError, match="Wednesday"):
        Calendar("UTC", ((), (), ((60, 30),), (), (), (), ()))


# Properties

EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
# The 2026 changes of those zones, where wall time and real time disagree.
CHANGES = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 6, 1, tzinfo=UTC),
]
# Boundaries near the changes' wall times (01:00-03:00) are drawn often.
MINUTES = st.one_of(
    st.integers(0, 1440), st.sampled_from([0, 60, 90, 120, 150, 180, 210, 240, 1440])
)


@st.composite
def days(draw: st.DrawFn, minutes: st.SearchStrategy[int] = MINUTES) -> tuple[tuple[int, int], ...]:
    bounds = sorted(set(draw(st.lists(minutes, max_size=6))))
    if len(bounds) % 2:
        bounds = bounds[:-1]
    return tuple(zip(bounds[::2], bounds[1::2], strict=True))


@st.composite
def calendars(draw: st.DrawFn, minutes: st.SearchStrategy[int] = MINUTES) -> Calendar:
    weekly = tuple(draw(days(minutes)) for _ in range(7))
    if not any(weekly):
        weekly = (((draw(st.integers(0, 1439)), 1440),), *weekly[1:])
    holidays = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2027, 1, 31)), max_size=30))
    return Calendar(draw(st.sampled_from(ZONES)), weekly, holidays)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """A whole-second instant within three weeks of a change, in one of the zones."""
    near = draw(st.sampled_from(CHANGES))
    moment = near + timedelta(seconds=draw(st.integers(-21 * 86400, 21 * 86400)))
    return moment.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


def _weekly_seconds(calendar: Calendar) -> int:
    return sum(end - start for day in calendar.weekly for start, end in day) * 60


@st.composite
def targets(draw: st.DrawFn, calendar: Calendar) -> int:
    """Up to three weeks of the calendar's business time, so that a sparse one stays quick."""
    return draw(st.integers(0, 3 * _weekly_seconds(calendar)))


@EXAMPLES
@given(st.data(), calendars(), instants())
def test_it_measures_back_what_it_adds(
    data: st.DataObject, calendar: Calendar, start: datetime
) -> None:
    seconds = data.draw(targets(calendar))
    end = add_business_seconds(calendar, start, seconds)
    assert end >= start
    assert business_seconds(calendar, start, end) == seconds
    if seconds:  # and the end is the earliest such instant
        assert business_seconds(calendar, start, end - timedelta(seconds=1)) == seconds - 1


@EXAMPLES
@given(calendars(), instants(), instants(), instants())
def test_it_adds_up_over_a_split_point(
    calendar: Calendar, first: datetime, second: datetime, third: datetime
) -> None:
    a, b, c = sorted([first, second, third], key=_utc)
    assert business_seconds(calendar, a, c) == (
        business_seconds(calendar, a, b) + business_seconds(calendar, b, c)
    )


@EXAMPLES
@given(calendars(), instants(), instants(), instants())
def test_it_grows_with_the_end(
    calendar: Calendar, start: datetime, end: datetime, later: datetime
) -> None:
    early, late = sorted([end, later], key=_utc)
    assert business_seconds(calendar, start, early) <= business_seconds(calendar, start, late)


@EXAMPLES
@given(calendars(), instants(), instants())
def test_it_never_counts_more_than_wall_clock_time(
    calendar: Calendar, start: datetime, end: datetime
) -> None:
    assert 0 <= business_seconds(calendar, start, end) <= max(0, _real_seconds(start, end))


@EXAMPLES
@given(st.sampled_from(ZONES), instants(), instants())
def test_it_counts_every_second_around_the_clock(zone: str, start: datetime, end: datetime) -> None:
    wall = max(0, _real_seconds(start, end))
    assert business_seconds(Calendar.always(zone), start, end) == wall


@EXAMPLES
@given(calendars(), instants(), instants())
def test_it_elapses_business_time_when_nothing_pauses(
    calendar: Calendar, start: datetime, now: datetime
) -> None:
    assert elapsed(calendar, start, now, []) == business_seconds(calendar, start, now)


@EXAMPLES
@given(st.data(), calendars(), instants())
def test_it_is_due_when_the_business_time_is_added(
    data: st.DataObject, calendar: Calendar, start: datetime
) -> None:
    target = data.draw(targets(calendar))
    assert due(calendar, start, target, []) == add_business_seconds(calendar, start, target)


@EXAMPLES
@given(st.data(), calendars(), instants(), st.lists(st.tuples(instants(), instants()), max_size=4))
def test_it_has_elapsed_the_target_when_due(
    data: st.DataObject, calendar: Calendar, start: datetime, spans: list[tuple[datetime, datetime]]
) -> None:
    pauses = [(min(span, key=_utc), max(span, key=_utc)) for span in spans]
    target = data.draw(targets(calendar))
    deadline = due(calendar, start, target, pauses)
    assert deadline is not None
    assert elapsed(calendar, start, deadline, pauses) == target
    assert elapsed(calendar, start, deadline, pauses) <= business_seconds(calendar, start, deadline)


# Away from the changes' wall times (01:00 to 03:00) every wall minute exists once, so a plain
# count of real minutes by their local wall time must agree.
STEADY_MINUTES = st.integers(0, 1440).filter(lambda m: not 60 < m < 180)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(calendars(STEADY_MINUTES), instants(), st.integers(0, 3 * 24 * 60))
def test_it_agrees_with_counting_minute_by_minute(
    calendar: Calendar, start: datetime, minutes: int
) -> None:
    start = start.astimezone(UTC).replace(second=0)  # and real, not wall-clock, arithmetic
    end = start + timedelta(minutes=minutes)
    tz = ZoneInfo(calendar.zone)
    open_minutes = 0
    for n in range(minutes):
        local = (start + timedelta(minutes=n)).astimezone(tz)
        minute = local.hour * 60 + local.minute
        if local.date() not in calendar.holidays and any(
            a <= minute < b for a, b in calendar.weekly[local.weekday()]
        ):
            open_minutes += 1
    assert business_seconds(calendar, start, end) == open_minutes * 60
