"""The `[[sources]]` kinds of `allears.toml`. Each has a `base_url` defaulting to the public
service, so tests and self-hosted instances can point elsewhere."""

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from bot.configtypes import BaseUrl, Duration, EnvName, HttpUrl, Section, host_of


class _Source(Section):
    every: Duration = timedelta(minutes=5)
    name: str | None = None

    @property
    def key(self) -> str:
        """A stable name that identifies the source in the database, in routes and on cards."""
        return self.name or self.default_name()

    def default_name(self) -> str:
        raise NotImplementedError


class _Searched(_Source):
    query: str = Field(min_length=1)

    def default_name(self) -> str:
        return f"{self.kind}: {self.query}"  # type: ignore[attr-defined]


class RssSource(_Source):
    kind: Literal["rss"]
    url: HttpUrl

    def default_name(self) -> str:
        return host_of(self.url)


class HackerNewsSource(_Searched):
    """Stories and comments through the Algolia search API, newest first."""

    kind: Literal["hackernews"]
    base_url: BaseUrl = "https://hn.algolia.com/api/v1/"
    tags: str = "(story,comment)"


class RedditSource(_Searched):
    kind: Literal["reddit"]
    base_url: BaseUrl = "https://www.reddit.com/"
    subreddit: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{2,21}$")


class MastodonSource(_Source):
    """A tag timeline and/or a status search (the search needs an access token on most instances)."""

    kind: Literal["mastodon"]
    base_url: BaseUrl = "https://mastodon.social/"
    tag: str | None = Field(default=None, pattern=r"^[^#\s/]+$")
    query: str | None = None
    token_env: EnvName | None = None

    def default_name(self) -> str:
        return f"mastodon: {'#' + self.tag if self.tag else self.query}"


class BlueskySource(_Searched):
    kind: Literal["bluesky"]
    base_url: BaseUrl = "https://public.api.bsky.app/xrpc/"


class StackExchangeSource(_Searched):
    kind: Literal["stackexchange"]
    base_url: BaseUrl = "https://api.stackexchange.com/2.3/"
    site: str = "stackoverflow"
    key_env: EnvName | None = None


class GitHubSource(_Searched):
    """Issues and pull requests through the search API."""

    kind: Literal["github"]
    base_url: BaseUrl = "https://api.github.com/"
    token_env: EnvName | None = None


SourceConfig = Annotated[
    RssSource | HackerNewsSource | RedditSource | MastodonSource | BlueskySource | StackExchangeSource | GitHubSource,
    Field(discriminator="kind"),
]
