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
                Mention(
                    source="blogs & forums",
                    source_kind="rss",
                    external_id=f"demo-history-{week}-{n}",
                    url=f"https://forum.example.com/t/{week}{n}",
                    author="A past customer",
                    text=_SAID[(week + n) % len(_SAID)],
                    heard_at=heard_at,
                    published_at=heard_at,
                    polarity=0.3,
                    sentiment="neutral",
                    channel="C0VOICE",
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
            mention = Mention(
                source="blogs & forums",
                source_kind="rss",
                external_id=f"demo-muted-{n}",
                url=f"https://local.example.com/posts/{n}",
                author="A passer-by",
                text=text,
                heard_at=heard_at,
                published_at=heard_at,
                polarity=0.0,
                sentiment="neutral",
                channel="C0VOICE",
                status=MentionStatus.MUTED,
            )
            session.add(mention)
            session.flush()
            assert mention.id is not None
            session.add(Event(mention_id=mention.id, kind=EventKind.MUTED, at=heard_at, data={}))
