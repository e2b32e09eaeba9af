"""A reply suggested by the LLM (`[llm]`) in the Reply form: one question per form opened, counted in the
day's budget and recorded as an event of the person who asked. Only configured endpoints see the post."""

from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import Engine

from bot.ground.clock import utcnow
from bot.ground.config import Config
from bot.ground.db import read_scope, session_scope
from bot.ground.models import Event, EventKind, Mention
from bot.hear import llm

REPLY = 600
"""Characters of a suggestion kept: a public reply is short."""


@dataclass(frozen=True)
class Suggestion:
    text: str | None
    why_none: str | None = None


class ReplyDrafts:
    def __init__(self, engine: Engine, config: Config, http: httpx.Client) -> None:
        self._engine, self._config, self._http = engine, config, http

    def suggest(self, mention: Mention, *, user_id: str, now: datetime | None = None) -> Suggestion:
        settings = self._config.llm
        assert settings is not None and mention.id is not None
        now = now or utcnow()
        with read_scope(self._engine) as session:
            spent = llm.asked_today(session, now) >= settings.daily_budget
        if spent:
            return Suggestion(None, "the day's budget of questions is spent")
        system = (
            f"You help a company's team answer public posts that mention {llm.listened_for(self._config)}. Write"
            " a short, friendly, honest reply to the post, in its language, that a person will check and send."
            " Promise nothing the team did not say; no links; plain text."
        )
        text, why = llm.complete(self._http, settings, system, llm.post_of(mention), max_tokens=200)
        with session_scope(self._engine) as session:
            session.add(
                Event(mention_id=mention.id, kind=EventKind.LLM_DRAFTED, actor=user_id, at=now, data={"why": why})
            )
        return Suggestion(text[:REPLY] if text else None, why)
