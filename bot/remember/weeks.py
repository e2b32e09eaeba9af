"""Weeks as people live them: Monday 00:00 to the next Monday in the team's own time zone."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ground.errors import UserError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    """An ISO week in a time zone (UTC unless told), from Monday 00:00 there to the next Monday 00:00."""

    year: int
    number: int
    tz: str = "UTC"

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=offset) for offset in range(7)]

    def midnight(self, day: date) -> datetime:
        """The start of a local day, in UTC so that subtracting two gives the time that really passed
        (a week with a clock change is an hour shorter or longer than 7 days)."""
        return datetime.combine(day, time(0), self.zone).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self.midnight(self.monday)

    @property
    def end(self) -> datetime:
        return self.midnight(self.monday + timedelta(days=7))

    @property
    def previous(self) -> "Week":
        year, number, _ = (self.monday - timedelta(days=7)).isocalendar()
        return Week(year, number, self.tz)

    @classmethod
    def containing(cls, moment: datetime, tz: str = "UTC") -> "Week":
        year, number, _ = moment.astimezone(ZoneInfo(tz)).isocalendar()
        return cls(year, number, tz)

    @classmethod
    def parse(cls, text: str, tz: str = "UTC") -> "Week":
        match = _WEEK.match(text.strip().upper())
        if not match:
            raise UserError(f'"{text}" is not an ISO week; write it like 2026-W47')
        year, number = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise UserError(f"{year} has no week {number}") from None
        return cls(year, number, tz)
