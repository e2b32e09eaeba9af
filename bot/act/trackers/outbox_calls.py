"""The outbox's tracker calls: creating an issue asked for, and bringing an issue's evidence section up to date.

Like Slack's calls, they are retried with backoff when the tracker is busy (429 with its `Retry-After`, 5xx, a
timeout) and given up on, with the reason in the thread, when it refuses. A creation tried before may have reached
the tracker, its answer lost: the issue is looked for by the marker in its body before it is created again."""

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.act.trackers import Issue, TrackerBusy, TrackerError, TrackerRefused
from bot.act.trackers.evidence import evidence_from, footer, marker, section
from bot.act.trackers.issues import creation_failed, evidence_section, issue_of, record_created, refused
from bot.act.trackers.registry import TrackerSet
from bot.ground import outbox
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.mentions import get_mention
from bot.ground.models import Event, Outbox, OutboxKind

log = logging.getLogger(__name__)
TRACKER_KINDS = {OutboxKind.TRACKER_CREATE, OutboxKind.TRACKER_EVIDENCE}
Mark = Callable[[Session], bool]


class TrackerCalls:
    def __init__(self, engine: Engine, trackers: TrackerSet) -> None:
        self._engine, self._trackers = engine, trackers

    def send(self, row: Outbox) -> int:
        try:
            if row.kind == OutboxKind.TRACKER_CREATE:
                self._create(row)  # marks the row sent with the issue it made, in one transaction
                return 1
            self._evidence(row)
        except TrackerBusy as busy:
            # A 429 made nothing: the attempt does not count, so the next one need not look for an issue it made.
            limited = busy.retry_after is not None
            delay = timedelta(seconds=busy.retry_after or 0) if limited else outbox.RETRY.after(row.attempts)
            log.warning("outbox %s: %s; retrying in %ss", row.id, busy, delay.total_seconds())
            error = str(busy)
            counted = not limited
            self._settle(row, lambda s: outbox.mark_retry(s, row, delay=delay, error=error, count_attempt=counted))
            return 0
        except (TrackerRefused, UserError) as failure:
            self._refused(row, failure)
            return 0
        except Exception as failure:  # an answer in a shape the client did not expect: logged, and tried again
            log.exception("outbox %s: the %s call failed unexpectedly; retrying", row.id, row.kind)
            error = f"unexpected {type(failure).__name__}"
            self._settle(row, lambda s: outbox.mark_retry(s, row, delay=outbox.RETRY.after(row.attempts), error=error))
            return 0
        self._settle(row, lambda s: outbox.mark_sent(s, row))
        return 1

    def _settle(self, row: Outbox, mark: Mark) -> None:
        with session_scope(self._engine) as session:
            if not mark(session):
                log.warning("outbox %s: its lease had passed to another process", row.id)

    def _create(self, row: Outbox) -> None:
        with read_scope(self._engine) as session:
            request = _request_of(session, row)
            mention = get_mention(session, row.mention_id)
            assert request.id is not None
            evidence = section(evidence_from([mention]))
            body = "\n\n".join([request.data.get("body", "").strip(), evidence, footer(mention, request.id)])
        tracker = self._trackers.named(request.data["tracker"])
        issue: Issue | None = tracker.find(marker(request.id)) if row.attempts > 1 else None
        if issue is None:
            issue = tracker.create(
                title=request.data["title"], body=body.strip(), labels=request.data.get("labels", [])
            )
        with session_scope(self._engine) as session:
            if outbox.mark_sent(session, row):
                record_created(session, request=_request_of(session, row), issue=issue)

    def _evidence(self, row: Outbox) -> None:
        with read_scope(self._engine) as session:
            issue = issue_of(session, get_mention(session, row.mention_id))
            if issue is None:
                return
            new = evidence_section(session, issue.id or 0)
        if new is not None:
            self._trackers.named(issue.tracker).set_evidence(issue.ref, new)

    def _refused(self, row: Outbox, failure: TrackerError | UserError) -> None:
        fix = failure.fix if isinstance(failure, TrackerRefused) else ""
        problem = f"{failure}" + (f"; {fix}" if fix else "")
        log.error("outbox %s (%s for M-%s) refused by the tracker: %s", row.id, row.kind, row.mention_id, problem)
        with session_scope(self._engine) as session:
            if not outbox.mark_failed(session, row, error=problem):
                return
            if row.kind == OutboxKind.TRACKER_CREATE:
                creation_failed(session, request=_request_of(session, row), problem=problem)
            elif (issue := issue_of(session, get_mention(session, row.mention_id))) is not None:
                gone = isinstance(failure, TrackerRefused) and failure.gone
                refused(session, issue_id=issue.id or 0, problem=problem, gone=gone)


def _request_of(session: Session, row: Outbox) -> Event:
    event = session.get(Event, row.event_id) if row.event_id else None
    if event is None:
        raise UserError(f"the request of outbox row {row.id} is gone")
    return event
