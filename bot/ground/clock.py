"""One source of the current time, so tests and later SLA code can agree on "now"."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
