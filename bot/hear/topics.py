"""What a mention is about, in one word, so a burst about the same thing can be grouped into a storm."""

import re

# Checked in order of how urgent they are; the first that appears is the topic.
TOPIC_TERMS = (
    "outage",
    "down",
    "not working",
    "broken",
    "crash",
    "error",
    "bug",
    "data loss",
    "breach",
    "hacked",
    "security",
    "privacy",
    "slow",
    "login",
    "password",
    "billing",
    "invoice",
    "refund",
    "charged",
    "price",
    "pricing",
    "cancel",
    "cancelled",
    "delay",
    "delayed",
    "late",
    "lost",
    "support",
)
# One pass over the text finds every topic word; the most urgent one found wins, wherever it stands. A match
# is named by its folded spelling (faster than a named group per term): under IGNORECASE only these four
# letters match an ASCII one that `lower()` does not give back.
_ANY_TERM = re.compile(
    "(?<!\\w)(?:" + "|".join(sorted(map(re.escape, TOPIC_TERMS), key=len, reverse=True)) + ")(?!\\w)",
    re.IGNORECASE,
)
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_RANK = {term: rank for rank, term in enumerate(TOPIC_TERMS)}


def topic_of(text: str, *, category: str) -> str:
    """The most urgent topic word in the text, else the mention's category ("question", "praise", …)."""
    ranks = [_RANK[match.group(0).translate(_FOLD).lower()] for match in _ANY_TERM.finditer(text)]
    return TOPIC_TERMS[min(ranks)] if ranks else category
