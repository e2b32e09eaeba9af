"""`allears.toml`: what to listen for, where to hear it, and where each mention goes."""

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from difflib import get_close_matches
from functools import cached_property
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.ground.config_sources import RssSource, SourceConfig
from bot.ground.config_trackers import Trackers
from bot.ground.config_types import (
    BaseUrl,
    Category,
    ChannelId,
    ClockTime,
    Duration,
    EnvName,
    HttpUrl,
    Section,
    Sentiment,
    TimeZone,
    Urgency,
    UserGroupId,
    UserId,
    Weekday,
    parse_duration,
    secret,
)
from bot.ground.errors import ConfigError, UserError
from bot.ground.models import WebhookEvent
from bot.ground.query import asks_language, parse, parse_listening

__all__ = ["Admins", "Api", "Config", "RssSource", "Sentiment", "StormRule", "Team", "load_config", "parse_duration"]

_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,62}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def _parses(query: str) -> str:
    parse(query)  # a QuerySyntaxError is a ValueError: pydantic names the key, the error where in it
    return query


def _parses_listening(query: str) -> str:
    parse_listening(query)
    return query


def _language_code(code: str) -> str:
    if not re.fullmatch(r"[a-z]{2,3}", code.strip().lower()):
        raise ValueError(f"{code!r} is not a language code: use ISO 639-1, such as en, fr or pt")
    return code.strip().lower()


LanguageCode = Annotated[str, AfterValidator(_language_code)]
Query = Annotated[str, AfterValidator(_parses_listening)]
"""A query in the language of `bot.ground.query`, refused at load with the column where it goes wrong."""
RouteQuery = Annotated[str, AfterValidator(_parses)]
"""A route's query sorts what was heard: it may be fields alone (`lang:fr`)."""


class Route(Section):
    channel: ChannelId
    sentiment: Sentiment | None = None
    source: str | None = None
    keywords: list[str] | None = None
    query: RouteQuery | None = None
    category: Category | None = None
    urgency: Urgency | None = None
    usergroup: UserGroupId | None = None
    """Pinged when a mention on this route stays unclaimed `[sla] group_after` times its `claim_within`
    (else `[sla] usergroup`)."""
    lead: UserId | None = None
    """Pinged at `[sla] lead_after` times `claim_within` (else `[sla] lead`)."""

    @model_validator(mode="after")
    def _matches_something(self) -> "Route":
        if not (self.sentiment or self.source or self.keywords or self.query or self.category or self.urgency):
            raise ValueError("a route needs at least one of sentiment, source, keywords, query, category or urgency")
        return self


class Product(Section):
    """One of the products or brands listened for (a company's own, or a competitor's for share of voice)."""

    name: str = Field(min_length=1, max_length=100)
    query: Query
    routes: list[Route] = []
    """Where this product's mentions go, tried before the top-level `[[routes]]`."""


class Listen(Section):
    keywords: list[str] = []
    exclude: list[str] = []
    query: Query | None = None
    products: list[Product] = []
    languages: list[LanguageCode] = []
    """Keep only mentions in these languages (ISO 639-1 codes); one whose language is unsure is kept."""
    detect_languages: bool | None = None
    """Detect each mention's language (its model takes about 75 MB of memory): by default only when the config
    asks about languages (`languages`, or `lang:` in a query or route)."""

    @field_validator("keywords")
    @classmethod
    def _some_keyword(cls, keywords: list[str]) -> list[str]:
        if not any(keyword.strip() for keyword in keywords):
            raise ValueError("lists no keyword: give at least one, or say what to listen for in `query` instead")
        return keywords

    @model_validator(mode="after")
    def _listens_for_something(self) -> "Listen":
        if self.query and (self.keywords or self.exclude):
            raise ValueError(
                "give `query` or `keywords` and `exclude`, not both: a query says all they say "
                '(keywords = ["acme", "acme cloud"], exclude = ["hiring"] is `acme OR "acme cloud" -hiring`)'
            )
        if not (self.query or self.keywords or self.products):
            raise ValueError("say what to listen for: a `query`, `keywords`, or `[[listen.products]]`")
        names = [product.name.casefold() for product in self.products]
        if len(set(names)) < len(names):
            raise ValueError("two products have the same `name`")
        return self

    @property
    def listens_beyond_products(self) -> bool:
        return bool(self.query or self.keywords)


class Channels(Section):
    default: ChannelId
    feedback: ChannelId | None = None


class Team(Section):
    channel: ChannelId
    usergroup: UserGroupId | None = None


class StormRule(Section):
    """More than `threshold` mentions on one route and topic within `window` become one storm card."""

    threshold: int = Field(default=10, ge=2)
    window: Duration = timedelta(minutes=15)


class SpikeRule(Section):
    """The last hour's mentions against the same hour of the week in past weeks: a jump well past the usual
    posts one alert (`bot.hear.spikes`). The defaults were chosen on recorded activity (bench/spikes.py)."""

    enabled: bool = True
    every: Duration = timedelta(minutes=5)
    weeks: int = Field(default=8, ge=3, le=52)
    """How many past weeks make the usual; a spike needs at least three since the first mention was heard."""
    deviations: float = Field(default=5.0, ge=1)
    """How far past the usual a count must be, in robust deviations (at least Poisson's, the usual's square root)."""
    at_least: int = Field(default=6, ge=1)
    """Fewer mentions than this in an hour are never a spike, however quiet the usual is."""
    timezone: TimeZone = "UTC"
    """Where the alert's "on a Tuesday at 14:00" is told."""


class SlaTargets(Section):
    """How soon a mention of one urgency must be claimed, first answered and resolved; None: no timer."""

    claim_within: Duration = timedelta(minutes=20)
    reply_within: Duration | None = None
    resolve_within: Duration | None = None


class BusinessHours(Section):
    """When the SLA clock runs; outside these hours (in `[sla] timezone`) it stands still."""

    start: ClockTime = time(9)
    end: ClockTime = time(17)
    days: list[Weekday] = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]

    @cached_property
    def weekdays(self) -> frozenset[int]:
        """The days as `date.weekday()` numbers: the SLA clocks ask for every day they count."""
        return frozenset(day.number for day in self.days)

    @model_validator(mode="after")
    def _a_working_day(self) -> "BusinessHours":
        if self.end <= self.start:
            raise ValueError("`end` must be later in the day than `start`")
        if not self.days:
            raise ValueError("`days` needs at least one day")
        return self


class Sla(Section):
    enabled: bool = True
    timezone: TimeZone = "UTC"
    business_hours: BusinessHours | None = None
    # Every urgency's targets, but for those its own table (`[sla.high]`) sets: a new team writes these first.
    claim_within: Duration = timedelta(minutes=20)
    reply_within: Duration | None = None
    resolve_within: Duration | None = None
    low: SlaTargets = Field(default_factory=SlaTargets, validate_default=True)
    normal: SlaTargets = Field(default_factory=SlaTargets, validate_default=True)
    high: SlaTargets = Field(default_factory=SlaTargets, validate_default=True)
    usergroup: UserGroupId | None = None
    """Pinged for routes that name no user group of their own."""
    lead: UserId | None = None
    """Pinged for routes that name no lead of their own."""
    group_after: float = 2.0
    """An unclaimed mention pings the user group at this multiple of its `claim_within`…"""
    lead_after: float = 3.0
    """…and the lead at this one."""
    claim_expires: Duration | None = None
    """A claim with no action from its owner for this long returns to the pool; None: claims never expire."""
    reping_every: Duration = timedelta(days=1)
    """How often an escalation that stays unresolved is pinged again."""
    check_every: Duration = timedelta(minutes=1)

    @field_validator("low", "normal", "high", mode="before")
    @classmethod
    def _inherit_targets(cls, level: object, info: ValidationInfo) -> object:
        """A level's targets are `[sla]`'s own, key by key, but for those it sets. A wrong `[sla]` target is
        left out (absent from `info.data`), so it is reported once, not again for each level."""
        if isinstance(level, SlaTargets):
            level = level.model_dump(exclude_unset=True)
        if not isinstance(level, dict):
            return level  # not a table: pydantic says so
        shared = {name: info.data[name] for name in SlaTargets.model_fields if name in info.data}
        return {**shared, **level}

    @field_validator("group_after", "lead_after")
    @classmethod
    def _a_multiple(cls, factor: float) -> float:
        if not 1 < factor < float("inf"):
            raise ValueError(
                "must be a number above 1: it multiplies `claim_within`, at which the card's thread is asked "
                "(2 pings at twice `claim_within`)"
            )
        return factor

    @model_validator(mode="after")
    def _the_lead_last(self) -> "Sla":
        if self.lead_after <= self.group_after:
            raise ValueError(
                f"`lead_after` ({self.lead_after:g}) must be larger than `group_after` ({self.group_after:g}): "
                "the lead is pinged after the user group"
            )
        return self

    def targets(self, urgency: str) -> SlaTargets:
        return {Urgency.LOW: self.low, Urgency.HIGH: self.high}.get(Urgency(urgency), self.normal)


class Summary(Section):
    channel: ChannelId | None = None
    enabled: bool = True
    weekday: Weekday = Weekday.MONDAY
    time: ClockTime = time(9)
    timezone: TimeZone = "UTC"
    """The weekly summary covers Monday to Sunday in this time zone and is posted at `weekday` `time` here."""


class Relevance(Section):
    """What is done with the relevance model's scores (`bot.hear.relevance`) once it has enough labels."""

    mute: bool = True
    """Hold back the cards of mentions the model finds very likely not relevant: they wait in their channel's
    daily digest, where one click posts the card after all."""
    miss_at_most: float = Field(default=0.01, gt=0, le=0.2)
    """The share of relevant mentions muting may hold back, judged on the scores the team's own relevant labels
    got: the lower, the fewer mentions are muted."""
    digest_time: ClockTime = time(9)
    timezone: TimeZone = "UTC"
    """The digest of each channel's muted mentions is posted daily at `digest_time` in this time zone."""


class Llm(Section):
    """An OpenAI-compatible chat completions endpoint (OpenAI, Azure, a local vLLM or Ollama) asked about the
    mentions the relevance model is unsure of, and only those; off unless configured."""

    base_url: BaseUrl
    """Up to the API version, like "https://api.openai.com/v1/": `chat/completions` is joined to it."""
    model: str = Field(min_length=1, max_length=200)
    api_key_env: EnvName | None = None
    """The environment variable holding the key, sent as a bearer token; none for a local endpoint."""
    daily_budget: int = Field(default=500, ge=0)
    """Questions a day (UTC) at most; past it, an unsure mention gets its card without one."""
    timeout: Duration = timedelta(seconds=10)


def _fetch_host(value: str) -> str:
    """A bare host name or address, as a link names it: the list is compared with each link's host."""
    host = value.strip().lower().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST_NAME.match(host):
        raise ValueError(f'"{value}" is not a host name; write it like "intranet.example" (no http://, path or port)')
    return host


class Admins(Section):
    users: list[UserId] = []
    """Who may pause and resume sources and export mentions from Slack; nobody when empty."""
    fetch_hosts: list[Annotated[str, AfterValidator(_fetch_host)]] = []
    """Hosts `/allears log <url>` reads even when they resolve to a private address (an intranet)."""


def _webhook_event(name: object) -> WebhookEvent:
    events = [event.value for event in WebhookEvent]
    if name in events:
        return WebhookEvent(name)
    nearest = get_close_matches(str(name), events, n=1)
    hint = f"did you mean {nearest[0]}? " if nearest else ""
    raise ValueError(f'"{name}" is not a webhook event; {hint}the events are {", ".join(events)}')


class Webhook(Section):
    """A receiver of signed JSON events (docs/webhooks.md), POSTed to `url` through the outbox."""

    url: HttpUrl = Field(max_length=2000)
    events: list[Annotated[WebhookEvent, BeforeValidator(_webhook_event)]] = Field(min_length=1)
    secret_env: EnvName
    """The environment variable holding the secret each body is signed with (`X-Allears-Signature`)."""


class Api(Section):
    """The read API (`GET /api/v1/mentions`), on only with this section."""

    tokens_env: EnvName
    """The environment variable holding the bearer tokens other tools send, comma-separated (one per tool, so one
    can be replaced without the others)."""

    @model_validator(mode="after")
    def _holds_a_token(self) -> "Api":
        if not self.tokens:
            raise ValueError(f"the environment variable {self.tokens_env} holds no token (only commas or spaces)")
        return self

    @property
    def tokens(self) -> list[str]:
        """Read from the environment when asked, as every secret is (`config_types.secret`)."""
        return [token.strip() for token in (secret(self.tokens_env) or "").split(",") if token.strip()]


class Config(Section):
    listen: Listen
    channels: Channels
    routes: list[Route] = []
    sources: list[SourceConfig] = []
    teams: dict[str, Team] = {}
    summary: Summary = Summary()
    relevance: Relevance = Relevance()
    llm: Llm | None = None
    storm: StormRule = StormRule()
    spikes: SpikeRule = SpikeRule()
    sla: Sla = Sla()
    admins: Admins = Admins()
    api: Api | None = None
    trackers: Trackers = Trackers()
    people: dict[UserId, str] = {}
    """Each person's team (`U0ANA = "support"`), for the summary's who-listened figures; else their Slack title."""
    webhooks: list[Webhook] = []

    @field_validator("webhooks")
    @classmethod
    def _one_entry_a_receiver(cls, webhooks: list[Webhook]) -> list[Webhook]:
        urls = [webhook.url for webhook in webhooks]
        if len(set(urls)) < len(urls):
            raise ValueError("two entries have the same `url`: list every event one receiver wants in one `events`")
        return webhooks

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        keys = [source.key for source in sources]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(
                    f'two sources are both named "{key}" (one without a `name` is named after its url\'s host); '
                    "give them distinct `name`s"
                )
        return sources

    @property
    def summary_channel(self) -> str:
        return self.summary.channel or self.channels.default

    @property
    def detects_languages(self) -> bool:
        listen = self.listen
        if listen.detect_languages is not None:
            return listen.detect_languages
        queries = [listen.query, *(p.query for p in listen.products), *(r.query for r in self.routes)]
        queries += [r.query for p in listen.products for r in p.routes]
        return bool(listen.languages) or any(asks_language(parse(query)) for query in queries if query)

    @property
    def feedback_channel(self) -> str | None:
        """Where mentions resolved as `feedback` are passed on: `[channels] feedback`, else the product team's."""
        product = self.teams.get("product")
        return self.channels.feedback or (product.channel if product else None)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for index, part in enumerate(loc):
        if index >= 2 and loc[index - 2] == "sources" and isinstance(loc[index - 1], int):
            continue  # pydantic names the source's kind here; the reader knows it from their file
        if part == "[key]":
            continue  # a wrong key of a table like [people]: the key itself is named already
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _unwrap(kind: object) -> object:
    """The type a setting holds, without its validators (`Annotated`) or its `| None`."""
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, UnionType) and NoneType in get_args(kind) and len(get_args(kind)) == 2:
            kind = next(member for member in get_args(kind) if member is not NoneType)
        else:
            return kind


def _settings_at(loc: tuple[int | str, ...]) -> list[str]:
    """The settings the table at `loc` can hold: the fields of its model, found by following `loc` from `Config`."""
    kind: object = Config
    for part in loc:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            kind = field.annotation
        elif get_origin(kind) in (list, dict):
            kind = get_args(kind)[-1]  # an item of [[routes]], or the value of a [teams.<name>]
        elif get_origin(kind) in (Union, UnionType):  # a [[sources]] entry: pydantic names its `kind` here
            kind = next((member for member in get_args(kind) if part in _kinds(member)), None)
        else:
            return []
        kind = _unwrap(kind)
    return list(kind.model_fields) if isinstance(kind, type) and issubclass(kind, BaseModel) else []


def _kinds(source: object) -> tuple[object, ...]:
    """The values a source model's `Literal` `kind` takes."""
    field = source.model_fields.get("kind") if isinstance(source, type) and issubclass(source, BaseModel) else None
    return get_args(field.annotation) if field else ()


def _unknown_setting(loc: tuple[int | str, ...]) -> str:
    nearest = get_close_matches(str(loc[-1]), _settings_at(loc[:-1]), n=1)
    return f"unknown setting — did you mean {nearest[0]}?" if nearest else "unknown setting (check its spelling)"


def load_config(path: Path) -> Config:
    """Read and check the config; a ConfigError names each wrong key and what is wrong with it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; copy allears.example.toml to {path} and edit it") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            message, location = problem["msg"].removeprefix("Value error, "), _location(problem["loc"])
            if problem["type"] == "extra_forbidden":
                message = _unknown_setting(problem["loc"])
            elif problem["type"] == "missing":
                message = "required but missing"
            elif problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
                location += ".kind"
                message = f"must be one of {problem['ctx']['expected_tags']}"
            lines.append(f"{path}: {location}: {message}")
        raise ConfigError("\n".join(lines)) from None


Named = TypeVar("Named")


def by_name(named: Mapping[str, Named], name: str, *, what: str, add: str) -> tuple[str, Named]:
    """The configured `what` (a team, a source) called `name`, matched case-insensitively, with its name as
    configured; a name that matches none is refused with the list of names, or `add` when there are none."""
    wanted = name.strip()
    for configured, thing in named.items():
        if configured.lower() == wanted.lower():
            return configured, thing
    known = ", ".join(f"`{configured}`" for configured in named) or f"none (add `{add}` to allears.toml)"
    raise UserError(f"There is no {what} `{wanted}`. {what.capitalize()}s: {known}.")
