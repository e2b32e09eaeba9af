"""`allears try`: a query run against what the sources bring now, or against a file of texts, with what it
would keep and why, so a team can tune it before it floods a channel. Nothing is stored."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx

from bot.ground.config_sources import SourceConfig
from bot.hear.matching import Facts, Matcher
from bot.hear.polling import facts_of
from bot.hear.sources import Item, PollState, SourceError
from bot.hear.sources.registry import fetch


@dataclass(frozen=True)
class Tried:
    source: str
    text: str
    kept: bool
    why: tuple[str, ...]


@dataclass(frozen=True)
class Unreachable:
    source: str
    error: str


def try_query(matcher: Matcher, heard: Iterable[tuple[str, Facts]]) -> Iterator[Tried]:
    for source, facts in heard:
        kept = matcher.matches(facts)
        yield Tried(source, facts.text, kept, tuple(matcher.why(facts)) if kept else ())


def from_sources(sources: Iterable[SourceConfig], http: httpx.Client) -> Iterator[tuple[str, Facts] | Unreachable]:
    """Each source's recent items, as a first poll reads them; a source that fails is named, not fatal."""
    for source in sources:
        try:
            fetched = fetch(source, http, PollState())
        except SourceError as error:
            yield Unreachable(source.key, str(error))
            continue
        for item in fetched.items:
            yield source.key, facts_of(item, source=source.key, source_kind=source.kind)


def from_texts(lines: Iterable[str], *, name: str) -> Iterator[tuple[str, Facts]]:
    """One text a line; blank lines are skipped."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            item = Item(external_id=str(number), text=line.rstrip("\n"))
            yield name, facts_of(item, source=name, source_kind="file")
