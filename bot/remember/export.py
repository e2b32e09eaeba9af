"""`allears export`: every mention with its events and outcome, for a spreadsheet or a BI tool.

Rows stream out a batch at a time, so an export of years of mentions needs no more memory than a
batch. Mentions heard twice (status `joined`) are included with the mention they joined, so nothing
is lost; filter them out to count each post once, as the weekly figures do.
"""

import csv
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.ground.db import read_scope
from bot.ground.errors import UserError
from bot.ground.models import Event, EventKind, Mention

BATCH = 500

COLUMNS = (
    "reference",
    "heard_at",
    "published_at",
    "source",
    "source_kind",
    "author",
    "url",
    "title",
    "text",
    "sentiment",
    "polarity",
    "category",
    "urgency",
    "product",
    "matched",
    "lang",
    "rating",
    "app_version",
    "relevance",
    "channel",
    "status",
    "joined_to",
    "owner",
    "claimed_at",
    "first_reply_at",
    "resolved_at",
    "outcome",
    "seconds_to_claim",
    "seconds_to_first_reply",
    "seconds_to_resolution",
    "escalated_to",
    "tracker_issue",
    "tracker_issue_url",
    "events",
)
"""The columns, in order. JSONL has `escalated_to` and `events` as lists; CSV joins the teams with "; " and
writes the events as compact JSON (a cell starting with `[`, which no spreadsheet runs as a formula)."""

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a leading ' stops it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


def parse_moment(text: str) -> datetime:
    """`2026-01-01` (midnight UTC) or `2026-01-01T09:30` (UTC unless it names its offset)."""
    try:
        day = date.fromisoformat(text.strip())
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f'"{text}" is not a date; write it like 2026-01-01 or 2026-01-01T09:30') from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def export(
    engine: Engine,
    out: TextIO,
    *,
    kind: ExportFormat,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = BATCH,
) -> int:
    """Write the mentions heard from `since` up to (not including) `until` to `out`; returns how many."""
    if since and until and until <= since:
        raise UserError("--until must be later than --since")
    count = 0
    writer = csv.writer(out) if kind is ExportFormat.CSV else None
    if writer:
        writer.writerow(COLUMNS)
    with read_scope(engine) as session:
        for mention, events in _mentions(session, since=since, until=until, batch=batch):
            record = _record(mention, events)
            if writer:
                record["events"] = json.dumps(record["events"], ensure_ascii=False, separators=(",", ":"))
                writer.writerow([_cell(record[column]) for column in COLUMNS])
            else:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _mentions(
    session: Session, *, since: datetime | None, until: datetime | None, batch: int
) -> Iterator[tuple[Mention, list[Event]]]:
    """Mentions in id order with their events, one batch in memory at a time (keyset pages work on any database)."""
    after = 0
    while True:
        statement = select(Mention).where(col(Mention.id) > after)
        if since:
            statement = statement.where(col(Mention.heard_at) >= since)
        if until:
            statement = statement.where(col(Mention.heard_at) < until)
        mentions = list(session.exec(statement.order_by(col(Mention.id)).limit(batch)))
        if not mentions:
            return
        ids = [mention.id for mention in mentions if mention.id is not None]
        events: defaultdict[int, list[Event]] = defaultdict(list)
        for event in session.exec(
            select(Event).where(col(Event.mention_id).in_(ids)).order_by(col(Event.at), col(Event.id))
        ):
            events[event.mention_id].append(event)
        for mention in mentions:
            yield mention, events[mention.id or 0]
        after = ids[-1]
        session.expunge_all()


def _record(mention: Mention, events: Sequence[Event]) -> dict[str, Any]:
    first: dict[str, datetime] = {}
    for event in events:
        first.setdefault(event.kind, event.at)
    teams = [str(event.data.get("team")) for event in events if event.kind == EventKind.ESCALATED]
    issue = next((e.data for e in reversed(events) if e.kind in (EventKind.ISSUE_CREATED, EventKind.ISSUE_LINKED)), {})
    return {
        "reference": mention.reference,
        "heard_at": _iso(mention.heard_at),
        "published_at": _iso(mention.published_at),
        "source": mention.source,
        "source_kind": mention.source_kind,
        "author": mention.author,
        "url": mention.url,
        "title": mention.title,
        "text": mention.text,
        "sentiment": mention.sentiment,
        "polarity": mention.polarity,
        "category": mention.category,
        "urgency": mention.urgency,
        "product": mention.product,
        "matched": mention.matched,
        "lang": mention.lang,
        "rating": mention.rating,
        "app_version": mention.app_version,
        "relevance": mention.relevance,
        "channel": mention.channel,
        "status": mention.status,
        "joined_to": f"M-{mention.duplicate_of}" if mention.duplicate_of else None,
        "owner": mention.owner_id,
        "claimed_at": _iso(mention.claimed_at),
        "first_reply_at": _iso(mention.first_reply_at),
        "resolved_at": _iso(mention.resolved_at),
        "outcome": mention.outcome,
        "seconds_to_claim": _seconds_after(mention.heard_at, first.get(EventKind.CLAIMED)),
        "seconds_to_first_reply": _seconds_after(mention.heard_at, first.get(EventKind.REPLIED)),
        "seconds_to_resolution": _seconds_after(mention.heard_at, mention.resolved_at),
        "escalated_to": list(dict.fromkeys(teams)),
        "tracker_issue": issue.get("key"),
        "tracker_issue_url": issue.get("url"),
        "events": [_event(event) for event in events],
    }


def _event(event: Event) -> dict[str, Any]:
    return {"kind": event.kind, "actor": event.actor, "at": _iso(event.at), "data": event.data}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def _seconds_after(start: datetime, moment: datetime | None) -> int | None:
    return round((moment - start).total_seconds()) if moment else None
