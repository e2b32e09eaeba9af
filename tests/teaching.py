"""Teaching the relevance model as a team does: real customers' complaints claimed, real sentences about some
other Acme put away as not relevant, ten of each a minute."""

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.act import actions
from bot.act.learning import learn
from bot.ground.config import Config
from bot.ground.db import session_scope
from bot.ground.models import Mention, Outcome
from bot.hear.polling import Listener, store
from bot.hear.sources import Item

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
_AIRLINES = re.compile(r"@?(VirginAmerica|united|SouthwestAir|JetBlue|USAirways|AmericanAir|Delta)\b", re.I)
HEARING = Listener(
    Config.model_validate(
        {"listen": {"keywords": ["acme"]}, "channels": {"default": "C0L"}, "relevance": {"mute": False}}
    )
)
"""Hears everything it is taught with: what is taught is labelled by people, never muted first."""


def complaints(shared_data: Path, count: int) -> list[str]:
    """Real customers' complaints, to an airline renamed Acme."""
    with (shared_data / "customer-tweets" / "airline-tweets.csv").open(encoding="utf-8", newline="") as file:
        rows = [row["text"] for row in csv.DictReader(file) if row["airline_sentiment"] == "negative"]
    return [_AIRLINES.sub("Acme", text) for text in rows if _AIRLINES.search(text)][:count]


def about_another_acme(shared_data: Path, count: int) -> list[str]:
    """Real sentences about films, as if a film studio were called Acme too."""
    lines = (shared_data / "sentiment-extra" / "uci-imdb_labelled.txt").read_text(encoding="utf-8").splitlines()
    return [f"{line.split(chr(9))[0]} (Acme Pictures)" for line in lines[:count]]


def hear(
    engine: Engine, texts: list[str], first: int, source: str, *, listener: Listener = HEARING, now: datetime = NOW
) -> list[int]:
    items = [
        Item(external_id=f"{source}-{first + n}", text=text, author=f"a{first + n}") for n, text in enumerate(texts)
    ]
    with session_scope(engine) as session:
        store(session, listener, items, source=source, source_kind="rss", now=now)
    with Session(engine) as session:
        ids = {m.external_id: m.id for m in session.exec(select(Mention).where(Mention.source == source))}
    return [ids[item.external_id] for item in items]


def teach(engine: Engine, shared_data: Path, each: int, *, first: int = 0) -> None:
    """Ana claims `each` complaints, Ben puts away `each` sentences about another Acme."""
    relevant = hear(engine, complaints(shared_data, first + each)[first:], first, "support-feed")
    not_relevant = hear(engine, about_another_acme(shared_data, first + each)[first:], first, "news-feed")
    with session_scope(engine) as session:
        for mention_id in relevant:
            actions.claim(session, mention_id=mention_id, user_id="U_ANA")
        for mention_id in not_relevant:
            actions.resolve(session, mention_id=mention_id, user_id="U_BEN", outcome=Outcome.NOT_RELEVANT)


def teach_minute_by_minute(engine: Engine, shared_data: Path, each: int) -> None:
    """As a team labels: ten of each kind, then the model learns them, and again."""
    for first in range(0, each, 10):
        teach(engine, shared_data, min(10, each - first), first=first)
        learn(engine)
