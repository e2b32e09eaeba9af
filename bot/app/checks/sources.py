"""Each source fetched once through its own code, as a poll would, with nothing stored."""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

from bot.ground.checklist import Result
from bot.ground.config_sources import RssSource, SourceConfig
from bot.hear.sources import PollState, RateLimited, SourceError
from bot.hear.sources.http import HttpStatusError
from bot.hear.sources.registry import fetch

MAX_AT_ONCE = 8


def shown_url(source: SourceConfig) -> str:
    """Where the source is read, without what can hold a secret: a feed's query string, a login in the url."""
    parts = urlsplit(source.url if isinstance(source, RssSource) else source.base_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}" + ("?…" if parts.query else "")


def _secret_env(source: SourceConfig) -> str | None:
    return (
        getattr(source, "token_env", None)
        or getattr(source, "key_env", None)
        or getattr(source, "app_password_env", None)
        or getattr(source, "api_key_env", None)
        or getattr(source, "credentials_env", None)
    )


def check_source(source: SourceConfig, http: httpx.Client) -> Result:
    """A poll's fetch from scratch (no remembered ETag or cursor), so the service has to answer in full."""
    where = shown_url(source)
    name = f"source {source.key} ({where})"
    address = "`url`" if isinstance(source, RssSource) else "`base_url`"
    try:
        fetched = fetch(source, http, PollState())
    except RateLimited as error:
        wait = f" for {error.retry_after:.0f} s" if error.retry_after else ""
        fix = f"nothing to change if this is rare: polls wait{wait} as asked; otherwise poll less often (`every`)"
        return Result(name, ok=False, detail=f"rate limited: {error}", fix=fix)
    except HttpStatusError as error:
        return Result(name, ok=False, detail=str(error), fix=_status_fix(source, error.status, address))
    except SourceError as error:
        cause = error.__cause__
        if isinstance(cause, httpx.TimeoutException) or "took longer" in str(error):
            fix = f"the service is slow or unreachable from here: check {address}, and the network (proxy, firewall)"
        elif isinstance(cause, httpx.TransportError | httpx.InvalidURL):
            fix = f"check {address}, and that this machine can reach {urlsplit(where).hostname} (DNS, proxy, firewall)"
        else:
            fix = (
                f"check that {address} points at a feed (RSS, Atom or JSON Feed), not a web page"
                if isinstance(source, RssSource)
                else f"check that {address} is the {source.kind} API's address"
            )
        return Result(name, ok=False, detail=str(error), fix=fix)
    except Exception as error:  # a parser bug: named here rather than met as a silent source later
        detail = f"failed unexpectedly: {type(error).__name__}"
        return Result(name, ok=False, detail=detail, fix="report this as a bug in All Ears, with this checklist")
    detail = f"answered, {len(fetched.items)} item(s)"
    if fetched.problem:
        detail += f", read in part: {fetched.problem}"
    return Result(name, ok=True, detail=detail)


def _status_fix(source: SourceConfig, status: int, address: str) -> str:
    secret = _secret_env(source)
    if status in (401, 403):
        if secret:
            return f"check the secret in the environment variable {secret}: the service refuses it"
        return "the service refuses anonymous reading here; give the source credentials (see the README's source kinds)"
    if status in (404, 410):
        return f"check {address}: nothing is there"
    if status >= 500:
        return "the service is failing; nothing to change here if it passes later"
    return f"check {address} and the source's other settings"


def check_sources(sources: list[SourceConfig], http: httpx.Client) -> list[Result]:
    """All at once: a slow source costs its own time, not everyone's."""
    with ThreadPoolExecutor(max_workers=MAX_AT_ONCE, thread_name_prefix="check") as pool:
        return list(pool.map(lambda source: check_source(source, http), sources))
