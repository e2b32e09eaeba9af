"""Answering on the source itself (Mastodon, Bluesky, GitHub, the App Store, Discourse, Google Play) where its API
allows it and credentials are configured. A reply is attempted once: a failure is reported, never retried, so nothing is
sent twice."""

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bot.ground.config_sources import SourceConfig
from bot.ground.models import Mention
from bot.hear.sources import SourceError, appstore, bluesky, discourse, github, googleplay, mastodon
from bot.hear.sources.reply_limits import ReplyLimit

Replier = Callable[[Any, httpx.Client, dict[str, Any], str, str], str | None]
"""(source config, http, the mention's reply_to, text, idempotency key) → the URL of the posted reply."""
Describer = Callable[[Any], str | None]
"""Where a reply would go, in words, or None when the source has no credentials to reply with."""
Limiter = Callable[[Any, dict[str, Any]], ReplyLimit]
"""(source config, the mention's reply_to) → how long a reply it accepts."""

REPLIERS: dict[str, tuple[Describer, Replier, Limiter]] = {
    "mastodon": (mastodon.describe_reply, mastodon.reply, mastodon.reply_limit),
    "bluesky": (bluesky.describe_reply, bluesky.reply, bluesky.reply_limit),
    "github": (github.describe_reply, github.reply, github.reply_limit),
    "appstore": (appstore.describe_reply, appstore.reply, appstore.reply_limit),
    "discourse": (discourse.describe_reply, discourse.reply, discourse.reply_limit),
    "googleplay": (googleplay.describe_reply, googleplay.reply, googleplay.reply_limit),
}


class SourceReplies:
    def __init__(self, sources: Sequence[SourceConfig], http: httpx.Client) -> None:
        self._sources = {source.key: source for source in sources}
        self._http = http

    def target(self, mention: Mention) -> str | None:
        """Where a reply to this mention would be posted, or None when it can't be (then Reply only records)."""
        source = self._sources.get(mention.source)
        if source is None or source.kind not in REPLIERS or not mention.reply_to:
            return None
        describe, _, _ = REPLIERS[source.kind]
        return describe(source)

    def limit(self, mention: Mention) -> ReplyLimit | None:
        """How long a reply to this mention the source accepts; None when it can't be posted there."""
        if self.target(mention) is None or mention.reply_to is None:
            return None
        source = self._sources[mention.source]
        _, _, limit = REPLIERS[source.kind]
        return limit(source, mention.reply_to)

    def send(self, mention: Mention, text: str, *, key: str) -> str | None:
        if self.target(mention) is None or mention.reply_to is None:
            raise SourceError(f"replies can't be posted on {mention.source} (no credentials configured)")
        source = self._sources[mention.source]
        _, replier, _ = REPLIERS[source.kind]
        return replier(source, self._http, mention.reply_to, text, key)
