"""The one way a mention is stored: in a batch, one insert for many rows instead of one a row, with the same
rows, events and cards as storing them one at a time (`tests/test_ingest_batches.py`). A poll's items make
one batch (`bot.hear.polling.store`); a mention that comes alone (the webhook, a colleague's forward) makes a
batch of one (`record`)."""

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.ground.clock import utcnow
from bot.ground.config import StormRule
from bot.ground.models import MentionStatus
from bot.ground.outbox import write_held
from bot.hear import relevance
from bot.hear.recording import Heard, LookedAhead, Planned, complete, insert_each, plan
from bot.hear.sources import Item


class Batch:
    """A poll's mentions inserted in one statement, then completed in the order they were heard: what storing
    one after another stores, at a fraction of the round trips. `posts` counts each author's recent
    mentions, the batch's own added as they are stored. With `muting`, a mention the relevance model scores
    under its bar is muted (`MentionStatus.MUTED`): stored with no card, for the daily digest; one it is unsure
    of waits for the LLM's word (`MentionStatus.CHECKING`) when one is configured."""

    def __init__(
        self, session: Session, ahead: LookedAhead, posts: Counter[str], *, muting: relevance.Muting | None = None
    ) -> None:
        self._session, self._ahead, self.posts = session, ahead, posts
        self._muting = muting
        self._plans: list[Planned] = []
        self._authors: set[str] = set()
        self._ids: set[str] = set()
        self.stored: dict[str, int] = {}
        """The new mentions' ids by external id."""

    def waits_on(self, item: Item) -> bool:
        """Whether the item must wait for the batch to be stored: it has the id of one in it, or its author
        wrote one in it while that can still change the item (a first repeat turns urgency up) or what
        it looks up (a conversation to continue)."""
        if item.external_id in self._ids:
            return True
        if not item.author or item.author[:500] not in self._authors:
            return False
        return not self.posts[item.author] or not self._ahead.never_continues(item)

    def add(self, planned: Planned) -> None:
        self._plans.append(planned)
        self._ids.add(planned.values["external_id"])
        if planned.values["author"] is not None:
            self._authors.add(planned.values["author"])

    def store(self) -> int:
        """Insert and complete the waiting mentions; returns how many were new."""
        plans, self._plans = self._plans, []
        self._authors.clear()
        self._ids.clear()
        if not plans:
            return 0
        rows = [planned.values for planned in plans]
        model = relevance.current(self._session)
        scored = model.scores(rows)
        if scored[0] is not None:  # the model is on: every row has its score
            bar = model.mute_below(self._muting.miss_at_most) if self._muting else None
            for row, score in zip(rows, scored, strict=True):
                row["relevance"] = score
                held = self._muting.holds_back(score, bar) if self._muting and score is not None else None
                if held is not None and _mutable(row):
                    row["status"], row["storm_id"] = held.value, None
        stored = insert_each(self._session, rows)
        self.stored.update(stored)
        new = 0
        for planned in plans:
            mention_id = stored.get(planned.values["external_id"])
            if mention_id is not None:
                complete(self._session, planned, mention_id)
                new += 1
                if planned.heard.item.author:
                    self.posts[planned.heard.item.author] += 1
        return new


def _mutable(row: dict[str, Any]) -> bool:
    """A post joined to an earlier mention lives in that one's thread, and one a colleague forwarded was judged
    worth a look by a person: neither is muted."""
    return row["status"] == MentionStatus.OPEN.value and not row["forwarded_by"]


def record(
    session: Session,
    heard: Heard,
    *,
    storm: StormRule | None = None,
    muting: relevance.Muting | None = None,
    now: datetime | None = None,
) -> int | None:
    """Store a mention that came alone, as a batch of one, and queue its card; None when this source's item is
    stored already.

    A post already heard through another source (same canonical URL) is stored as joined to the first mention
    and told in its thread instead of getting a card of its own; so is the author writing again in the same
    conversation, which reopens the earlier mention if it was resolved."""
    now = now or utcnow()
    ahead = LookedAhead(source=heard.source, now=now)  # nothing asked ahead: one item asks for itself
    batch = Batch(session, ahead, ahead.posts, muting=muting)
    batch.add(plan(session, heard, storm=storm, now=now, ahead=ahead))
    batch.store()
    write_held(session)
    return batch.stored.get(heard.item.external_id)
