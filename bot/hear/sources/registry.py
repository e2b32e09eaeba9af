"""Which module fetches which `kind` of source."""

from collections.abc import Callable
from typing import Any

import httpx

from bot.ground.config_sources import SourceConfig
from bot.hear.sources import (
    Fetched,
    PollState,
    appstore,
    bluesky,
    discourse,
    github,
    googleplay,
    hackernews,
    mastodon,
    reddit,
    rss,
    stackexchange,
    youtube,
)

Fetcher = Callable[[Any, httpx.Client, PollState], Fetched]

FETCHERS: dict[str, Fetcher] = {
    "rss": rss.fetch,
    "hackernews": hackernews.fetch,
    "reddit": reddit.fetch,
    "mastodon": mastodon.fetch,
    "bluesky": bluesky.fetch,
    "stackexchange": stackexchange.fetch,
    "github": github.fetch,
    "appstore": appstore.fetch,
    "discourse": discourse.fetch,
    "youtube": youtube.fetch,
    "googleplay": googleplay.fetch,
}


def fetch(source: SourceConfig, http: httpx.Client, state: PollState) -> Fetched:
    return FETCHERS[source.kind](source, http, state)
