"""Time that counts for an SLA: all of it, or only business hours in a time zone, whatever the clocks do."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.ground.config import BusinessHours

_DAY = timedelta(days=1)
_ALWAYS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))


def elapsed(start: datetime, end: datetime, hours: BusinessHours | None, tz: str) -> timedelta:
    """Time from `start` to `end` spent inside business hours (all of it when `hours` is None).

    Each day's opening and closing are placed in the zone's wall time of that day and compared in
    UTC, so a day that springs forward or falls back counts the hours that really passed. The days
    wholly between the first and the last are summed from a table per year: a mention left open for
    months is asked about every minute.
    """
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    office = (tz, hours.start, hours.end, hours.weekdays)
    zone = ZoneInfo(tz)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if first == last:
        return _inside(_open(office, first), start, end)
    between = _days(office, first + _DAY, last)
    return _inside(_open(office, first), start, end) + between + _inside(_open(office, last), start, end)


_Office = tuple[str, time, time, frozenset[int]]
"""The zone, the opening and closing times and the working days: what a day's business time depends on."""


def _open(office: _Office, day: date) -> tuple[datetime, datetime] | None:
    """When the office opens and closes on `day`, in UTC; None on a day off."""
    tz, opening, closing, workdays = office
    if day.weekday() not in workdays:
        return None
    zone = ZoneInfo(tz)
    closes = datetime.combine(day, closing, zone)
    if closing == time.max:  # open until midnight
        closes = datetime.combine(day + _DAY, time(0), zone)
    return datetime.combine(day, opening, zone).astimezone(UTC), closes.astimezone(UTC)


def _inside(hours: tuple[datetime, datetime] | None, start: datetime, end: datetime) -> timedelta:
    if hours is None:
        return timedelta(0)
    opens, closes = hours
    return max(timedelta(0), min(closes, end) - max(opens, start))


def _days(office: _Office, since: date, until: date) -> timedelta:
    """Business time of the days from `since` up to, but not including, `until`."""
    total = -_year(office, since.year)[since.timetuple().tm_yday - 1]
    for year in range(since.year, until.year):
        total += _year(office, year)[-1]
    return total + _year(office, until.year)[until.timetuple().tm_yday - 1]


@lru_cache(maxsize=64)
def _year(office: _Office, year: int) -> tuple[timedelta, ...]:
    """Business time before each day of the year (by day of the year, from 0), then the whole year's."""
    day, totals, total = date(year, 1, 1), [], timedelta(0)
    while day.year == year:
        totals.append(total)
        total += _inside(_open(office, day), *_ALWAYS)
        day += _DAY
    return (*totals, total)


def counted(
    start: datetime,
    end: datetime,
    hours: BusinessHours | None,
    tz: str,
    *,
    paused: Iterable[tuple[datetime, datetime]] = (),
) -> timedelta:
    """`elapsed`, less the business time inside the `paused` intervals (which must not overlap)."""
    total = elapsed(start, end, hours, tz)
    for pause_start, pause_end in paused:
        total -= elapsed(max(pause_start, start), min(pause_end, end), hours, tz)
    return max(total, timedelta(0))
