"""One HTTP call to a tracker, its answer sorted: JSON back, a failure worth retrying, or a refusal."""

from typing import Any

import httpx

from bot.act.trackers import TrackerBusy, TrackerRefused
from bot.hear.sources.http import USER_AGENT, rate_limit_wait, retry_after

_EXPLAINED = 300


def call(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    timeout: float,
    headers: dict[str, str],
    json: Any = None,
    params: dict[str, Any] | None = None,
    fixes: dict[int, str] | None = None,
    busy: frozenset[int] = frozenset(),
) -> Any:
    """`what` names the call in messages ("creating the issue"); `fixes` name the fix for a refusal's status;
    `busy`: statuses this tracker answers for a passing state, tried again like a 5xx."""
    try:
        response = http.request(
            method,
            url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
            json=json,
            params=params,
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        raise TrackerBusy(f"{what}: the tracker took too long to answer") from None
    except httpx.HTTPError as error:
        raise TrackerBusy(f"{what}: {type(error).__name__}") from None
    status = response.status_code
    if status == 429 or (status == 403 and rate_limit_wait(response.headers) is not None):
        raise TrackerBusy(f"{what}: rate limited (HTTP {status})", retry_after=retry_after(response.headers))
    if status >= 500:
        raise TrackerBusy(f"{what}: the tracker answered HTTP {status}", retry_after=retry_after(response.headers))
    if status in busy:
        raise TrackerBusy(f"{what}: the issue was being changed at the same moment (HTTP {status})")
    if status >= 300:
        said = explain(response)
        fix = (fixes or {}).get(status, "")
        raise TrackerRefused(f"{what}: HTTP {status}" + (f" ({said})" if said else ""), status=status, fix=fix)
    return response.json() if response.content else None


def explain(response: httpx.Response) -> str:
    """What the tracker said was wrong, in its own words: GitHub's `message` and `errors`, Jira's `errorMessages`
    and `errors`, a GraphQL `errors` list."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    if isinstance(body.get("message"), str):
        parts.append(body["message"])
    parts += [str(message) for message in body.get("errorMessages") or []]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{field}: {message}" for field, message in errors.items()]
    elif isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict):
                named = [str(error[name]) for name in ("field", "code", "message") if error.get(name)]
                parts.append(" ".join(named))
    return "; ".join(parts)[:_EXPLAINED]
