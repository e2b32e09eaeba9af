"""A poll's mentions stored in batches: one insert for many rows instead of one a row, and the same rows,
events and cards as recording them one by one (`tests/test_ingest_batches.py`)."""

from collections import Counter

from sqlmodel import Session

from bot.hear.recording import LookedAhead, Planned, complete, insert_each
from bot.hear.sources import Item


class Batch:
    """A poll's mentions inserted in one statement, then completed in the order they were heard: what one
    `record` after another stores, at a fraction of the round trips. `posts` counts each author's recent
    mentions, the batch's own added as they are stored."""

    def __init__(self, session: Session, ahead: LookedAhead, posts: Counter[str]) -> None:
        self._session, self._ahead, self.posts = session, ahead, posts
        self._plans: list[Planned] = []
        self._authors: set[str] = set()
        self._ids: set[str] = set()

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
        stored = insert_each(self._session, [planned.values for planned in plans])
        new = 0
        for planned in plans:
            mention_id = stored.get(planned.values["external_id"])
            if mention_id is not None:
                complete(self._session, planned, mention_id)
                new += 1
                if planned.heard.item.author:
                    self.posts[planned.heard.item.author] += 1
        return new
