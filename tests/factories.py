"""Building mentions the way ingestion does, for tests that start from a stored mention."""

from datetime import datetime

from sqlalchemy import Engine

from bot.ground.config import Sentiment
from bot.ground.db import session_scope
from bot.hear.batches import record
from bot.hear.recording import Heard
from bot.hear.sources import Item


def heard(
    text: str = "Acme's status page says all green but my deploys fail",
    *,
    external_id: str = "item-1",
    source: str = "status-feed",
    sentiment: Sentiment = Sentiment.NEGATIVE,
    polarity: float = -0.4,
    channel: str = "C0LISTEN",
    url: str | None = "",
    author: str | None = "Dana Customer",
    title: str | None = None,
    published_at: datetime | None = None,
    shared_url: str | None = None,
    rating: int | None = None,
    app_version: str | None = None,
) -> Heard:
    if url == "":  # each item its own page, unless the test says otherwise
        url = f"https://example.com/posts/{external_id}"
    item = Item(
        external_id=external_id,
        text=text,
        title=title,
        url=url,
        author=author,
        published_at=published_at,
        shared_url=shared_url,
        rating=rating,
        app_version=app_version,
    )
    return Heard(item=item, source=source, source_kind="rss", polarity=polarity, sentiment=sentiment, channel=channel)


def store_mention(engine: Engine, **overrides: object) -> int:
    with session_scope(engine) as session:
        mention_id = record(session, heard(**overrides))  # type: ignore[arg-type]
    assert mention_id is not None
    return mention_id
