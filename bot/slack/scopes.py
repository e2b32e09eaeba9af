"""The Slack scopes each feature needs: the one list `manifest.yml` and `allears check` are held to."""

from enum import StrEnum

from bot.ground.config import Config


class Feature(StrEnum):
    CARDS = "cards in channels"
    COMMANDS = "slash commands"
    WEEKLY_CHART = "the weekly summary's chart"
    TITLES = "people's titles, for the summary's teams"
    HOME_QUEUE = "the Home tab's queue"
    USER_GROUPS = "checking user groups"
    EXACTLY_ONCE = "posting each message exactly once"
    ADMIN_EXPORT = "the admin export, sent as a direct message"
    FORWARDED_NAMES = "people and channels named in a forwarded message, shown by name"


SCOPES: dict[Feature, tuple[str, ...]] = {
    Feature.CARDS: ("chat:write", "chat:write.public"),
    Feature.COMMANDS: ("commands",),
    Feature.WEEKLY_CHART: ("files:write",),
    Feature.TITLES: ("users:read",),
    Feature.HOME_QUEUE: ("channels:read", "groups:read"),
    Feature.USER_GROUPS: ("usergroups:read",),
    Feature.EXACTLY_ONCE: ("channels:history", "groups:history"),
    Feature.ADMIN_EXPORT: ("im:write",),
    Feature.FORWARDED_NAMES: ("users:read", "channels:read"),
}

ALL_SCOPES: frozenset[str] = frozenset(scope for scopes in SCOPES.values() for scope in scopes)
"""What the app asks for when installed from manifest.yml."""


def usergroups_configured(config: Config) -> bool:
    return bool(
        config.sla.usergroup
        or any(route.usergroup for route in config.routes)
        or any(team.usergroup for team in config.teams.values())
    )


def features_in_use(config: Config | None) -> list[Feature]:
    """Every feature, but those the config turns off; without a readable config, assume all of them."""
    if config is None:
        return list(Feature)
    unused = set()
    if not config.summary.enabled:
        unused.add(Feature.WEEKLY_CHART)
    if not usergroups_configured(config):
        unused.add(Feature.USER_GROUPS)
    return [feature for feature in Feature if feature not in unused]


def missing_scopes(granted: set[str] | frozenset[str], features: list[Feature]) -> dict[str, list[Feature]]:
    """Each scope the features need that was not granted, with the features that need it, in SCOPES order."""
    missing: dict[str, list[Feature]] = {}
    for feature in features:
        for scope in SCOPES[feature]:
            if scope not in granted:
                missing.setdefault(scope, []).append(feature)
    return missing


def granted_scopes(header: str | None) -> frozenset[str]:
    """Slack's `x-oauth-scopes` header: "chat:write,commands,…"."""
    return frozenset(scope.strip() for scope in (header or "").split(",") if scope.strip())
