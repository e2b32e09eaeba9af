"""The read API's pages are written by PostgreSQL itself (`bot.remember.page_json`) and by pydantic on SQLite: a
tool reading either gets the same bytes, whatever the mentions hold (control characters, emoji, floats at the
edges of their notation, times with and without microseconds, a store review's stars and app version)."""

import json
import math
import random
import struct
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, update

from bot.act.actions import claim, reply, resolve
from bot.app.read_api import DOCUMENT, MentionPage, encode_cursor
from bot.ground.config import Sentiment
from bot.ground.db import read_scope, session_scope
from bot.ground.models import Mention, MentionStatus, Outcome
from bot.hear.batches import record
from bot.remember.mention_pages import MentionFilter, mention_page
from tests.factories import heard
from tests.test_read_api import WAREHOUSE, _web

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

HOSTILE_TEXT = "".join(map(chr, range(1, 32))) + '"quoted" \\back\\slash / \x7f é ß 中文 \u2028\u2029 💥 \U0010ffff'

EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.123, 0.1 + 0.2, 1e-4, 9.999999999999999e-05, 1e-5, 1.5e-05]
EDGE_FLOATS += [9.99e-06, 1e-7, -2.5e-300, 5e-324, 123456789012345.6, 1e15, 1.2345678901234567e15, 1e16]
EDGE_FLOATS += [1.5e16, 1e22, 1.7976931348623157e308, -3.0, 42.0]


def raw(client: Any, path: str, **params: Any) -> bytes:
    answer = client.get(path, query_string=params, headers={"Authorization": f"Bearer {WAREHOUSE}"})
    assert answer.status_code in (200, 404), answer.data
    return bytes(answer.data)


def a_morning(engine: Engine) -> None:
    """Reviews and posts heard, claimed, answered, resolved and heard twice, with what is hardest to write."""
    stories = [
        ("review", {"rating": 1, "app_version": "8.42.1"}, Sentiment.NEGATIVE, None),
        ("hostile", {"title": HOSTILE_TEXT, "author": 'Zoë "the" <b>user</b>'}, Sentiment.NEGATIVE, "Acme Cloud"),
        ("praise", {"rating": 5, "author": None, "url": None}, Sentiment.POSITIVE, None),
        ("neutral", {"published_at": MONDAY - timedelta(microseconds=1)}, Sentiment.NEUTRAL, "Acme Cloud"),
    ]
    ids = []
    for n, (key, fields, sentiment, product) in enumerate(stories):
        item = heard(f"Acme {key} {HOSTILE_TEXT}", external_id=key, sentiment=sentiment, **fields)
        with session_scope(engine) as session:
            ids.append(record(session, replace(item, product=product), now=MONDAY + timedelta(minutes=n, seconds=0.25)))
    again = heard("Acme review heard again", external_id="again", url="https://example.com/posts/review")
    with session_scope(engine) as session:
        record(session, replace(again, source="aggregator"), now=MONDAY + timedelta(hours=1))
    with session_scope(engine) as session:
        claim(session, mention_id=ids[0], user_id="U0ANA", now=MONDAY + timedelta(minutes=7, microseconds=123))
        reply(session, mention_id=ids[0], user_id="U0ANA", text="Fixed in 8.42.2", now=MONDAY + timedelta(minutes=9))
        resolve(session, mention_id=ids[1], user_id="U0BEN", outcome=Outcome.SPAM, now=MONDAY + timedelta(hours=2))
    for mention_id, polarity in zip(ids, (0.0, 1e-5, 0.1 + 0.2, 1e16), strict=True):
        with session_scope(engine) as session:
            session.execute(update(Mention).where(Mention.id == mention_id).values(polarity=polarity))


def test_sqlite_and_postgresql_answer_the_same_bytes(sqlite_engine, postgres_engine):
    a_morning(sqlite_engine)
    a_morning(postgres_engine)
    on_sqlite, on_postgres = _web(sqlite_engine, [WAREHOUSE]), _web(postgres_engine, [WAREHOUSE])

    asked = [
        {},
        {"limit": 2},
        {"sentiment": "negative"},
        {"status": "resolved"},
        {"status": "joined"},
        {"owner": "U0ANA"},
        {"product": "Acme Cloud", "limit": 1},
        {"since": "2026-11-30T09:01:00.25Z"},
        {"source": "nobody-configured-this"},
    ]
    for params in asked:
        cursor = None
        while True:
            page = {**params, **({"cursor": cursor} if cursor else {})}
            written = raw(on_postgres, "/api/v1/mentions", **page)
            assert written == raw(on_sqlite, "/api/v1/mentions", **page), page
            shown = json.loads(written)
            if not shown["has_more"]:
                break
            cursor = shown["next_cursor"]
    first = json.loads(raw(on_postgres, "/api/v1/mentions"))["mentions"][0]
    assert (first["rating"], first["app_version"], first["polarity"]) == (1, "8.42.1", 0.0)
    for ref in ("M-1", "M-2", "M-5", "M-6"):
        assert raw(on_postgres, f"/api/v1/mentions/{ref}") == raw(on_sqlite, f"/api/v1/mentions/{ref}")


def test_a_store_review_shows_its_stars_and_app_version_as_the_document_says(engine):
    client = _web(engine, [WAREHOUSE])
    with session_scope(engine) as session:
        review = record(session, heard("Acme crashes", external_id="r", rating=2, app_version="8.42.1"), now=MONDAY)
        post = record(session, heard("Acme is fine", external_id="p"), now=MONDAY + timedelta(minutes=1))

    shown = {m["reference"]: m for m in json.loads(raw(client, "/api/v1/mentions"))["mentions"]}
    assert (shown[f"M-{review}"]["rating"], shown[f"M-{review}"]["app_version"]) == (2, "8.42.1")
    assert (shown[f"M-{post}"]["rating"], shown[f"M-{post}"]["app_version"]) == (None, None)
    assert json.loads(raw(client, f"/api/v1/mentions/M-{review}"))["app_version"] == "8.42.1"
    described = DOCUMENT["components"]["schemas"]["MentionOut"]["properties"]
    assert "stars" in described["rating"]["description"] and "version" in described["app_version"]["description"]


def _floats(count: int) -> list[float]:
    """Doubles from random bits, over every exponent (NaN and the infinities apart)."""
    chance = random.Random(18)
    drawn: list[float] = []
    while len(drawn) < count:
        (value,) = struct.unpack("<d", chance.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(value):
            drawn.append(value)
    return drawn


def test_postgresql_writes_each_value_as_pydantic_does(postgres_engine):
    """Compared with what pydantic writes of the rows themselves, as the API writes them on SQLite."""
    polarities = EDGE_FLOATS + [math.nan, math.inf, -math.inf] + _floats(400)
    rows = [
        {
            "source": "edge",
            "source_kind": "rss",
            "external_id": str(n),
            "text": HOSTILE_TEXT[n % 40 :],
            "title": None if n % 2 else HOSTILE_TEXT[: n % 50],
            "heard_at": MONDAY + timedelta(seconds=n, microseconds=(n % 3) * 7 * 10 ** (n % 6)),
            "published_at": None if n % 3 else MONDAY - timedelta(days=n, microseconds=n),
            "polarity": polarity,
            "sentiment": "negative",
            "category": "complaint",
            "urgency": "high",
            "needs_human": n % 2 == 0,
            "rating": n % 6 or None,
            "app_version": f"1.{n}" if n % 4 else None,
            "channel": "C0LISTEN",
            "status": "resolved" if n % 5 == 0 else "open",
            "duplicate_of": 1 if n % 7 == 3 else None,
        }
        for n, polarity in enumerate(polarities)
    ]
    with session_scope(postgres_engine) as session:
        session.execute(insert(Mention), rows)
    client = _web(postgres_engine, [WAREHOUSE])

    for kept, params in (
        (MentionFilter(), {}),
        (MentionFilter(status=MentionStatus.RESOLVED), {"status": "resolved"}),
    ):
        with read_scope(postgres_engine) as session:
            page = mention_page(session, kept, after=None, limit=500)
        end = page.end(None)
        by_pydantic = MentionPage.model_validate(
            {"mentions": page.mentions, "next_cursor": encode_cursor(end) if end else None, "has_more": page.more}
        ).model_dump_json()
        assert raw(client, "/api/v1/mentions", limit=500, **params).decode() == by_pydantic
