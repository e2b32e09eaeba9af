"""Time that counts for an SLA: all of it, or only business hours in a time zone, whatever the clocks do."""

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import BusinessHours

_DAY = timedelta(days=1)


def elapsed(start: datetime, end: datetime, hours: BusinessHours | None, tz: str) -> timedelta:
    """Time from `start` to `end` spent inside business hours (all of it when `hours` is None).

    Each day's opening and closing are placed in the zone's wall time of that day and compared in
    UTC, so a day that springs forward or falls back counts the hours that really passed.
    """
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    zone = ZoneInfo(tz)
    workdays = hours.weekdays
    total = timedelta(0)
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in workdays:
            opens = datetime.combine(day, hours.start, tzinfo=zone).astimezone(UTC)
            closes = (
                datetime.combine(day + _DAY, time(0), tzinfo=zone)
                if hours.end == time.max
                else datetime.combine(day, hours.end, tzinfo=zone)
            ).astimezone(UTC)
            total += max(timedelta(0), min(closes, end) - max(opens, start))
        day += _DAY
    return total


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
