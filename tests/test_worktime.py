"""Business time: only the hours a team works count, weekends and clock changes included."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.act.sla.worktime import counted, elapsed
from bot.ground.config import BusinessHours
from bot.ground.config_types import Weekday
from bot.ground.durations import format_duration

OFFICE = BusinessHours()  # 09:00–17:00, Monday to Friday
ALL_DAY = BusinessHours(start=time(0), end=time.max, days=list(Weekday))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_without_business_hours_all_time_counts_and_none_runs_backwards():
    assert elapsed(utc(2026, 11, 20, 16), utc(2026, 11, 23, 9), None, "UTC") == timedelta(days=2, hours=17)
    assert elapsed(utc(2026, 11, 20, 16), utc(2026, 11, 20, 15), None, "UTC") == timedelta(0)


def test_friday_ten_to_five_until_monday_ten_past_nine_is_twenty_minutes():
    assert elapsed(utc(2026, 11, 20, 16, 50), utc(2026, 11, 23, 9, 10), OFFICE, "UTC") == timedelta(minutes=20)


def test_a_night_a_weekend_and_a_working_day_in_between():
    friday_noon, monday_noon = utc(2026, 11, 20, 12), utc(2026, 11, 23, 12)
    assert elapsed(friday_noon, monday_noon, OFFICE, "UTC") == timedelta(hours=8)
    assert elapsed(utc(2026, 11, 21, 10), utc(2026, 11, 22, 18), OFFICE, "UTC") == timedelta(0), "a weekend"
    assert elapsed(utc(2026, 11, 16, 20), utc(2026, 11, 17, 8), OFFICE, "UTC") == timedelta(0), "a night"


def test_hours_are_the_zones_wall_clock_even_when_it_springs_forward_over_the_weekend():
    # Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026: the office opens at 08:00 UTC on Friday
    # and at 07:00 UTC on Monday.
    friday_4_30pm_paris = utc(2026, 3, 27, 15, 30)
    monday_9_30am_paris = utc(2026, 3, 30, 7, 30)
    assert elapsed(friday_4_30pm_paris, monday_9_30am_paris, OFFICE, "Europe/Paris") == timedelta(hours=1)


@pytest.mark.parametrize(
    ("saturday_noon", "sunday_noon", "hours"),
    [
        (utc(2026, 3, 28, 11), utc(2026, 3, 29, 10), 23),  # Paris springs forward: a day of 23 hours
        (utc(2026, 10, 24, 10), utc(2026, 10, 25, 11), 25),  # and falls back: a day of 25
    ],
)
def test_a_day_that_changes_clocks_counts_the_hours_that_really_passed(saturday_noon, sunday_noon, hours):
    assert elapsed(saturday_noon, sunday_noon, ALL_DAY, "Europe/Paris") == timedelta(hours=hours)


def test_business_hours_in_new_york_are_counted_from_utc_moments():
    opens_in_summer, opens_in_winter = utc(2026, 7, 6, 13), utc(2026, 12, 7, 14)  # both 09:00 in New York
    assert elapsed(opens_in_summer - timedelta(hours=1), opens_in_summer, OFFICE, "America/New_York") == timedelta(0)
    assert elapsed(opens_in_winter, opens_in_winter + timedelta(hours=9), OFFICE, "America/New_York") == timedelta(
        hours=8
    )


def test_paused_time_counts_only_where_it_was_business_time():
    start, end = utc(2026, 11, 20, 9), utc(2026, 11, 23, 17)  # Friday 09:00 to Monday 17:00: 16 business hours
    friday_afternoon_to_monday_ten = (utc(2026, 11, 20, 13), utc(2026, 11, 23, 10))
    assert counted(start, end, OFFICE, "UTC", paused=[friday_afternoon_to_monday_ten]) == timedelta(hours=11)
    assert counted(start, end, None, "UTC", paused=[friday_afternoon_to_monday_ten]) == timedelta(hours=11)
    a_pause_before_the_start = (utc(2026, 11, 19, 9), utc(2026, 11, 20, 10))
    assert counted(start, end, OFFICE, "UTC", paused=[a_pause_before_the_start]) == timedelta(hours=15)


@pytest.mark.parametrize(
    ("duration", "said"),
    [
        (None, "n/a"),
        (timedelta(minutes=20), "20m"),
        (timedelta(minutes=3, seconds=7), "3m 07s"),
        (timedelta(hours=1, minutes=1, seconds=5), "1h 01m"),
        (timedelta(seconds=29), "29s"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=1, minutes=30), "1h 30m"),
        (timedelta(days=1), "1d"),
        (timedelta(days=2, hours=4, minutes=10), "2d 4h"),
        (-timedelta(minutes=3), "0s"),
    ],
)
def test_reminders_the_home_and_the_summary_write_durations_alike(duration, said):
    assert format_duration(duration) == said


def day_by_day(start: datetime, end: datetime, hours: BusinessHours, tz: str) -> timedelta:
    """The reference: each day's opening hours, in that day's wall time, against the interval."""
    zone, total, day = ZoneInfo(tz), timedelta(0), start.astimezone(ZoneInfo(tz)).date()
    while day <= end.astimezone(zone).date():
        if day.weekday() in hours.weekdays:
            opens = datetime.combine(day, hours.start, zone)
            closes = datetime.combine(day + timedelta(days=1), time(0), zone)
            if hours.end != time.max:
                closes = datetime.combine(day, hours.end, zone)
            opens, closes = opens.astimezone(UTC), closes.astimezone(UTC)  # the same zone would subtract wall times
            total += max(timedelta(0), min(closes, end) - max(opens, start))
        day += timedelta(days=1)
    return total


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800)),
    tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
    opening=st.sampled_from([time(0), time(2, 30), time(9)]),
    closing=st.sampled_from([time(3), time(17, 45), time.max]),
    days=st.sets(st.sampled_from(list(Weekday)), min_size=1),
)
def test_a_mention_open_for_months_counts_what_the_days_one_by_one_count(start, span, tz, opening, closing, days):
    assume(closing > opening)
    hours = BusinessHours(start=opening, end=closing, days=sorted(days, key=lambda day: day.number))
    assert elapsed(start, start + span, hours, tz) == day_by_day(start, start + span, hours, tz)
