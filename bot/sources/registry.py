"""Which module fetches which `kind` of source."""

from collections.abc import Callable
from typing import Any

import httpx

from bot.sources import Fetched, PollState, hackernews, rss
from bot.sources.kinds import SourceConfig

Fetcher = Callable[[Any, httpx.Client, PollState], Fetched]

FETCHERS: dict[str, Fetcher] = {
    "rss": rss.fetch,
    "hackernews": hackernews.fetch,
}


def fetch(source: SourceConfig, http: httpx.Client, state: PollState) -> Fetched:
    return FETCHERS[source.kind](source, http, state)
