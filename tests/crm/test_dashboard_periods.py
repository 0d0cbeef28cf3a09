"""The dashboard's periods: quarters and years are the organisation's fiscal ones (Settings →
Organisation profile), at the edges of the fiscal and the calendar year, and say so."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest
import time_machine

from crm import dashboards
from crm.models import Organization

UTC = ZoneInfo("UTC")


def _period(key: str, today: date, start: int) -> tuple[date, date, str]:
    first, last = dashboards.period_days(key, today, fiscal_start=start)
    return first, last, dashboards.Period(key, first, last, UTC, start).label


@pytest.mark.parametrize(
    ("today", "key", "expected"),
    [
        # The first day of FY2027: its first quarter, and the last of FY2026 before it.
        (date(2026, 4, 1), "this_quarter",
         (date(2026, 4, 1), date(2026, 6, 30), "Q1 FY2027 (1 Apr – 30 Jun 2026)")),
        (date(2026, 4, 1), "last_quarter",
         (date(2026, 1, 1), date(2026, 3, 31), "Q4 FY2026 (1 Jan – 31 Mar 2026)")),
        (date(2026, 4, 1), "this_year",
         (date(2026, 4, 1), date(2027, 3, 31), "FY2027 (1 Apr 2026 – 31 Mar 2027)")),
        # Its last day, the day before.
        (date(2026, 3, 31), "this_quarter",
         (date(2026, 1, 1), date(2026, 3, 31), "Q4 FY2026 (1 Jan – 31 Mar 2026)")),
        (date(2026, 3, 31), "last_quarter",
         (date(2025, 10, 1), date(2025, 12, 31), "Q3 FY2026 (1 Oct – 31 Dec 2025)")),
        (date(2026, 3, 31), "this_year",
         (date(2025, 4, 1), date(2026, 3, 31), "FY2026 (1 Apr 2025 – 31 Mar 2026)")),
        # New Year's Day is inside a fiscal year and a fiscal quarter.
        (date(2026, 1, 1), "this_quarter",
         (date(2026, 1, 1), date(2026, 3, 31), "Q4 FY2026 (1 Jan – 31 Mar 2026)")),
        (date(2026, 1, 1), "last_quarter",
         (date(2025, 10, 1), date(2025, 12, 31), "Q3 FY2026 (1 Oct – 31 Dec 2025)")),
        (date(2026, 1, 1), "this_year",
         (date(2025, 4, 1), date(2026, 3, 31), "FY2026 (1 Apr 2025 – 31 Mar 2026)")),
    ],
)  # fmt: skip
def test_a_fiscal_year_from_april(today: date, key: str, expected: tuple[date, date, str]):
    assert _period(key, today, 4) == expected


@pytest.mark.parametrize(
    ("today", "key", "expected"),
    [
        (date(2026, 1, 1), "this_quarter",
         (date(2026, 1, 1), date(2026, 3, 31), "Q1 2026 (1 Jan – 31 Mar 2026)")),
        (date(2026, 1, 1), "last_quarter",
         (date(2025, 10, 1), date(2025, 12, 31), "Q4 2025 (1 Oct – 31 Dec 2025)")),
        (date(2026, 1, 1), "this_year",
         (date(2026, 1, 1), date(2026, 12, 31), "2026 (1 Jan – 31 Dec 2026)")),
        (date(2025, 12, 31), "this_quarter",
         (date(2025, 10, 1), date(2025, 12, 31), "Q4 2025 (1 Oct – 31 Dec 2025)")),
        (date(2025, 12, 31), "last_quarter",
         (date(2025, 7, 1), date(2025, 9, 30), "Q3 2025 (1 Jul – 30 Sep 2025)")),
        (date(2025, 12, 31), "this_year",
         (date(2025, 1, 1), date(2025, 12, 31), "2025 (1 Jan – 31 Dec 2025)")),
    ],
)  # fmt: skip
def test_a_calendar_fiscal_year(today: date, key: str, expected: tuple[date, date, str]):
    assert _period(key, today, 1) == expected


def test_a_quarter_across_new_year():
    # From November: the first quarter runs November to January, in FY2026 (to October).
    assert _period("this_quarter", date(2026, 1, 15), 11) == (
        date(2025, 11, 1), date(2026, 1, 31), "Q1 FY2026 (1 Nov 2025 – 31 Jan 2026)",
    )  # fmt: skip


def test_months_and_custom_periods_are_not_fiscal():
    today = date(2026, 4, 15)
    assert dashboards.period_days("last_month", today, fiscal_start=4) == (
        date(2026, 3, 1), date(2026, 3, 31),
    )  # fmt: skip
    assert dashboards.period_days("last_12_months", today, fiscal_start=4) == (
        date(2025, 5, 1), date(2026, 4, 30),
    )  # fmt: skip
    period = dashboards.Period("custom", date(2026, 4, 1), date(2026, 6, 30), UTC, 4)
    assert period.label == "1 Apr – 30 Jun 2026"


@pytest.mark.django_db
def test_the_page_follows_the_organisations_fiscal_year(client, acme, alice):
    Organization.objects.filter(pk=acme.pk).update(fiscal_year_start_month=4, time_zone="UTC")
    client.force_login(alice)
    with time_machine.travel(date(2026, 4, 1), tick=False):
        response = client.get("/o/acme/dashboards/pipeline/?period=this_year")
    assert response.status_code == 200
    assert "FY2027 (1 Apr 2026 – 31 Mar 2027)" in response.content.decode()
