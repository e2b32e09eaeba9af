"""The bundled sample mentions, served in each source's own format (an RSS feed, Hacker News' Algolia JSON,
Reddit's listing, a Mastodon tag timeline), so the bot reads them through its real sources."""

import html
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

Document = tuple[bytes, str]


@dataclass(frozen=True)
class Sample:
    source: str
    id: str
    text: str
    author: str
    published: datetime
    title: str | None = None
    url: str | None = None
    story: str | None = None
    story_title: str | None = None
    subreddit: str | None = None
    followers: int | None = None


def load_samples(started: datetime) -> list[Sample]:
    """Each sample dated `minutes_ago` before `started`, newest first as the APIs answer."""
    raw = json.loads(resources.files("bot.app.demo").joinpath("data/mentions.json").read_text(encoding="utf-8"))
    samples = [
        Sample(
            **{key: value for key, value in entry.items() if key != "minutes_ago"},
            published=started - timedelta(minutes=entry["minutes_ago"]),
        )
        for entry in raw["mentions"]
    ]
    return sorted(samples, key=lambda sample: sample.published, reverse=True)


class SampleFeeds:
    """The documents, fixed at the demo's start so each poll reads the same ones and nothing is heard twice."""

    def __init__(self, samples: list[Sample]) -> None:
        def of(kind: str) -> list[Sample]:
            return [sample for sample in samples if sample.source == kind]

        self._documents: dict[str, Document] = {
            "quillo.rss": (_rss(of("rss")), "application/rss+xml"),
            "hn/search_by_date": (_json({"hits": [_hit(sample) for sample in of("hackernews")]}), "application/json"),
            "reddit/search.json": (
                _json({"kind": "Listing", "data": {"children": [_post(sample) for sample in of("reddit")]}}),
                "application/json",
            ),
            "mastodon/api/v1/timelines/tag/quillo": (
                _json([_status(sample) for sample in of("mastodon")]),
                "application/json",
            ),
        }

    def document(self, path: str) -> Document | None:
        return self._documents.get(path)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _rss(samples: list[Sample]) -> bytes:
    items = "".join(
        f'<item><guid isPermaLink="false">{escape(sample.id)}</guid><title>{escape(sample.title or "")}</title>'
        f"<link>{escape(sample.url or '')}</link><description>{escape(html.escape(sample.text))}</description>"
        f"<author>{escape(sample.author)}</author><pubDate>{format_datetime(sample.published)}</pubDate></item>"
        for sample in samples
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Quillo alerts</title>'
        f"<link>https://alerts.example.com/</link><description>Mentions of Quillo</description>{items}</channel></rss>"
    ).encode()


def _hit(sample: Sample) -> dict[str, Any]:
    story = sample.story is None
    return {
        "objectID": sample.id,
        "created_at_i": int(sample.published.timestamp()),
        "author": sample.author,
        "title": sample.title if story else None,
        "url": sample.url if story else None,
        "story_text": html.escape(sample.text) if story else None,
        "comment_text": None if story else html.escape(sample.text),
        "story_id": int(sample.story or sample.id),
        "story_title": sample.story_title,
    }


def _post(sample: Sample) -> dict[str, Any]:
    short_id = sample.id.removeprefix("t3_")
    return {
        "kind": "t3",
        "data": {
            "name": sample.id,
            "title": sample.title,
            "selftext": sample.text,
            "author": sample.author,
            "subreddit": sample.subreddit,
            "created_utc": sample.published.timestamp(),
            "permalink": f"/r/{sample.subreddit}/comments/{short_id}/",
            "url": f"https://www.reddit.com/r/{sample.subreddit}/comments/{short_id}/",
            "is_self": True,
        },
    }


def _status(sample: Sample) -> dict[str, Any]:
    user, _, instance = sample.author.partition("@")
    return {
        "id": sample.id,
        "created_at": sample.published.isoformat().replace("+00:00", "Z"),
        "content": f"<p>{html.escape(sample.text)}</p>",
        "spoiler_text": "",
        "url": f"https://{instance}/@{user}/{sample.id}",
        "in_reply_to_id": None,
        "reblog": None,
        "account": {"acct": sample.author, "followers_count": sample.followers},
    }
