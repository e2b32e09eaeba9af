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
_PATTERNS = [(term, re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)) for term in TOPIC_TERMS]


def topic_of(text: str, *, category: str) -> str:
    """The most urgent topic word in the text, else the mention's category ("question", "praise", …)."""
    for term, pattern in _PATTERNS:
        if pattern.search(text):
            return term
    return category
