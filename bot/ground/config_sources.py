"""The `[[sources]]` kinds of `allears.toml`. Each has a `base_url` defaulting to the public
service, so tests and self-hosted instances can point elsewhere."""

from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from bot.ground.config_types import BaseUrl, Duration, EnvName, HttpUrl, Section, host_of

PUBLIC_APPVIEW = "https://public.api.bsky.app/xrpc/"
KEYLESS_EVERY = timedelta(minutes=10)
SEARCH_EVERY = timedelta(minutes=30)


class _Source(Section):
    every: Duration = timedelta(minutes=5)
    name: str | None = None

    @property
    def hears_all(self) -> bool:
        """Whether everything it brings is about the team's own product (its app's reviews, its forum, its
        channel), so each item is kept without matching `[listen]`."""
        return False

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


class AppStoreSource(_Source):
    """One app's customer reviews in the App Store, from Apple's public feed, in each country listed. With an
    App Store Connect API key (`key_id`, `issuer_id`, `private_key_env`: all three or none) replies are posted
    as the developer's response."""

    kind: Literal["appstore"]
    app_id: str = Field(pattern=r"^[0-9]{1,20}$")
    countries: list[Annotated[str, Field(pattern=r"^[a-z]{2}$")]] = Field(default=["us"], min_length=1)
    every: Duration = timedelta(minutes=15)
    base_url: BaseUrl = "https://itunes.apple.com/"
    connect_url: BaseUrl = "https://api.appstoreconnect.apple.com/"
    key_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{6,20}$")
    issuer_id: str | None = Field(default=None, min_length=1)
    private_key_env: EnvName | None = None

    @model_validator(mode="after")
    def _replies_need_the_whole_key(self) -> Self:
        given = [self.key_id is not None, self.issuer_id is not None, self.private_key_env is not None]
        if any(given) and not all(given):
            raise ValueError(
                "to reply through App Store Connect set all of `key_id`, `issuer_id` and `private_key_env`"
            )
        if len(set(self.countries)) != len(self.countries):
            raise ValueError("`countries` lists a country twice")
        return self

    @property
    def hears_all(self) -> bool:
        return True

    def default_name(self) -> str:
        return f"appstore: {self.app_id}"


class DiscourseSource(_Source):
    """A Discourse forum, your product's community: every new post (`/posts.json`), or those its search finds
    (`query`, `/search.json`). With `api_key_env` and `api_username` it reads private categories too and
    replies in the topic."""

    kind: Literal["discourse"]
    base_url: BaseUrl
    query: str | None = Field(default=None, min_length=1)
    api_key_env: EnvName | None = None
    api_username: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _key_names_its_user(self) -> Self:
        if (self.api_key_env is None) != (self.api_username is None):
            raise ValueError("set both `api_key_env` and `api_username` to use an API key, or neither")
        return self

    @property
    def hears_all(self) -> bool:
        return True

    def default_name(self) -> str:
        return f"discourse: {self.query}" if self.query else host_of(self.base_url)


class YouTubeSource(_Source):
    """Comments on a channel's videos (`channel_id`: your own channel, so each is kept), or on the newest videos
    a search finds (`query`: a comment is kept when it or its video's title matches `[listen]`)."""

    kind: Literal["youtube"]
    base_url: BaseUrl = "https://www.googleapis.com/youtube/v3/"
    channel_id: str | None = Field(default=None, pattern=r"^UC[A-Za-z0-9_-]{22}$")
    query: str | None = Field(default=None, min_length=1)
    key_env: EnvName

    @model_validator(mode="before")
    @classmethod
    def _every_within_the_quota(cls, data: Any) -> Any:
        """10,000 units a day: a search costs 100 and each video's comments 1, so every 30 minutes a search spends
        48 × 110 = 5,280; a channel's comments cost 1 a page, 288 a day every 5 minutes."""
        if isinstance(data, dict) and "every" not in data and data.get("query"):
            return {**data, "every": SEARCH_EVERY}
        return data

    @model_validator(mode="after")
    def _listens_to_one_thing(self) -> Self:
        if (self.channel_id is None) == (self.query is None):
            raise ValueError("a youtube source needs a `channel_id` or a `query` (one source for each)")
        return self

    @property
    def hears_all(self) -> bool:
        return self.channel_id is not None

    def default_name(self) -> str:
        return f"youtube: {self.channel_id or self.query}"


class GooglePlaySource(_Source):
    """Your own app's Google Play reviews through the Google Play Developer API, signed in as a service account
    (its JSON key in `credentials_env`) that the Play Console lets reply to reviews."""

    kind: Literal["googleplay"]
    package: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
    credentials_env: EnvName
    every: Duration = timedelta(minutes=10)
    base_url: BaseUrl = "https://androidpublisher.googleapis.com/androidpublisher/v3/"

    @property
    def hears_all(self) -> bool:
        return True

    def default_name(self) -> str:
        return f"googleplay: {self.package}"


SourceConfig = Annotated[
    RssSource
    | HackerNewsSource
    | RedditSource
    | MastodonSource
    | BlueskySource
    | StackExchangeSource
    | GitHubSource
    | AppStoreSource
    | DiscourseSource
    | YouTubeSource
    | GooglePlaySource,
    Field(discriminator="kind"),
]
