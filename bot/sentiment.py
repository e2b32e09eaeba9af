"""How a mention sounds. Kept behind one function so a better scorer can replace it in one place."""

from dataclasses import dataclass

from bot.config import Sentiment
from bot.triage import triage


@dataclass(frozen=True)
class Score:
    polarity: float
    label: Sentiment


def score(text: str) -> Score:
    """Triage's sentiment: negative exactly when a human is needed; polarity -1..1 is its signed confidence
    (TextBlob's polarity is one of its inputs, see bot/triage.py)."""
    result = triage(text)
    return Score(polarity=result.polarity, label=result.sentiment)
