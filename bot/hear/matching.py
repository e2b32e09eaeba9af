"""Keyword matching: case-insensitive whole words or phrases, so "acme" never matches "acmeist"."""

import re
from collections.abc import Iterable


class KeywordMatcher:
    def __init__(self, keywords: Iterable[str], exclude: Iterable[str] = ()) -> None:
        self._include = _pattern(keywords)
        self._exclude = _pattern(exclude)

    def matches(self, text: str) -> bool:
        if self._include is None or not self._include.search(text):
            return False
        return self._exclude is None or not self._exclude.search(text)


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = [r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases if phrase.strip()]
    if not alternatives:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)
