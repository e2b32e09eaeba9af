"""Posting the weekly summary to Slack: the message, then its chart in the message's thread, each once.

`bot.remember.summary_due` keeps the record; this module makes the calls. No transaction is held open across one.
"""

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine

from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.db import session_scope
from bot.ground.errors import UserError
from bot.ground.models import WeeklyPost
from bot.remember import summary_due
from bot.remember.chart import weekly_chart
from bot.remember.figures import WeeklyFigures
from bot.remember.summary import summary_title
from bot.remember.summary_due import PostStatus
from bot.remember.weeks import Week
from bot.slack.answers import figures_blocks
from bot.slack.delivery import PERMANENT_ERRORS
from bot.slack.people import TeamDirectory

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class PostResult:
    week: Week
    channel: str
    status: str
    """Where the post stands (a `PostStatus`), or "busy" when another process holds it right now."""
    sent: tuple[str, ...] = ()
    """The parts this call posted: "message", "chart"."""
    message_ts: str | None = None
    file_id: str | None = None
    error: str | None = None
    posted_at: datetime | None = None


class _Uncertain(Exception):
    """A call was cut short after it may have reached Slack."""


class _Refused(Exception):
    """Slack certainly did not take the call; `permanent` when no retry can fix it."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class SummaryPoster:
    def __init__(
        self, engine: Engine, config: Config, client: WebClient, *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self._config = config
        self._client = client
        self._now = now
        self._finished: set[str] = set()
        """Weeks this process knows are finished, so the check every minute costs no query."""

    @property
    def channel(self) -> str:
        return self._config.summary_channel

    def figures(self, week: Week) -> WeeklyFigures:
        return summary_due.summarize(
            self._engine, self._config, week, team_of=TeamDirectory(self._config.people, self._client), now=self._now()
        )

    def post_due(self) -> None:
        """The scheduler's check: post the summary that is due, if any. Never raises."""
        week = summary_due.due_week(self._config.summary, self._now())
        if week is None or week.label in self._finished:
            return
        try:
            result = self.post(week)
        except Exception:
            log.exception("posting the %s summary failed; trying again at the next check", week.label)
            return
        if result.status in summary_due.FINISHED:
            self._finished.add(week.label)
        if result.sent:
            log.info("posted the %s summary's %s to %s", week.label, " and ".join(result.sent), self.channel)
        elif result.error and result.status != "busy":
            log.error("the %s summary: %s (%s)", week.label, result.error, result.status)

    def post(self, week: Week, *, again: bool = False) -> PostResult:
        """Post the week's summary unless it is posted already; resume one cut short at its first undone part."""
        with session_scope(self._engine) as session:
            post = summary_due.take(session, week, self.channel, again=again, now=self._now())
            if post is None:
                return self._result(week, summary_due.find_post(session, week, self.channel), busy=True)
        figures: WeeklyFigures | None = None
        sent: list[str] = []
        if post.status == PostStatus.PENDING:
            figures = self.figures(week)
            if self._send_message(post, figures):
                sent.append("message")
        if post.status == PostStatus.MESSAGE_SENT and self._send_chart(post, figures or self.figures(week)):
            sent.append("chart")
        if post.status in (PostStatus.SENDING_MESSAGE, PostStatus.SENDING_CHART):
            self._cut_short(post)
        return self._result(week, post, sent=tuple(sent))

    def post_copy(self, figures: WeeklyFigures) -> tuple[str, str | None]:
        """Post a summary outside the weekly record (a week still in progress): (message ts, chart file id)."""
        response = self._client.chat_postMessage(
            channel=self.channel, text=summary_title(figures), blocks=figures_blocks(figures, chart=True)
        )
        return response["ts"], self._upload(weekly_chart(figures), figures.week, response["ts"])

    def _send_message(self, post: WeeklyPost, figures: WeeklyFigures) -> bool:
        blocks = figures_blocks(figures, chart=True)
        if not self._advance(post, PostStatus.SENDING_MESSAGE):
            return False
        try:
            response = self._call(
                lambda: self._client.chat_postMessage(channel=post.channel, text=summary_title(figures), blocks=blocks)
            )
        except _Refused as refusal:
            self._refused(post, PostStatus.PENDING, refusal)
            return False
        except _Uncertain as error:
            self._advance(post, PostStatus.FAILED, last_error=_maybe_posted("message", str(error), post.week))
            return False
        return self._advance(post, PostStatus.MESSAGE_SENT, message_ts=response["ts"], last_error=None)

    def _send_chart(self, post: WeeklyPost, figures: WeeklyFigures) -> bool:
        png = weekly_chart(figures)
        if not self._advance(post, PostStatus.SENDING_CHART):
            return False
        try:
            file_id = self._call(lambda: self._upload(png, figures.week, post.message_ts))
        except _Refused as refusal:
            self._refused(post, PostStatus.MESSAGE_SENT, refusal)
            return False
        except _Uncertain as error:
            error_text = _maybe_posted("chart", str(error), post.week)
            self._advance(post, PostStatus.POSTED, posted_at=self._now(), last_error=error_text)
            return False
        return self._advance(post, PostStatus.POSTED, file_id=file_id, posted_at=self._now(), last_error=None)

    def _upload(self, png: bytes, week: Week, thread_ts: str | None) -> str | None:
        response = self._client.files_upload_v2(
            channel=self.channel,
            thread_ts=thread_ts,
            content=png,
            filename=f"allears-{week.label}.png",
            title=f"All Ears {week.label}: mentions per day and response times",
        )
        return (response.get("file") or {}).get("id")

    def _cut_short(self, post: WeeklyPost) -> None:
        """An earlier process started a part and never said how it went: never send it twice."""
        part = "message" if post.status == PostStatus.SENDING_MESSAGE else "chart"
        error = _maybe_posted(part, "an earlier attempt was cut short", post.week)
        if part == "message":
            self._advance(post, PostStatus.FAILED, last_error=error)
        else:
            self._advance(post, PostStatus.POSTED, posted_at=self._now(), last_error=error)

    def _refused(self, post: WeeklyPost, back_to: PostStatus, refusal: _Refused) -> None:
        if refusal.permanent and back_to == PostStatus.MESSAGE_SENT:  # the message is there: the post is done
            self._advance(
                post, PostStatus.POSTED, posted_at=self._now(), last_error=f"Slack refused the chart: {refusal}"
            )
            return
        if refusal.permanent:
            self._advance(post, PostStatus.FAILED, last_error=f"Slack refused it: {refusal}")
            return
        with session_scope(self._engine) as session:
            delay = summary_due.retry_delay(post.attempts)
            summary_due.release(session, post, back_to, retry_in=delay, error=str(refusal), now=self._now())

    def _advance(self, post: WeeklyPost, status: PostStatus, **values: object) -> bool:
        with session_scope(self._engine) as session:
            if summary_due.advance(session, post, status, **values):
                return True
        log.warning("the %s summary: another process took it over; leaving it to them", post.week)
        return False

    @staticmethod
    def _call(call: Callable[[], T]) -> T:
        try:
            return call()
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown_error"))
            raise _Refused(code, permanent=code in PERMANENT_ERRORS) from error
        except SlackRequestError as error:  # raised before the file was shared, or before any request
            raise _Refused(str(error), permanent=False) from error
        except URLError as error:
            if isinstance(error.reason, ConnectionRefusedError | socket.gaierror):
                raise _Refused(f"Slack could not be reached: {error.reason}", permanent=False) from error
            raise _Uncertain(repr(error)) from error
        except OSError as error:  # a timeout or a reset: the request may have arrived
            raise _Uncertain(repr(error)) from error

    def _result(
        self, week: Week, post: WeeklyPost | None, *, busy: bool = False, sent: tuple[str, ...] = ()
    ) -> PostResult:
        if post is None:
            return PostResult(week, self.channel, "busy")
        status = "busy" if busy and post.status not in summary_due.FINISHED else post.status
        return PostResult(
            week,
            self.channel,
            status,
            sent=sent,
            message_ts=post.message_ts,
            file_id=post.file_id,
            error=post.last_error,
            posted_at=post.posted_at,
        )


def _maybe_posted(part: str, why: str, week: str) -> str:
    return (
        f"the {part} may or may not have reached Slack ({why}); it is not sent again: look in the channel, "
        f"and if it is missing run `allears summary --week {week} --post --again`"
    )


def post_by_hand(poster: SummaryPoster, week: Week, *, again: bool = False, now: datetime | None = None) -> str:
    """`allears summary --post`: what was done, for the person who asked; a UserError says why not.

    A finished week goes through the weekly record, so it is posted once whoever asks (`again` posts
    it once more on purpose). A week in progress is posted as a copy "so far" and not recorded: its
    summary is still posted when it ends.
    """
    where = poster.channel
    if week.end > (now or utcnow()):
        figures = poster.figures(week)
        try:
            poster.post_copy(figures)
        except SlackApiError as error:
            raise UserError(f"Slack refused the summary: {error.response.get('error')}") from None
        return (
            f"posted the {week.label} summary so far to {where}, with its chart; the week is not over, "
            "so its summary is still posted when it ends"
        )
    result = poster.post(week, again=again)
    if result.sent:
        done = " and ".join(result.sent)
        tail = f"; not its chart: {result.error}" if "chart" not in result.sent and result.error else ""
        return f"posted the {week.label} summary's {done} to {where}{tail}"
    if result.status == PostStatus.POSTED:
        when = f" on {result.posted_at:%Y-%m-%d at %H:%M} UTC" if result.posted_at else ""
        raise UserError(
            f"the {week.label} summary was already posted to {where}{when}; add --again to post it once more"
        )
    if result.status == PostStatus.FAILED:
        raise UserError(f"the {week.label} summary was not posted: {result.error}. Add --again to post it anyway")
    if result.status == "busy":
        waiting = f" (it waits to try again after: {result.error})" if result.error else ""
        raise UserError(f"another process is posting the {week.label} summary{waiting}; try again in a few minutes")
    raise UserError(f"Slack did not take the {week.label} summary ({result.error}); run this again to retry")
