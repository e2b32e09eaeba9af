"""Which channel a mention goes to: the first `[[routes]]` entry that matches, else the default."""

from bot.ground.config import Config, Route
from bot.hear.matching import KeywordMatcher
from bot.hear.triage import Triage


class Router:
    def __init__(self, config: Config) -> None:
        self._default = config.channels.default
        self._routes = [(route, KeywordMatcher(route.keywords or ())) for route in config.routes]

    def channel_for(self, *, source: str, source_kind: str, triaged: Triage, text: str) -> str:
        for route, keywords in self._routes:
            if _matches(route, keywords, source=source, source_kind=source_kind, triaged=triaged, text=text):
                return route.channel
        return self._default


def _matches(
    route: Route, keywords: KeywordMatcher, *, source: str, source_kind: str, triaged: Triage, text: str
) -> bool:
    """Every condition a route names must hold; a route naming none is refused by the config."""
    named = (
        (route.sentiment, triaged.sentiment),
        (route.category, triaged.category),
        (route.urgency, triaged.urgency),
    )
    if any(wanted is not None and wanted != actual for wanted, actual in named):
        return False
    if route.source is not None and route.source not in (source, source_kind):
        return False
    return not route.keywords or keywords.matches(text)
