"""Whether a mention is one to keep: a query (`bot.ground.query`) run against what is known of it. Words and
phrases match case-insensitively as whole words, so "acme" never matches "acmeist" but matches "Acme's",
"#acme" and "acme.io"; text and query are compared in Unicode's compatibility form (NFKC), so "café" typed
either way, or "𝐀𝐜𝐦𝐞" in a bold font, match."""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from bot.ground.query import All, AnyOf, FieldTerm, Node, Not, Term, from_keywords, parse
from bot.ground.text import standing_alone
from bot.hear.languages import language_of


@dataclass(frozen=True)
class Facts:
    """What a query can ask of a mention."""

    text: str
    source: str = ""
    source_kind: str = ""
    author: str | None = None
    urls: tuple[str | None, ...] = ()
    """The post's own page and the page it links to: `site:` matches either's host."""
    lang: str | None = None
    """The language the source says the post is in, if it says."""
    detect_lang: bool = False
    """Whether to ask the detector when the source does not say (only once a query or a card needs it)."""

    @cached_property
    def normal_text(self) -> str:
        return normalize(self.text)

    @cached_property
    def language(self) -> str | None:
        return self.lang or (language_of(self.text) if self.detect_lang else None)

    @cached_property
    def hosts(self) -> tuple[str, ...]:
        return tuple(host_of(url) for url in self.urls if url)


class Matcher:
    """A parsed query, compiled once into one test: `matches` for every item, `why` for the ones kept."""

    def __init__(self, query: Node) -> None:
        self.query = query
        self._test = _test_of(query)
        self._wanted = [(str(term), _whole_words([term])) for term in _wanted_terms(query)]

    @classmethod
    def of(cls, query: str) -> "Matcher":
        return cls(parse(query))

    def matches(self, facts: Facts | str) -> bool:
        """`facts` may be only a text, for a query of words and phrases."""
        return self._test(Facts(facts) if isinstance(facts, str) else facts)

    def why(self, facts: Facts) -> list[str]:
        """The words and phrases looked for that the mention contains, as the query writes them."""
        text = facts.normal_text
        return [term for term, contains in self._wanted if contains(text)]


class KeywordMatcher(Matcher):
    """The simple form: any of `keywords`, none of `exclude`."""

    def __init__(self, keywords: Iterable[str], exclude: Iterable[str] = ()) -> None:
        super().__init__(from_keywords(list(keywords), list(exclude)))


def normalize(text: str) -> str:
    if text.isascii():  # NFKC leaves ASCII as it is, and it holds no curly apostrophe
        return text
    return unicodedata.normalize("NFKC", text).replace("\u2019", "'")


def _test_of(node: Node) -> Callable[[Facts], bool]:
    """The node as one function of a mention's facts; words and phrases that are alternatives are one search."""
    match node:
        case Term():
            return _searches([node])
        case FieldTerm():
            return lambda facts: _field_holds(node, facts)
        case Not(inner):
            test = _test_of(inner)
            return lambda facts: not test(facts)
        case All(nodes):
            tests = [_test_of(child) for child in nodes]
            return lambda facts: all(test(facts) for test in tests)
        case AnyOf(nodes):
            terms = [child for child in nodes if isinstance(child, Term)]
            if len(terms) == len(nodes):
                return _searches(terms)
            tests = [_test_of(child) for child in nodes]
            return lambda facts: any(test(facts) for test in tests)


def _searches(terms: list[Term]) -> Callable[[Facts], bool]:
    contains = _whole_words(terms)
    return lambda facts: contains(facts.normal_text)


def _whole_words(terms: Iterable[Term]) -> Callable[[str], bool]:
    """Whether a text holds any of the terms with no word character on either side."""
    alternatives = [r"\s+".join(re.escape(normalize(word)) for word in term.words) for term in terms]
    if not alternatives:
        return lambda text: False  # no word to look for
    pattern = re.compile(rf"(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)
    return lambda text: next(standing_alone(pattern, text), None) is not None


def _wanted_terms(node: Node) -> Iterable[Term]:
    match node:
        case Term():
            yield node
        case All(nodes) | AnyOf(nodes):
            for child in nodes:
                yield from _wanted_terms(child)


def _field_holds(node: FieldTerm, facts: Facts) -> bool:
    value = node.value.casefold()
    match node.field:
        case "author":
            author = (facts.author or "").casefold().lstrip("@")
            return bool(author) and value.lstrip("@") in (author, author.split("@")[0])
        case "site":
            site = host_of(value)
            return any(host == site or host.endswith(f".{site}") for host in facts.hosts)
        case "source":
            return value in (facts.source.casefold(), facts.source_kind.casefold())
        case "lang":
            return facts.language is not None and facts.language.casefold() == value


def host_of(url: str) -> str:
    """A URL's (or a bare host's) host, lowercase, without `www.`; "" when it has none."""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")
