"""`allears.toml`: what to listen for, where to hear it, and where each mention goes."""

import re
import tomllib
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError

_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """Read "90s", "5m", "1h30m" or "2d"."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise ValueError(f'"{text}" is not a duration; write it like "30s", "5m", "1h30m" or "1d"')
    return sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError('write durations as text, like "5m"')
    duration = parse_duration(value)
    if duration < timedelta(seconds=1):
        raise ValueError("must be at least 1s")
    return duration


def _slack_id(prefixes: str, what: str):
    pattern = re.compile(rf"^[{prefixes}][A-Z0-9]{{2,}}$")

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(
                f'"{value}" is not a Slack {what} ID (it starts with {" or ".join(prefixes)} and is upper-case, '
                f"like {prefixes[0]}0123ABCD); in Slack, open the {what}'s details to copy its ID"
            )
        return value

    return AfterValidator(check)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
ChannelId = Annotated[str, _slack_id("CG", "channel")]
UserGroupId = Annotated[str, _slack_id("S", "user group")]


def _host(url: str) -> str:
    """A source is named after its url's host by default: its path and query can carry a secret token."""
    host = urlsplit(url).hostname
    if not host:
        raise ValueError("names no host; write it like https://example.com/feed.xml")
    return host


def _with_host(url: str) -> str:
    """Refuses at start a url that would leave its source without a name."""
    _host(url)
    return url


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listen(_Section):
    keywords: list[str] = Field(min_length=1)
    exclude: list[str] = []


class Channels(_Section):
    default: ChannelId
    feedback: ChannelId | None = None


class Route(_Section):
    channel: ChannelId
    sentiment: Sentiment | None = None
    source: str | None = None
    keywords: list[str] | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> "Route":
        if self.sentiment is None and self.source is None and not self.keywords:
            raise ValueError("a route needs at least one of sentiment, source or keywords")
        return self


class RssSource(_Section):
    kind: Literal["rss"]
    url: Annotated[str, Field(pattern=r"^https?://"), AfterValidator(_with_host)]
    every: Duration = timedelta(minutes=5)
    name: str | None = None

    @property
    def key(self) -> str:
        """A stable name that identifies the source in the database, in routes and on cards."""
        return self.name or _host(self.url)


class Team(_Section):
    channel: ChannelId
    usergroup: UserGroupId | None = None


class Summary(_Section):
    channel: ChannelId | None = None


class Config(_Section):
    listen: Listen
    channels: Channels
    routes: list[Route] = []
    sources: list[RssSource] = []
    teams: dict[str, Team] = {}
    summary: Summary = Summary()

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[RssSource]) -> list[RssSource]:
        keys = [source.key for source in sources]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(
                    f'two sources are both named "{key}" (one without a `name` is named after its url\'s host); '
                    "give them distinct `name`s"
                )
        return sources

    @property
    def summary_channel(self) -> str:
        return self.summary.channel or self.channels.default

    @property
    def feedback_channel(self) -> str | None:
        """Where mentions resolved as `feedback` are passed on: `[channels] feedback`, else the product team's."""
        product = self.teams.get("product")
        return self.channels.feedback or (product.channel if product else None)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_config(path: Path) -> Config:
    """Read and check the config; a ConfigError names each wrong key and what is wrong with it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; copy allears.example.toml to {path} and edit it") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            message = problem["msg"].removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                message = "unknown setting (check its spelling)"
            elif problem["type"] == "missing":
                message = "required but missing"
            lines.append(f"{path}: {_location(problem['loc'])}: {message}")
        raise ConfigError("\n".join(lines)) from None
