"""How a mention sounds. Kept behind one function so a better scorer can replace it in one place."""

from dataclasses import dataclass

from textblob import TextBlob

from bot.config import Sentiment

# TextBlob polarity runs from -1 (negative) to +1 (positive). Text with no opinion words scores 0
# and reads as neutral; a mild positive ("ok", "fine") still reads as neutral below 0.1.
NEGATIVE_BELOW = 0.0
POSITIVE_ABOVE = 0.1


@dataclass(frozen=True)
class Score:
    polarity: float
    label: Sentiment


def score(text: str) -> Score:
    polarity = float(TextBlob(text).sentiment.polarity)
    if polarity < NEGATIVE_BELOW:
        label = Sentiment.NEGATIVE
    elif polarity > POSITIVE_ABOVE:
        label = Sentiment.POSITIVE
    else:
        label = Sentiment.NEUTRAL
    return Score(polarity=round(polarity, 3), label=label)
