"""The relevance model learns what the team's actions say (`bot.act.labels`): each claim, reply, escalation
and `fixed` or `feedback` resolution is a mention labelled relevant, each `not-relevant` or `spam` one
labelled not. Run every minute by the one process that runs the scheduler, it teaches the stored model the
labels given since it last learned and saves it, and every process scores with it (`bot.hear.relevance`).

A stored model that cannot be read (another scikit-learn wrote it) is learned again from every label."""

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.act.labels import LABELLING, label_counts, label_of
from bot.ground.clock import utcnow
from bot.ground.db import session_scope
from bot.ground.models import Event, Mention, RelevanceModel
from bot.hear import relevance

AT_ONCE = 2000
"""Events read in one go; more wait for the next run."""


@dataclass(frozen=True)
class Learned:
    labels: int
    """Mentions whose label the model learned in this run."""
    relearned: bool = False
    """The stored model could not be read, so this run began again from the first label."""


def learn(engine: Engine) -> Learned:
    with session_scope(engine) as session:
        stored = session.get(RelevanceModel, 1, with_for_update=True) or RelevanceModel(id=1)
        if stored.model is None and not _labelling_since(session, stored.learned_to, limit=1):
            return Learned(0)  # nothing to teach a model that does not exist: scikit-learn stays unloaded
        classifier = relevance.loads(stored)
        relearned = classifier is None and stored.model is not None
        if classifier is None:
            classifier, stored.learned_to, stored.relevant_scores = relevance.new_classifier(), 0, []
        events = _labelling_since(session, stored.learned_to, limit=AT_ONCE)
        if not events:
            return Learned(0)
        labels = {event.mention_id: label for event in events if (label := label_of(event)) is not None}
        if labels:
            taught = [(m.model_dump(), labels[m.id]) for m in _mentions(session, list(labels)) if m.id is not None]
            rows, said = [row for row, _ in taught], [label for _, label in taught]
            features = relevance.features(rows)
            if relevance.fitted(classifier):  # scored before it learns them, as it will score the next ones
                before = classifier.predict_proba(features)[:, 1]
                seen = [round(float(p), 4) for p, label in zip(before, said, strict=True) if label == 1]
                stored.relevant_scores = (list(stored.relevant_scores or ()) + seen)[-relevance.KEEP_SCORES :]
            classifier.partial_fit(features, said, classes=[0, 1])
            stored.model, stored.library = relevance.dumps(classifier)
        counts = label_counts(session)
        stored.relevant, stored.not_relevant = counts.relevant, counts.not_relevant
        stored.learned_to = events[-1].id or stored.learned_to
        stored.version += 1
        stored.updated_at = utcnow()
        session.add(stored)
    relevance.forget()
    return Learned(len(labels), relearned)


def _labelling_since(session: Session, event_id: int, *, limit: int) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(col(Event.id) > event_id, col(Event.kind).in_(LABELLING))
            .order_by(col(Event.id))
            .limit(limit)
        )
    )


def _mentions(session: Session, ids: list[int]) -> list[Mention]:
    return list(session.exec(select(Mention).where(col(Mention.id).in_(ids)).order_by(col(Mention.id))))
