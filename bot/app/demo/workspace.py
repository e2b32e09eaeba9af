"""The demo workspace: its channels, its people, and the `allears.toml` the bot runs with in it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    team: str
    title: str


CHANNELS = {
    "C0VOICE": "customer-voice",
    "C0SUPPORT": "support",
    "C0PRODUCT": "product",
    "C0PR": "pr",
    "C0SALES": "sales",
    "C0WEEKLY": "all-ears-weekly",
}
"""Channel ids and the names the page shows; the stand-in Slack knows only the ids, as Slack's API mostly does."""

PEOPLE = (
    Person("U0ANA", "Ana", "support", "Support lead"),
    Person("U0BEN", "Ben", "product", "Product manager"),
    Person("U0CHLOE", "Chloé", "pr", "Communications"),
    Person("U0DEV", "Dev", "sales", "Account executive"),
)

USER_GROUPS = {"S0SUPPORT": "support-team", "S0PRODUCT": "product-team"}
GITHUB_REPO = "quillo/quillo"
GITHUB_TOKEN_ENV = "ALLEARS_DEMO_GITHUB_TOKEN"
SHIPS_AFTER = 60.0
"""Seconds after it is opened that the demo's product team ships an issue: its threads then offer Tell the customer."""


def config_toml(feeds_url: str) -> str:
    """Routes, teams, storms, spikes, SLA and an issue tracker for the sample mentions; `feeds_url` is where the demo
    serves them (and, beside them, the tracker)."""
    people = "\n".join(f'{person.id} = "{person.team}"' for person in PEOPLE)
    return f"""# Written by `allears demo` for its own workspace.
[listen]
keywords = ["quillo"]

[channels]
default = "C0VOICE"

[[routes]]
category = "feature request"
channel = "C0PRODUCT"

[[routes]]
sentiment = "negative"
channel = "C0SUPPORT"
usergroup = "S0SUPPORT"

[[routes]]
sentiment = "positive"
channel = "C0PR"

[[sources]]
kind = "rss"
name = "blogs & forums"
url = "{feeds_url}quillo.rss"
every = "2m"

[[sources]]
kind = "hackernews"
query = "quillo"
base_url = "{feeds_url}hn/"
every = "2m"

[[sources]]
kind = "reddit"
query = "quillo"
base_url = "{feeds_url}reddit/"
every = "2m"

[[sources]]
kind = "mastodon"
tag = "quillo"
base_url = "{feeds_url}mastodon/"
every = "2m"

[teams.support]
channel = "C0SUPPORT"
usergroup = "S0SUPPORT"

[teams.product]
channel = "C0PRODUCT"
usergroup = "S0PRODUCT"

[teams.pr]
channel = "C0PR"

[teams.sales]
channel = "C0SALES"

[storm]
threshold = 4
window = "30m"

[spikes]
every = "20s"  # the sample mentions are heard at start: the alert comes a moment after

[relevance]
digest_time = "00:00"  # yesterday's muted mentions: their digest is posted at start

[summary]
channel = "C0WEEKLY"
enabled = false  # the page's "Post this week's summary" posts it

[sla.high]
claim_within = "5m"

[trackers.github]
repo = "{GITHUB_REPO}"
token_env = "{GITHUB_TOKEN_ENV}"
base_url = "{feeds_url.removesuffix("feeds/")}github/"
every = "10s"  # the demo's product team ships each issue a minute after it is opened

[people]
{people}
"""
