"""Thin Slack listeners: parse the request, call one domain function, render the answer."""

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.act.reply_drafts import ReplyDrafts
from bot.act.source_replies import SourceReplies
from bot.act.trackers.registry import TrackerSet
from bot.ground.config import Config
from bot.hear.polling import Listener

if TYPE_CHECKING:
    from handlers.home import HomeTabs


@dataclass(frozen=True)
class Deps:
    """What listeners need, handed in by the app factory; nothing is connected at import time."""

    engine: Engine
    config: Config
    notify: Callable[[], None]
    """Tell the outbox pump there is something to deliver now."""
    work: Executor
    """Runs each listener's work after its ack, so no ack ever queues behind slow work."""
    listener: Listener
    """Scores and routes what colleagues forward, as polling does for sources."""
    replies: SourceReplies
    """Where a reply can be posted on the source itself."""
    homes: "HomeTabs"
    """Each person's Home tab, redrawn after they act."""
    drafts: ReplyDrafts | None = None
    """The LLM's suggested replies, when `[llm]` is configured."""
    trackers: TrackerSet | None = None
    """The issue trackers of `[trackers]` (none configured: Create issue says how to add one)."""
