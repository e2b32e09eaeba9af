"""Logging set-up: the usual text lines, or one JSON object a line (`LOG_FORMAT=json`), each carrying the
correlation id of the unit of work it belongs to: a Slack request, a webhook request, a scheduled job run.

The id is kept in a context variable, so it follows the work on its own thread; work handed to another
thread carries it along explicitly (`handlers.errors.after_ack`)."""

import functools
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_correlation: ContextVar[str | None] = ContextVar("allears_correlation_id", default=None)


def new_id() -> str:
    """Short enough to read out to someone, as users are shown it when something fails."""
    return secrets.token_hex(4)


def correlation_id() -> str | None:
    return _correlation.get()


@contextmanager
def correlated(value: str | None = None) -> Iterator[str]:
    """Everything logged inside the block, on this thread, carries `value` (a new id when None)."""
    value = value or new_id()
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)  # pool threads are reused: the next unit of work must not inherit it


class CorrelationFilter(logging.Filter):
    """Puts the current correlation id on every record, as `record.correlation_id` (None outside any work)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _correlation.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, correlation_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    """The usual line, with ` [id]` after the level when the record belongs to a unit of work."""

    def format(self, record: logging.LogRecord) -> str:
        reference = getattr(record, "correlation_id", None)
        record.correlation = f" [{reference}]" if reference else ""
        return super().format(record)


def configure(log_format: str = "text", *, level: int = logging.INFO) -> None:
    """Set up the root logger once, at start; anything but `json` is the text format."""
    handler = logging.StreamHandler()
    handler.addFilter(CorrelationFilter())
    if log_format.strip().lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s%(correlation)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def job(name: str, run: Callable[..., None]) -> Callable[..., None]:
    """`run` with each call a unit of work of its own, its id `name:<new id>` (`poll:acme-alerts:1a2b3c4d`)."""

    @functools.wraps(run)
    def correlated_run(*args: Any, **kwargs: Any) -> None:
        with correlated(f"{name}:{new_id()}"):
            run(*args, **kwargs)

    return correlated_run
