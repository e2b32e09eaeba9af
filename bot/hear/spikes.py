"""Spikes: is the last hour's count more than usual for this hour of the week? Pure rules, no storage.

The usual is the same hour in each past week (a Tuesday 13:00–14:00 against past Tuesdays 13:00–14:00), so a
busy Monday morning is compared with Monday mornings. Median and median absolute deviation (MAD) keep a past
spike from raising the usual; the deviation is never taken below Poisson's (the square root of the median),
so a flat history (3, 3, 3, 3) does not turn a fourth mention into an alarm.
"""

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from bot.ground.config import SpikeRule
from bot.hear.topics import TOPIC_TERMS
from bot.hear.triage import terms

HOUR = timedelta(hours=1)
WEEK = timedelta(weeks=1)
MIN_WEEKS = 3
"""Fewer past weeks than this (counted from the first mention heard) are too little to know the usual."""
GROWS_BY = 1.5
"""A spike's thread hears again once its count is half as large again as what it last told."""
_MAD_TO_SD = 1.4826
"""Scales the MAD to a standard deviation for normal data, so `deviations` reads as "standard deviations"."""


@dataclass(frozen=True)
class Usual:
    """What the same hour of the week brought in past weeks."""

    median: float
    spread: float
    """The robust deviation: MAD scaled, never below the Poisson deviation of the median."""
    weeks: int

    @property
    def low(self) -> int:
        return max(0, math.floor(self.median - self.spread))

    @property
    def high(self) -> int:
        return math.ceil(self.median + self.spread)


def usual_of(past: Sequence[int]) -> Usual | None:
    """The usual from past weeks' counts of the same hour; None when there are too few weeks to tell."""
    if len(past) < MIN_WEEKS:
        return None
    median = statistics.median(past)
    mad = statistics.median(abs(count - median) for count in past)
    return Usual(median=median, spread=max(_MAD_TO_SD * mad, math.sqrt(max(median, 1.0))), weeks=len(past))


def spike_threshold(usual: Usual, rule: SpikeRule) -> int:
    """The smallest count that is a spike against this usual."""
    return max(rule.at_least, math.floor(usual.median + rule.deviations * usual.spread) + 1)


def past_hours(now: datetime, *, weeks: int, since: datetime | None) -> list[tuple[datetime, datetime]]:
    """The same hour as the one ending at `now` in each of the past `weeks` weeks, newest first, kept only
    from `since` (the first mention heard): before it, a zero says nothing about the usual."""
    hours = [(now - HOUR - week * WEEK, now - week * WEEK) for week in range(1, weeks + 1)]
    return [(start, end) for start, end in hours if since is not None and start >= since]


class Step(StrEnum):
    """What a check does about one scope."""

    QUIET = "quiet"
    START = "start"
    GROW = "grow"
    END = "end"
    STAY = "stay"
    """A spike is on and nothing worth telling changed."""


def next_step(count: int, usual: Usual | None, *, told: int | None, rule: SpikeRule) -> Step:
    """`told` is the count the open spike last told the team, None when no spike is open.

    A spike starts above the threshold and ends only once back within the usual range, so a count hovering
    at the threshold does not start and end one at every check."""
    if told is None:
        return Step.START if usual is not None and count >= spike_threshold(usual, rule) else Step.QUIET
    if usual is None or count <= usual.high:
        return Step.END
    return Step.GROW if count >= math.ceil(told * GROWS_BY) else Step.STAY


@cache
def _stop_words() -> frozenset[str]:
    """scikit-learn's English list, read once a spike needs it (the bot starts without scikit-learn), less the
    topic words: "down" is a stop word to a search engine and news to a PR lead."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - set(TOPIC_TERMS)


def _words(text: str) -> set[str]:
    """The plain words triage reads in a text, negated ones too ("can't login" is news of logins), without its
    word pairs, numbers or emoticons."""
    stop = _stop_words()
    words = {term.removeprefix("not_") for term in terms(text)}
    return {word for word in words if word.isalpha() and len(word) > 2 and word not in stop}


def new_words(recent: Iterable[str], usual: Iterable[str], *, most: int = 3) -> list[str]:
    """Words in many of the recent texts that are rare in the usual hours' texts, most telling first.

    Each word counts once a text. A word must be in at least two recent texts and in a share of them at least
    three times its (smoothed) share of the usual texts, so the product's own name, in every mention, is not news.
    """
    recent_counts, recent_total = _document_counts(recent)
    usual_counts, usual_total = _document_counts(usual)
    scored = []
    for word, count in recent_counts.items():
        if count < 2:
            continue
        share = count / recent_total
        lift = share / ((usual_counts[word] + 0.5) / (usual_total + 1))
        if lift >= 3:
            scored.append((-count * math.log(lift), word))
    return [word for _, word in sorted(scored)[:most]]


def _document_counts(texts: Iterable[str]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        counts.update(_words(text))
        total += 1
    return counts, total
