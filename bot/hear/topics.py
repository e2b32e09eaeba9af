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
# One pass over the text finds every topic word (each alternative a group, so the match names its term);
# the most urgent one found wins, wherever it stands.
_ANY_TERM = re.compile(
    "(?<!\\w)(?:" + "|".join(f"(?P<t{rank}>{re.escape(term)})" for rank, term in enumerate(TOPIC_TERMS)) + ")(?!\\w)",
    re.IGNORECASE,
)


def topic_of(text: str, *, category: str) -> str:
    """The most urgent topic word in the text, else the mention's category ("question", "praise", …)."""
    ranks = [int(match.lastgroup[1:]) for match in _ANY_TERM.finditer(text) if match.lastgroup]
    return TOPIC_TERMS[min(ranks)] if ranks else category
