"""Bounded HTTP for every source: a deadline for the whole fetch, a size cap, statuses turned into
SourceErrors whose text never names the URL (a URL can carry a token)."""

import json
import math
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.ground.clock import utcnow
from bot.hear.sources import RateLimited, SourceError
from bot.hear.sources.fields import decode_json, iso_datetime

USER_AGENT = "allears/0.1 (+https://github.com/allears/allears; customer-mention listener)"
MAX_BODY_BYTES = 5 * 1024 * 1024
ERROR_BODY_BYTES = 2048
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_FETCH_SECONDS = 30
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)


@dataclass(frozen=True)
class Response:
    status: int
    headers: httpx.Headers
    body: bytes


class HttpStatusError(SourceError):
    """A refusal that keeps what the service said with it: APIs explain why in headers and body."""

    def __init__(self, status: int, headers: httpx.Headers, body: bytes) -> None:
        super().__init__(f"answered HTTP {status}")
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        """The body as JSON, or None: an explanation is welcome, never required."""
        try:
            return json.loads(self.body)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            return None


def get(
    http: httpx.Client, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """One GET; 2xx and 304 come back, 429 raises RateLimited, other statuses HttpStatusError, failures SourceError."""
    return _request(http, "GET", url, params=params, headers=headers or {})


def get_json(
    http: httpx.Client, url: str, *, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Any:
    return decode_json(get(http, url, params=params, headers={"Accept": "application/json", **(headers or {})}).body)


def post_json(http: httpx.Client, url: str, *, json: Any, headers: dict[str, str] | None = None) -> Any:
    """One POST of a JSON document, bounded like `get`; redirects are refused, never followed with the body."""
    headers = {"Accept": "application/json", **(headers or {})}
    return decode_json(_request(http, "POST", url, json=json, headers=headers).body)


def _request(http: httpx.Client, method: str, url: str, *, headers: dict[str, str], **options: Any) -> Response:
    deadline = time.monotonic() + MAX_FETCH_SECONDS
    try:
        with http.stream(
            method,
            url,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=TIMEOUT,
            follow_redirects=method == "GET",
            **options,
        ) as response:
            status = response.status_code
            if status == 429:
                raise RateLimited("answered HTTP 429 (rate limited)", retry_after=retry_after(response.headers))
            if status >= 300 and status != 304:
                raise HttpStatusError(status, response.headers, _excerpt(response, deadline))
            body = b"" if status == 304 else _read_bounded(response, deadline)
            return Response(status, response.headers, body)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        detail = _URL.sub("(url)", str(error).replace(url, "(url)"))
        raise SourceError(f"{type(error).__name__}: {detail}" if detail else type(error).__name__) from error


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


def _excerpt(response: httpx.Response, deadline: float) -> bytes:
    """The start of a refusal's body: enough to explain it, never worth a long wait or a big read."""
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_BYTES or time.monotonic() > deadline:
            break
    return body[:ERROR_BODY_BYTES]


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
    """When the quota is spent, seconds until it resets, from `x-ratelimit-*` (GitHub, Reddit, Mastodon)
    or Bluesky's un-prefixed `ratelimit-*`."""
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining, reset = headers.get(prefix + "remaining"), headers.get(prefix + "reset")
        if remaining is not None and reset is not None:
            return _until_reset(remaining, reset)
    return None


def _until_reset(remaining: str, reset: str) -> float | None:
    """`reset` is an epoch (GitHub, Bluesky), a number of seconds (Reddit) or an ISO 8601 time (Mastodon)."""
    try:
        spent = float(remaining) < 1  # NaN is no spent quota either
    except ValueError:
        return None
    if not spent:
        return None
    try:
        seconds = float(reset)
    except ValueError:
        moment = iso_datetime(reset)
        return max(0.0, (moment - utcnow()).total_seconds()) if moment else None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds - time.time()) if seconds > 1_000_000_000 else max(0.0, seconds)
