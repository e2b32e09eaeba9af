"""Reading an API's loosely typed JSON: a value of the wrong type reads as nothing instead of raising,
so one odd field skips one item rather than the whole poll."""

import json
from datetime import UTC, datetime
from typing import Any

from bot.sources import SourceError


def decode_json(body: bytes) -> Any:
    """The document, or a SourceError saying what came instead (usually a proxy's or a login's HTML page)."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        kind = "an HTML page" if body.lstrip()[:1] == b"<" else "something"
        raise SourceError(f"answered with {kind}, not JSON") from None


def string(value: object) -> str:
    return value if isinstance(value, str) else ""


def whole(value: object) -> int | None:
    """An integer, not a boolean (JSON's `true` is an int to Python)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def iso_datetime(value: object) -> datetime | None:
    """An ISO 8601 time, in UTC (one without a zone is taken as UTC); None if `value` is none."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        return None
