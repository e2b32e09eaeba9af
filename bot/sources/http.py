"""Bounded HTTP for every source: a deadline for the whole fetch, a size cap, statuses turned into
SourceErrors whose text never names the URL (a URL can carry a token)."""

import json
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.clock import utcnow
from bot.sources import RateLimited, SourceError

USER_AGENT = "allears/0.1 (+https://github.com/allears/allears; customer-mention listener)"
MAX_BODY_BYTES = 5 * 1024 * 1024
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_FETCH_SECONDS = 30
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)


@dataclass(frozen=True)
class Response:
    status: int
    headers: httpx.Headers
    body: bytes


def get(
    http: httpx.Client, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """One GET; 2xx and 304 come back, 429 raises RateLimited, other statuses and failures SourceError."""
    deadline = time.monotonic() + MAX_FETCH_SECONDS
    try:
        with http.stream(
            "GET",
            url,
            params=params,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=TIMEOUT,
            follow_redirects=True,
        ) as response:
            if response.status_code == 429:
                raise RateLimited("answered HTTP 429 (rate limited)", retry_after=retry_after(response.headers))
            if response.status_code >= 400:
                raise SourceError(f"answered HTTP {response.status_code}")
            body = b"" if response.status_code == 304 else _read_bounded(response, deadline)
            return Response(response.status_code, response.headers, body)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        detail = _URL.sub("(url)", str(error).replace(url, "(url)"))
        raise SourceError(f"{type(error).__name__}: {detail}" if detail else type(error).__name__) from error


def get_json(
    http: httpx.Client, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Any:
    response = get(http, url, params=params, headers={"Accept": "application/json", **(headers or {})})
    try:
        return json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        kind = "an HTML page" if response.body.lstrip()[:1] == b"<" else "something"
        raise SourceError(f"answered with {kind}, not JSON") from None


def _read_bounded(response: httpx.Response, deadline: float) -> bytes:
    """The body, up to a size and a deadline: httpx times each read, so a feed dripping bytes never trips it."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise SourceError(f"took longer than {MAX_FETCH_SECONDS} s; gave up")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SourceError(f"sent more than {MAX_BODY_BYTES // (1024 * 1024)} MB; not read")
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `Retry-After` (seconds or an HTTP date), else from a rate-limit reset header."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
            except (TypeError, ValueError):
                return None
    return rate_limit_wait(headers)


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """When the quota is spent: GitHub's `x-ratelimit-reset` is an epoch, Reddit's a number of seconds."""
    remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
    if remaining is None or reset is None:
        return None
    try:
        if float(remaining) >= 1:
            return None
        reset_value = float(reset)
    except ValueError:
        return None
    return max(0.0, reset_value - time.time()) if reset_value > 1_000_000_000 else reset_value
