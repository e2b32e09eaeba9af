"""The Home tab: drawn when someone opens it, and drawn again after they act, so it never shows a stale queue."""

import logging
import threading
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.act.queues import queues_for
from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.db import read_scope
from bot.remember.counting import week_so_far
from bot.remember.figures import WeekSoFar
from bot.remember.weeks import Week
from bot.slack.home import ROWS, home_view
from bot.slack.payloads import HomeOpenedPayload, Origin
from handlers import Deps
from handlers.errors import Body, after_ack

log = logging.getLogger(__name__)

CHANNELS_FOR = 120.0
"""Seconds a person's channel list is reused: joining a channel shows in their Home within two minutes."""
NUMBERS_FOR = 10.0
"""Seconds the week's numbers are reused: they are everyone's, and a burst of actions, each redrawing its
actor's Home, must not count the whole week again for each (the queues are always read afresh)."""
_PAGE = 200


class HomeTabs:
    """Publishes each person's Home tab when they open it and after each of their actions, wherever they
    acted: with several web processes, the one handling an action may not be the one that saw the Home
    opened, so no process can know who has theirs open. Publishing an unopened Home is harmless."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        channels_for: float = CHANNELS_FOR,
        numbers_for: float = NUMBERS_FOR,
    ) -> None:
        self._engine = engine
        self._config = config
        self._channels_for = channels_for
        self._numbers_for = numbers_for
        self._lock = threading.Lock()
        self._channels: dict[str, tuple[float, frozenset[str]]] = {}
        self._numbers: tuple[float, WeekSoFar] | None = None
        # One publish at a time per person, so an older view can never land after a newer one.
        self._publishing: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def opened(self, user_id: str, client: WebClient) -> None:
        self.publish(user_id, client)

    def after_action(self, body: Body, client: WebClient, refused: bool = False) -> None:
        """Redraw the actor's Home; run after the action's answer (`after_ack(afterwards=)`), never before it.

        A refusal changed nothing, so its Home is redrawn only where the person may have acted from it: there it
        showed what led them to act (a mention someone has claimed since). Anywhere else their Home is no staler
        than before, and opening it draws it afresh."""
        origin = Origin.of(body)
        user_id = origin.actor()
        # A slash command is typed in a conversation and a card's button sits in a message; a click in the Home,
        # or a modal (it may have been opened from the Home), may come from it.
        if user_id and not (refused and origin.in_a_conversation()):
            self.publish(user_id, client)

    def publish(self, user_id: str, client: WebClient) -> None:
        with self._lock:
            publishing = self._publishing[user_id]
        with publishing:
            channels = self._channels_of(user_id, client)
            now = utcnow()
            with read_scope(self._engine) as session:
                queues = queues_for(session, user_id=user_id, channels=channels or (), limit=ROWS)
                figures = self._week_so_far(session, now)
            view = home_view(
                queues=queues, figures=figures, sla=self._config.sla, now=now, channels_known=channels is not None
            )
            client.views_publish(user_id=user_id, view=view)

    def _week_so_far(self, session: Session, now: datetime) -> WeekSoFar:
        week = Week.containing(now, self._config.summary.timezone)
        with self._lock:
            cached = self._numbers
        if cached and cached[1].week == week and time.monotonic() - cached[0] < self._numbers_for:
            return cached[1]
        numbers = week_so_far(session, week, now=now)
        with self._lock:
            self._numbers = (time.monotonic(), numbers)
        return numbers

    def _channels_of(self, user_id: str, client: WebClient) -> frozenset[str] | None:
        """The conversations the person is in (private ones only where the bot is too); None if Slack refuses."""
        with self._lock:
            cached = self._channels.get(user_id)
        if cached and time.monotonic() - cached[0] < self._channels_for:
            return cached[1]
        channels: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                page: Any = client.users_conversations(
                    user=user_id,
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=_PAGE,
                    cursor=cursor,
                )
                channels.update(channel["id"] for channel in page.get("channels", []))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as error:
            log.warning("could not list %s's channels for their Home tab: %s", user_id, error.response.get("error"))
            return None
        listed = frozenset(channels)
        with self._lock:
            self._channels[user_id] = (time.monotonic(), listed)
        return listed


def register(app: App, deps: Deps) -> None:
    acknowledged = after_ack(deps.work)

    @app.event("app_home_opened")
    @acknowledged
    def handle_app_home_opened(body: Body, client: WebClient) -> None:
        event = HomeOpenedPayload.of(body).event
        if event.tab == "home" and event.user:
            deps.homes.opened(event.user, client)
