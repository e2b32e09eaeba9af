"""A page of mentions written as JSON by PostgreSQL itself, for the read API.

Turning a page's 100 rows into Python objects, validating them and writing them out again was most of what a page
cost the web process (bench/RESULTS.md). PostgreSQL writes the same text, at about as much CPU of its own, but in
its own processes, on any core, where the web process's threads take turns at one interpreter lock; the web process
only passes the text on. Each value is written as pydantic writes the API's model (compact, datetimes in UTC with
`Z` and microseconds only when there are some, floats by the shortest digits that read back the same): the read
API's tests compare the two byte for byte."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    Connection,
    Integer,
    Select,
    TypeDecorator,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import Label

from bot.ground.db import UTCDateTime
from bot.remember.mention_pages import COLUMNS, MentionFilter, Position, kept_page, page_values


@dataclass(frozen=True)
class Shown:
    """One key of a mention's JSON object, in the order shown: the column it comes from, and whether that column
    holds a mention's id, shown as its reference (`M-7`)."""

    key: str
    column: str
    reference: bool = False


@dataclass(frozen=True)
class JsonPage:
    mentions: str
    """The mentions' JSON objects, comma-separated: what goes between a JSON array's brackets."""
    more: bool
    """Whether mentions stored now come after this page."""
    last: Position | None
    """Where its last mention was heard; None when it is empty."""

    def end(self, start: Position | None) -> Position | None:
        """Where the next page starts: after its last mention, or where this one started when it is empty."""
        return self.last or start


# A float as pydantic writes it (Rust's shortest round-trip digits): decimal from 1e-5 up to 1e16 with ".0" on a
# whole number, an exponent without leading zeros outside that, null for NaN and the infinities. PostgreSQL
# prints the same shortest digits (extra_float_digits = 1, its default) but switches to an exponent outside 1e-4
# to 1e15; between those bounds and pydantic's, the digits are read as a numeric, which prints them in full.
_NUMBER = """CASE
 WHEN {0} = 'NaN' OR {0} IN ('Infinity', '-Infinity') THEN 'null'
 WHEN {0} = 0 THEN {0}::text || '.0'
 WHEN abs({0}) >= 1e-4 AND abs({0}) < 1e15
  THEN {0}::text || CASE WHEN {0} = trunc({0}) THEN '.0' ELSE '' END
 WHEN abs({0}) >= 1e-5 AND abs({0}) < 1e16
  THEN {0}::text::numeric::text || CASE WHEN {0} = trunc({0}) THEN '.0' ELSE '' END
 ELSE regexp_replace({0}::text, 'e([+-])0*', 'e\\1')
END"""

# A moment as pydantic writes an aware datetime in UTC: `Z`, and the microseconds only when there are some.
_MOMENT = """'"' || to_char({0} AT TIME ZONE 'UTC', CASE
 WHEN date_trunc('second', {0}) = {0} THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
 ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
END) || '"'"""


def _python_type(column: Column[Any]) -> type:
    if isinstance(column.type, UTCDateTime):
        return datetime
    kind = column.type
    return (kind.impl_instance if isinstance(kind, TypeDecorator) else kind).python_type


def _value(column: Column[Any], *, reference: bool) -> str:
    """The SQL that writes `column` of a mention as a JSON value."""
    name = f"mention.{column.name}"
    kind = _python_type(column)
    if reference:
        written = f"""'"M-' || {name} || '"'"""
    elif kind in (bool, int):
        written = f"{name}::text"
    elif kind is float:
        written = _NUMBER.format(name)
    elif kind is datetime:
        written = _MOMENT.format(name)
    elif kind is str:
        written = f"to_json({name})::text"
    else:
        raise TypeError(f"no JSON form for mention.{column.name} ({column.type})")
    return f"COALESCE({written}, 'null')" if column.nullable else written


def _object(shown: Sequence[Shown]) -> str:
    """The SQL that writes a mention as the JSON object `shown` describes, keys in that order."""
    parts = []
    for n, field in enumerate(shown):
        if not field.key.isidentifier() or field.column not in COLUMNS:
            raise ValueError(f"cannot show {field}")
        parts.append(f"""'{"{" if n == 0 else ","}"{field.key}":'""")
        parts.append(_value(COLUMNS[field.column], reference=field.reference))
    return " || ".join(parts) + " || '}'"


class JsonPages:
    """Pages of `mention_pages.mention_page`, each mention written as `shown` says, in one statement on PostgreSQL:
    the page's objects joined in one text, whether more follow, and where the page ends."""

    def __init__(self, shown: Sequence[Shown]) -> None:
        self._shown: Label[str] = literal_column(_object(shown)).label("shown")
        self._compiled: dict[frozenset[str], str] = {}

    def page(self, connection: Connection, kept: MentionFilter, *, after: Position | None, limit: int) -> JsonPage:
        values = page_values(kept, after=after, limit=limit)
        narrowed = frozenset(values)
        if narrowed not in self._compiled:  # two threads may compile it both: the same text
            self._compiled[narrowed] = str(self._statement(narrowed).compile(dialect=connection.dialect))
        # Its text as compiled: SQLAlchemy would otherwise work out the cache key of this long statement each time.
        mentions, found, last_heard, last_id = connection.exec_driver_sql(self._compiled[narrowed], values).one()
        return JsonPage(
            mentions or "",
            more=found > limit,
            last=Position(last_heard, last_id) if last_heard is not None else None,
        )

    def _statement(self, narrowed: frozenset[str]) -> Select[Any]:
        heard_at, mention_id = COLUMNS.heard_at, COLUMNS.id
        n = func.row_number().over(order_by=(heard_at, mention_id)).label("n")
        rows = kept_page(select(heard_at, mention_id, self._shown, n), narrowed).subquery()
        on_page = rows.c.n <= bindparam("limit", type_=Integer)
        last_first = aggregate_order_by(rows.c.id, rows.c.n.desc())
        return select(
            func.string_agg(rows.c.shown, aggregate_order_by(literal_column("','"), rows.c.n)).filter(on_page),
            func.count(),
            func.max(rows.c.heard_at).filter(on_page),
            func.array_agg(last_first, type_=ARRAY(Integer)).filter(on_page)[literal_column("1", Integer)],
        )
