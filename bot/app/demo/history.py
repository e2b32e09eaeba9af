"""The demo's past weeks: a few ordinary mentions at this hour of the week in the last five weeks, so
the burst of sample mentions heard at start is more than usual and the demo shows a spike alert. They are
stored as resolved long ago (no card, nothing in anyone's queue), as a month-old workspace would hold them.
And yesterday's mentions about other Quillos that the relevance model muted, for the digest posted at start."""

from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.ground.db import session_scope
from bot.ground.models import Event, EventKind, Mention, MentionStatus, Outcome

WEEKS = (2, 3, 1, 2, 0)
"""Mentions in the same hour one to five weeks ago; the first mention was heard the day before the fifth."""
_SAID = (
    "Trying Quillo for our team wiki, the templates look nice.",
    "Does Quillo have a way to export a whole workspace to markdown?",
    "Quillo's search is quick, switched from our old notes app last month.",
)


def seed_past_weeks(engine: Engine, now: datetime) -> None:
    first = [(len(WEEKS), 0, now - timedelta(weeks=len(WEEKS), days=1))]
    past = [
        (week, n, now - timedelta(weeks=week, minutes=10 + 15 * n))
        for week, count in enumerate(WEEKS, start=1)
        for n in range(count)
    ]
    with session_scope(engine) as session:
        for week, n, heard_at in first + past:
            session.add(
                _forum_post(
                    f"demo-history-{week}-{n}",
                    f"https://forum.example.com/t/{week}{n}",
                    "A past customer",
                    _SAID[(week + n) % len(_SAID)],
                    heard_at,
                    polarity=0.3,
                    status=MentionStatus.RESOLVED,
                    outcome=Outcome.NO_ACTION,
                    resolved_at=heard_at,
                    first_resolved_at=heard_at,
                )
            )


MUTED_YESTERDAY = (
    "Quillo's Pizza has a two-for-one on Tuesdays, go!",
    "Season 3 of Quillo the cartoon quail starts in March",
    "Closed for repairs: the Quillo hiking trail north of the lake",
)


def mute_yesterdays(engine: Engine, now: datetime) -> None:
    """Stored as the bot stores what it mutes: no card, a `muted` event, waiting for today's digest."""
    with session_scope(engine) as session:
        for n, text in enumerate(MUTED_YESTERDAY):
            heard_at = now - timedelta(hours=19, minutes=7 * n)
            mention = _forum_post(
                f"demo-muted-{n}",
                f"https://local.example.com/posts/{n}",
                "A passer-by",
                text,
                heard_at,
                polarity=0.0,
                status=MentionStatus.MUTED,
            )
            session.add(mention)
            session.flush()
            assert mention.id is not None
            session.add(Event(mention_id=mention.id, kind=EventKind.MUTED, at=heard_at, data={}))


def _forum_post(external_id: str, url: str, author: str, text: str, heard_at: datetime, **state: object) -> Mention:
    """A neutral post the demo's forum feed brought in on the day it was written."""
    return Mention(
        source="blogs & forums",
        source_kind="rss",
        external_id=external_id,
        url=url,
        author=author,
        text=text,
        heard_at=heard_at,
        published_at=heard_at,
        sentiment="neutral",
        channel="C0VOICE",
        **state,  # type: ignore[arg-type]
    )
