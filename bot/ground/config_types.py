"""Value types shared by every part of `allears.toml`: durations, Slack ids, urls, sections."""

import os
import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """Read "90s", "5m", "1h30m" or "2d"."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    wrong = ValueError(f'"{text}" is not a duration; write it like "30s", "5m", "1h30m" or "1d"')
    if not parts or _DURATION.sub("", compact).strip():
        raise wrong
    try:
        return sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    except OverflowError:  # beyond timedelta's billion days
        raise wrong from None


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('write durations as text, like "5m"')
    duration = parse_duration(value)
    if duration < timedelta(seconds=1):
        raise ValueError("must be at least 1s")
    return duration


def _slack_id(prefixes: str, what: str) -> AfterValidator:
    pattern = re.compile(rf"^[{prefixes}][A-Z0-9]{{2,}}$")

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(
                f'"{value}" is not a Slack {what} ID (it starts with {" or ".join(prefixes)} and is upper-case, '
                f"like {prefixes[0]}0123ABCD); in Slack, open the {what}'s details to copy its ID"
            )
        return value

    return AfterValidator(check)


def host_of(url: str) -> str:
    """A source is named after its url's host by default: its path and query can carry a secret token."""
    host = urlsplit(url).hostname
    if not host:
        raise ValueError("names no host; write it like https://example.com/feed.xml")
    return host


def _with_host(url: str) -> str:
    """Refuses at start a url that would leave its source without a name."""
    host_of(url)
    return url


def _base_url(url: str) -> str:
    """API base urls end with a slash, so relative paths join under them."""
    return url if url.endswith("/") else url + "/"


def _set_in_environment(name: str) -> str:
    """Secrets stay out of the config file: it names the environment variable that holds them."""
    if not os.environ.get(name):
        raise ValueError(f"the environment variable {name} is not set (put the secret in .env or the environment)")
    return name


def _time_zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError('write a time zone as text, like "Europe/Paris"')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'"{value}" is not a time zone; write it like "Europe/Paris", "America/New_York" or "UTC"'
        ) from None
    return value


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise ValueError(f'"{value}" is not a time of day; write it like "09:00" or "17:30"')
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24:
        if minutes:
            raise ValueError(f'"{value}" is not a time of day; write it like "09:00" or "17:30"')
        return time.max
    return time(hours, minutes)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
ChannelId = Annotated[str, _slack_id("CG", "channel")]
UserGroupId = Annotated[str, _slack_id("S", "user group")]
UserId = Annotated[str, _slack_id("UW", "user")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://"), AfterValidator(_with_host)]
BaseUrl = Annotated[HttpUrl, AfterValidator(_base_url)]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]
"""An IANA time zone name, checked at start (the zoneinfo object is made where it is used)."""
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
"""A time of day, "HH:MM"; "24:00" is the end of the day."""
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"), AfterValidator(_set_in_environment)]


def secret(name: str | None) -> str | None:
    """The value of a secret's environment variable, read when needed rather than kept in the config."""
    return os.environ.get(name) if name else None


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Category(StrEnum):
    COMPLAINT = "complaint"
    QUESTION = "question"
    PRAISE = "praise"
    FEATURE_REQUEST = "feature request"
    OTHER = "other"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Monday is 0, as `date.weekday()` counts."""
        return _WEEKDAY_NUMBERS[self]


_WEEKDAY_NUMBERS = {day: number for number, day in enumerate(Weekday)}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
