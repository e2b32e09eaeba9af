"""When the weekly summary is due, and the record that makes each week's post happen once.

One `WeeklyPost` row per week and channel, created by whichever process gets there first (insert,
or nothing if it exists). A process then takes a lease on it with a conditional update and fences
every later change with that lease, so a process whose lease ran out cannot overwrite what another
did since. The post goes out in two parts, the message then its chart, and the row says which is
done: a restart resumes at the first part not done. A part whose call was cut short (a crash, a
timeout) may or may not have reached Slack; it is never sent again, so the summary is never posted
twice; the row says what happened and `allears summary --post --again` can send it anyway.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.ground.backoff import Backoff
from bot.ground.clock import utcnow
from bot.ground.config import Config, Summary
from bot.ground.db import insert_unless_present, read_scope, rows_changed
from bot.ground.models import WeeklyPost
from bot.remember.counting import weekly_figures
from bot.remember.figures import WeeklyFigures
from bot.remember.weeks import Week

LEASE = timedelta(minutes=5)
_RETRY = Backoff(first=timedelta(minutes=1), most=timedelta(minutes=30))
CATCH_UP = timedelta(days=1)
"""A summary whose moment was missed (every process down) is still posted this long after it, not later."""


class PostStatus(StrEnum):
    PENDING = "pending"
    SENDING_MESSAGE = "sending_message"
    """The message's call started; if it never finished we cannot know whether Slack has it."""
    MESSAGE_SENT = "message_sent"
    SENDING_CHART = "sending_chart"
    POSTED = "posted"
    FAILED = "failed"
    """Slack refused it for good, or a cut-short call may have posted it: a person decides."""


FINISHED = (PostStatus.POSTED.value, PostStatus.FAILED.value)


def scheduled_moment(summary: Summary, now: datetime) -> datetime:
    """The latest moment at or before `now` when a summary is due: `weekday` at `time` in `timezone`."""
    week = Week.containing(now, summary.timezone)
    day = week.monday + timedelta(days=summary.weekday.number)
    moment = datetime.combine(day, summary.time, week.zone)
    if moment > now:
        moment = datetime.combine(day - timedelta(days=7), summary.time, week.zone)
    return moment.astimezone(UTC)


def due_week(summary: Summary, now: datetime) -> Week | None:
    """The last full week before the latest moment, if that moment passed less than `CATCH_UP` ago."""
    moment = scheduled_moment(summary, now)
    if not summary.enabled or now - moment >= CATCH_UP:
        return None
    return Week.containing(moment, summary.timezone).previous


def summarize(
    engine: Engine, config: Config, week: Week, *, team_of: Callable[[str], str | None], now: datetime | None = None
) -> WeeklyFigures:
    """The week's figures with the teams of who listened, looked up once the database is let go."""
    with read_scope(engine) as session:
        figures = weekly_figures(session, week, now=now, sla=config.sla)
    figures.count_teams(team_of)
    return figures


def find_post(session: Session, week: Week, channel: str) -> WeeklyPost | None:
    return session.exec(
        select(WeeklyPost).where(col(WeeklyPost.week) == week.label, col(WeeklyPost.channel) == channel)
    ).first()


def take(
    session: Session, week: Week, channel: str, *, again: bool = False, now: datetime | None = None
) -> WeeklyPost | None:
    """Lease the week's post for this process; None when it is finished or another process holds it.

    `again` starts a finished post over, for a person who asked to post it once more.
    """
    now = now or utcnow()
    fresh = {"week": week.label, "channel": channel, "status": PostStatus.PENDING, "attempts": 0, "created_at": now}
    session.execute(insert_unless_present(session, WeeklyPost, ["week", "channel"], **fresh))
    free = (col(WeeklyPost.lease_until).is_(None)) | (col(WeeklyPost.lease_until) < now)
    conditions = [col(WeeklyPost.week) == week.label, col(WeeklyPost.channel) == channel, free]
    values: dict[str, object] = {"lease_until": now + LEASE, "attempts": col(WeeklyPost.attempts) + 1}
    if again:
        values |= {"status": PostStatus.PENDING, "message_ts": None, "file_id": None, "posted_at": None}
    else:
        conditions.append(col(WeeklyPost.status).not_in(FINISHED))
    if rows_changed(session.execute(update(WeeklyPost).where(*conditions).values(**values))) != 1:
        return None
    post = find_post(session, week, channel)
    assert post is not None
    session.refresh(post)
    return post


def advance(session: Session, post: WeeklyPost, status: PostStatus, **values: object) -> bool:
    """Move a leased post on if the lease is still ours; False when another process has taken it over.

    A finished post lets go of its lease, so a person may post it again at once.
    """
    if status in FINISHED:
        values["lease_until"] = None
    result = session.execute(
        update(WeeklyPost)
        .where(col(WeeklyPost.id) == post.id, col(WeeklyPost.lease_until) == post.lease_until)
        .values(status=status, **values)
    )
    if rows_changed(result) != 1:
        return False
    post.status = status
    for name, value in values.items():
        setattr(post, name, value)
    return True


def release(
    session: Session, post: WeeklyPost, status: PostStatus, *, retry_in: timedelta, error: str, now: datetime
) -> bool:
    """Give the post back after a failure that another try may fix; nobody takes it again for `retry_in`."""
    return advance(session, post, status, lease_until=now + retry_in, last_error=error[:2000])


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 30: a day's catching up tries dozens of times."""
    return _RETRY.after(attempts)
