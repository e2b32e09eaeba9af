"""Which channel a mention goes to: the first route that matches (its product's `routes`, then the top-level
`[[routes]]`), else the default."""

from bot.ground.config import Config, Route
from bot.hear.matching import Facts, KeywordMatcher, Matcher
from bot.hear.triage import Triage


class Router:
    def __init__(self, config: Config) -> None:
        self._default = config.channels.default
        self._routes = _compiled(config.routes)
        self._by_product = {product.name: _compiled(product.routes) for product in config.listen.products}

    def channel_for(
        self,
        *,
        source: str,
        source_kind: str,
        triaged: Triage,
        text: str,
        facts: Facts | None = None,
        product: str | None = None,
    ) -> str:
        """`facts`, for a route's `query`, default to the text and source alone."""
        facts = facts or Facts(text, source=source, source_kind=source_kind)
        for route, keywords, query in [*self._by_product.get(product or "", []), *self._routes]:
            if _matches(route, keywords, query, facts=facts, triaged=triaged):
                return route.channel
        return self._default


def _compiled(routes: list[Route]) -> list[tuple[Route, KeywordMatcher, Matcher | None]]:
    return [
        (route, KeywordMatcher(route.keywords or ()), Matcher.of(route.query) if route.query else None)
        for route in routes
    ]


def _matches(route: Route, keywords: KeywordMatcher, query: Matcher | None, *, facts: Facts, triaged: Triage) -> bool:
    """Every condition a route names must hold; a route naming none is refused by the config."""
    named = (
        (route.sentiment, triaged.sentiment),
        (route.category, triaged.category),
        (route.urgency, triaged.urgency),
    )
    if any(wanted is not None and wanted != actual for wanted, actual in named):
        return False
    if route.source is not None and route.source not in (facts.source, facts.source_kind):
        return False
    if query is not None and not query.matches(facts):
        return False
    return not route.keywords or keywords.matches(facts)
