"""The `[[sources]]` kinds of `allears.toml`. Each has a `base_url` defaulting to the public
service, so tests and self-hosted instances can point elsewhere."""

from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from bot.ground.config_types import BaseUrl, Duration, EnvName, HttpUrl, Section, host_of

PUBLIC_APPVIEW = "https://public.api.bsky.app/xrpc/"
KEYLESS_EVERY = timedelta(minutes=10)


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

    @model_validator(mode="after")
    def _listens_for_something(self) -> Self:
        if not (self.tag or self.query):
            raise ValueError("a mastodon source needs a `tag`, a `query` or both")
        return self

    def default_name(self) -> str:
        return f"mastodon: {'#' + self.tag if self.tag else self.query}"


class BlueskySource(_Searched):
    """Post search. The public AppView answers without an account, but at times refuses; with `handle`
    and `app_password_env` the source signs in, and `base_url` is then the account's PDS."""

    kind: Literal["bluesky"]
    base_url: BaseUrl = PUBLIC_APPVIEW
    handle: str | None = Field(default=None, min_length=1)
    app_password_env: EnvName | None = None

    @model_validator(mode="after")
    def _signs_in_where_it_can(self) -> Self:
        if (self.handle is None) != (self.app_password_env is None):
            raise ValueError("set both `handle` and `app_password_env` to sign in, or neither")
        if self.handle and self.base_url == PUBLIC_APPVIEW:
            raise ValueError(
                "the public AppView signs no one in: set `base_url` to your PDS, e.g. https://bsky.social/xrpc/"
            )
        return self


class StackExchangeSource(_Searched):
    kind: Literal["stackexchange"]
    base_url: BaseUrl = "https://api.stackexchange.com/2.3/"
    site: str = "stackoverflow"
    key_env: EnvName | None = None

    @model_validator(mode="before")
    @classmethod
    def _keyless_every(cls, data: Any) -> Any:
        """Without a key an IP gets 300 requests a day: every 5 minutes would spend 288 of them."""
        if isinstance(data, dict) and "every" not in data and not data.get("key_env"):
            return {**data, "every": KEYLESS_EVERY}
        return data


class GitHubSource(_Searched):
    """Issues and pull requests through the search API; discussions through GraphQL, which needs a token."""

    kind: Literal["github"]
    base_url: BaseUrl = "https://api.github.com/"
    token_env: EnvName | None = None
    discussions: bool = False

    @model_validator(mode="after")
    def _discussions_need_a_token(self) -> Self:
        if self.discussions and not self.token_env:
            raise ValueError("GitHub searches discussions only with a token: set `token_env`")
        return self


SourceConfig = Annotated[
    RssSource | HackerNewsSource | RedditSource | MastodonSource | BlueskySource | StackExchangeSource | GitHubSource,
    Field(discriminator="kind"),
]
