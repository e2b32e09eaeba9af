"""A year of a busy deployment, generated inside PostgreSQL (`INSERT … SELECT … FROM generate_series`), for the
scale and memory benches; `copy_to` carries it into another database (SQLite) row by row.

Shapes: volume grows through the year (the last week is the busiest, about 4% of the year's mentions);
eight sources, a few dozen topics with a long tail, four channels chosen as the routes would; 3% of posts
joined to one heard first; most mentions claimed (waits mostly minutes, some hours), answered, some
answered twice or on the source, resolved with an outcome, a few unclaimed and claimed again, reopened,
snoozed or escalated (most escalations acknowledged); SLA nudges for the slow ones; about 1% in storms; 400
tracker issues made from feedback, with 4% of the feedback linked to them, a third shipped and most of their
customers told.
Mentions too recent for an action are still open, as are about 6% of old ones (most never claimed). The
mention rows hold the state the events lead to, as the bot keeps them. Seeded: the same `mentions` and `now`
give the same rows.
"""

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, insert, select, text
from sqlmodel import SQLModel

import bot.ground.models  # noqa: F401  (the tables copied)

PEOPLE = 60
"""Owners, `U0000` … `U0059`: a few do most of the work."""
SPAN_DAYS = 365
STORM_EVERY = 5000
"""One storm of 50 consecutive mentions in every this many."""

_GEN = """
CREATE TEMP TABLE gen AS
WITH r AS (
    SELECT i, random() a, random() b, random() c, random() d, random() e, random() f, random() g, random() h,
           random() k, random() l, random() m, random() m2, random() n, random() n2, random() o, random() p,
           random() q, random() s, random() s2, random() u, random() v, random() w, random() x, random() x2
    FROM generate_series(1, :n) i
), base AS (
    SELECT r.*,
           CAST(:now AS timestamptz) - interval '1 day' * :days * (1 - sqrt((i - 0.5) / :n)) AS heard,
           1.6 * d - 0.9 AS polarity,
           (ARRAY['reddit','hackernews','bluesky','mastodon','stackexchange','github','google-alerts','g2-reviews'])
               [1 + floor(8 * h ^ 1.5)::int] AS source,
           CASE WHEN g < 0.72 THEN (ARRAY['outage','down','not working','broken','crash','error','bug','data loss',
               'breach','hacked','security','privacy','slow','login','password','billing','invoice','refund',
               'charged','price','pricing','cancel','cancelled','delay','delayed','late','lost','support'])
               [1 + floor(28 * (g / 0.72) ^ 2)::int] END AS topic,
           q < 0.03 AND i > 100 AS joined,
           (i / 50) % (:storm_every / 50) = 0 AS stormy
    FROM r
), triaged AS (
    SELECT base.*,
           CASE WHEN polarity < -0.1 THEN 'negative' WHEN polarity > 0.2 THEN 'positive' ELSE 'neutral' END
               AS sentiment,
           CASE WHEN polarity < -0.1 THEN (CASE WHEN e < 0.75 THEN 'complaint' WHEN e < 0.9 THEN 'question'
                                               ELSE 'other' END)
                WHEN polarity > 0.2 THEN (CASE WHEN e < 0.6 THEN 'praise' WHEN e < 0.75 THEN 'feature request'
                                              WHEN e < 0.85 THEN 'question' ELSE 'other' END)
                ELSE (CASE WHEN e < 0.45 THEN 'question' WHEN e < 0.65 THEN 'feature request' ELSE 'other' END)
           END AS category,
           CASE WHEN f < 0.1 THEN 'high' WHEN f < 0.4 THEN 'low' ELSE 'normal' END AS urgency,
           heard + interval '1 minute' * -ln(1 - l) * 20 * (1 + 5 * (k > 0.8)::int) AS claim_at,
           'U' || lpad(floor(:people * p ^ 2)::int::text, 4, '0') AS person
    FROM base
), acted AS (
    SELECT triaged.*,
           CASE WHEN polarity < -0.1 THEN 'C0URGENT'
                WHEN topic IN ('billing','invoice','refund','charged','price','pricing') THEN 'C0BILLING'
                WHEN category = 'feature request' THEN 'C0PRODUCT' ELSE 'C0LISTEN' END AS channel,
           CASE WHEN NOT joined AND k < 0.9 AND claim_at < :now THEN claim_at END AS claimed_at,
           claim_at + interval '1 minute' * -ln(1 - m2) * 40 AS reply_at
    FROM triaged
), replied AS (
    SELECT acted.*,
           CASE WHEN claimed_at IS NOT NULL AND m < 0.8 AND reply_at < :now THEN reply_at END AS first_reply_at
    FROM acted
), resolved AS (
    SELECT replied.*,
           CASE WHEN claimed_at IS NOT NULL AND n < 0.98
                     AND coalesce(first_reply_at, claimed_at) + interval '1 hour' * -ln(1 - n2) * 8 < :now
                THEN coalesce(first_reply_at, claimed_at) + interval '1 hour' * -ln(1 - n2) * 8
                WHEN claimed_at IS NULL AND NOT joined AND n < 0.5 AND heard + interval '2 hours' < :now
                THEN heard + interval '2 hours' * n2 END AS resolved_at
    FROM replied
)
SELECT resolved.*,
       CASE WHEN resolved_at IS NULL THEN NULL WHEN claimed_at IS NULL THEN
                (CASE WHEN o < 0.6 THEN 'spam' ELSE 'no-action' END)
            WHEN o < 0.4 THEN 'answered' WHEN o < 0.55 THEN 'fixed' WHEN o < 0.7 THEN 'feedback'
            WHEN o < 0.85 THEN 'thanked' WHEN o < 0.95 THEN 'no-action' ELSE 'spam' END AS outcome,
       claimed_at IS NOT NULL AND w < 0.04 AS reclaimed,
       resolved_at IS NOT NULL AND claimed_at IS NOT NULL AND v < 0.03 AS reopened,
       resolved_at IS NOT NULL AND claimed_at IS NOT NULL AND s < 0.05 AS escalated,
       resolved_at IS NOT NULL AND claimed_at IS NOT NULL AND u < 0.03 AS snoozed
FROM resolved
"""

_STORMS = """
INSERT INTO storm (id, channel, topic, counted_from, started_at, last_at, card_channel, card_ts, refresh_queued)
SELECT i / :storm_every + 1, 'C0URGENT', 'down', min(heard) - interval '15 minutes', min(heard), max(heard),
       'C0URGENT', extract(epoch FROM min(heard))::bigint || '.000001', false
FROM gen WHERE stormy AND NOT joined GROUP BY i / :storm_every
"""

_MENTIONS = """
INSERT INTO mention (id, source, source_kind, external_id, url, author, title, text, published_at, heard_at,
    polarity, sentiment, category, urgency, needs_human, author_reach, canonical_url, duplicate_of, storm_id,
    forwarded_by, topic, thread, reply_to, channel, card_channel, card_ts, status, owner_id, claimed_at,
    first_reply_at, outcome, resolved_at, snoozed_until)
SELECT i, source, CASE WHEN source IN ('google-alerts', 'g2-reviews') THEN 'rss' ELSE source END,
       source || '-' || i, 'https://' || source || '.example.com/post/' || i,
       'customer' || floor(200000 * a ^ 3)::int,
       CASE WHEN b < 0.4 THEN 'Acme ' || coalesce(topic, 'question') || ' #' || i END,
       'Acme ' || coalesce(topic, 'and me') || ': ' || md5(i::text) || ' '
           || left(md5((i + 1)::text), 10 + (c * 20)::int),
       heard - interval '3 minutes' * c, heard, polarity, sentiment, category, urgency, polarity < -0.1,
       CASE WHEN a < 0.5 THEN floor(1000 / (1.001 - a))::int END,
       'https://' || source || '.example.com/post/' || i,
       CASE WHEN joined THEN i - 1 - floor(q * 1000)::int END,
       CASE WHEN stormy AND NOT joined THEN i / :storm_every + 1 END,
       NULL, topic, NULL, NULL, CASE WHEN stormy THEN 'C0URGENT' ELSE channel END,
       CASE WHEN NOT joined THEN channel END,
       CASE WHEN NOT joined THEN extract(epoch FROM heard)::bigint || '.' || lpad((i % 1000000)::text, 6, '0') END,
       CASE WHEN joined THEN 'joined' WHEN resolved_at IS NOT NULL THEN 'resolved' ELSE 'open' END,
       CASE WHEN claimed_at IS NOT NULL THEN person END, claimed_at, first_reply_at, outcome, resolved_at, NULL
FROM gen
"""

# Every event a mention's history holds, in time order so ids grow with time as the bot writes them.
_EVENTS = """
INSERT INTO event (mention_id, kind, actor, at, data)
SELECT mention_id, kind, actor, at, data FROM (
    SELECT i AS mention_id, 'posted' AS kind, NULL AS actor, heard + interval '1 second' AS at,
           json_build_object('channel', channel, 'ts', extract(epoch FROM heard)::bigint || '.000100') AS data
    FROM gen WHERE NOT joined
    UNION ALL
    SELECT i - 1 - floor(q * 1000)::int, 'also_heard', NULL, heard,
           json_build_object('mention_id', i, 'source', source, 'url', 'https://x.example.com/' || i,
                             'author', 'someone', 'text', 'the same post')
    FROM gen WHERE joined
    UNION ALL
    SELECT i, 'nudged', NULL, heard + interval '20 minutes', json_build_object('step', 'claim', 'to', 'channel')
    FROM gen WHERE NOT joined AND coalesce(claimed_at, :now) > heard + interval '20 minutes'
                   AND heard + interval '20 minutes' < :now
    UNION ALL
    SELECT i, 'claimed', 'U' || lpad(((floor(:people * p ^ 2)::int + 7) % :people)::text, 4, '0'),
           heard + (claimed_at - heard) / 3, '{}'::json
    FROM gen WHERE reclaimed
    UNION ALL
    SELECT i, 'unclaimed', 'U' || lpad(((floor(:people * p ^ 2)::int + 7) % :people)::text, 4, '0'),
           heard + (claimed_at - heard) * 2 / 3, '{}'::json
    FROM gen WHERE reclaimed
    UNION ALL
    SELECT i, 'claimed', person, claimed_at, '{}'::json FROM gen WHERE claimed_at IS NOT NULL
    UNION ALL
    SELECT i, 'nudged', NULL, claimed_at + interval '30 minutes', json_build_object('step', 'reply', 'to', 'owner')
    FROM gen WHERE claimed_at IS NOT NULL AND coalesce(first_reply_at, resolved_at, :now)
                   > claimed_at + interval '30 minutes' AND claimed_at + interval '30 minutes' < :now
    UNION ALL
    SELECT i, 'snoozed', person, claimed_at + (resolved_at - claimed_at) / 10,
           json_build_object('until', to_char(claimed_at + (resolved_at - claimed_at) * 3 / 10,
                                              'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'replaced', NULL)
    FROM gen WHERE snoozed
    UNION ALL
    SELECT i, 'unsnoozed', NULL, claimed_at + (resolved_at - claimed_at) * 3 / 10,
           json_build_object('until', to_char(claimed_at + (resolved_at - claimed_at) * 3 / 10,
                                              'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))
    FROM gen WHERE snoozed
    UNION ALL
    SELECT i, 'escalated', person, claimed_at + (resolved_at - claimed_at) / 5,
           json_build_object('team', CASE WHEN s2 < 0.6 THEN 'support' ELSE 'product' END, 'reason', 'needs a look')
    FROM gen WHERE escalated
    UNION ALL
    SELECT i, 'acknowledged', 'U' || lpad(((floor(:people * p ^ 2)::int + 3) % :people)::text, 4, '0'),
           claimed_at + (resolved_at - claimed_at) / 5 + interval '1 minute' * -ln(1 - s2) * 30, '{}'::json
    FROM gen WHERE escalated AND s2 < 0.8
    UNION ALL
    SELECT i, 'replied', person, first_reply_at, json_build_object('text', 'Thanks, we are on it', 'first', true)
    FROM gen WHERE first_reply_at IS NOT NULL
    UNION ALL
    SELECT i, 'sent_to_source', NULL, first_reply_at + interval '2 seconds',
           json_build_object('url', 'https://' || source || '.example.com/reply/' || i, 'error', NULL)
    FROM gen WHERE first_reply_at IS NOT NULL AND x2 < 0.3
    UNION ALL
    SELECT i, 'replied', person, first_reply_at + (resolved_at - first_reply_at) / 2,
           json_build_object('text', 'Fixed now, sorry for the wait', 'first', false)
    FROM gen WHERE first_reply_at IS NOT NULL AND resolved_at IS NOT NULL AND x < 0.5
    UNION ALL
    SELECT i, 'resolved', person, coalesce(first_reply_at, claimed_at) + (resolved_at - coalesce(first_reply_at,
           claimed_at)) / 2, json_build_object('outcome', 'answered', 'note', NULL)
    FROM gen WHERE reopened
    UNION ALL
    SELECT i, 'reopened', person, coalesce(first_reply_at, claimed_at) + (resolved_at - coalesce(first_reply_at,
           claimed_at)) * 3 / 4, '{}'::json
    FROM gen WHERE reopened
    UNION ALL
    SELECT i, 'resolved', coalesce(CASE WHEN claimed_at IS NOT NULL THEN person END, 'U0000'), resolved_at,
           json_build_object('outcome', outcome, 'note',
                             CASE WHEN outcome = 'feedback' THEN 'wants ' || coalesce(topic, 'more') END)
    FROM gen WHERE resolved_at IS NOT NULL
) AS history
ORDER BY at, mention_id
"""

# What the bot keeps on the mention as it records a first claim and a first resolve (`bot.act.actions`).
_FIRSTS = """
UPDATE mention SET first_claimed_at = firsts.claimed, first_resolved_at = firsts.resolved
FROM (SELECT mention_id, min(at) FILTER (WHERE kind = 'claimed') AS claimed,
             min(at) FILTER (WHERE kind = 'resolved') AS resolved
      FROM event WHERE kind IN ('claimed', 'resolved') GROUP BY mention_id) AS firsts
WHERE mention.id = firsts.mention_id
"""

_ESCALATIONS = """
INSERT INTO escalation (mention_id, event_id, team, channel, usergroup, reason, escalated_by, escalated_at,
    acknowledged_by, acknowledged_at)
SELECT e.mention_id, e.id, e.data ->> 'team', CASE WHEN e.data ->> 'team' = 'support' THEN 'C0SUPPORT'
       ELSE 'C0PRODUCT' END, NULL, e.data ->> 'reason', e.actor, e.at, ack.actor, ack.at
FROM event e LEFT JOIN event ack ON ack.mention_id = e.mention_id AND ack.kind = 'acknowledged'
WHERE e.kind = 'escalated'
"""

# The product loop (`bot.remember.product_loop`): tracker issues made from feedback through the year, one in three
# of them shipped 10 to 60 days later and one in ten closed as won't-do; 4% of the feedback resolves linked to one
# of the issues made before them (mostly recent ones), each issue's first mention to it; the issue made, the links,
# the shippings and the customers told (three in five, hours after shipping) as events, as the bot records them
# (`bot.act.trackers.issues`).
_ISSUES = """
INSERT INTO trackerissue (tracker, key, ref, url, title, state, created_at, created_from, shipped_at, checked_at)
SELECT 'github', 'GH-' || n, n::text, 'https://github.com/acme/app/issues/' || n, 'What customers asked for, #' || n,
       CASE WHEN shipped < :now THEN 'done' WHEN r > 0.9 THEN 'closed' ELSE 'open' END, created,
       (SELECT mention_id FROM event WHERE kind = 'resolved' AND data ->> 'outcome' = 'feedback' AND at <= created
        ORDER BY at DESC LIMIT 1),
       CASE WHEN shipped < :now THEN shipped END, :now
FROM (SELECT n, r, created, CASE WHEN r < 0.35 THEN created + interval '1 day' * (10 + 50 * r / 0.35) END AS shipped
      FROM (SELECT n, random() AS r,
                   CAST(:now AS timestamptz) - interval '1 day' * :days * (1 - (n - 0.5) / :issues) AS created
            FROM generate_series(1, :issues) n) AS drawn) AS issues
"""

_MADE_FROM = """
UPDATE mention SET tracker_issue_id = made.issue
FROM (SELECT created_from, min(id) AS issue FROM trackerissue GROUP BY created_from) AS made
WHERE mention.id = made.created_from
"""

_LINKS = """
UPDATE mention SET tracker_issue_id = issue.id
FROM (SELECT mention_id, greatest(1, made - floor(made * random() ^ 3)::int) AS n
      FROM (SELECT DISTINCT ON (mention_id) mention_id, random() AS r,  -- made: how many issues were made by then
                   floor(:issues * (1 - extract(epoch FROM CAST(:now AS timestamptz) - at) / 86400 / :days) + 0.5)::int
                       AS made
            FROM event WHERE kind = 'resolved' AND data ->> 'outcome' = 'feedback'
            ORDER BY mention_id, at DESC) AS feedback
      WHERE r < 0.04 AND made >= 1) AS picked
JOIN trackerissue issue ON issue.key = 'GH-' || picked.n
WHERE mention.id = picked.mention_id AND mention.tracker_issue_id IS NULL
"""

# Linked when made from it, else a minute after its (last) feedback resolve; told of a shipping only when linked
# before it.
_ISSUE_EVENTS = """
WITH last_feedback AS (
    SELECT DISTINCT ON (mention_id) mention_id, at FROM event
    WHERE kind = 'resolved' AND data ->> 'outcome' = 'feedback' ORDER BY mention_id, at DESC
), linked AS (
    SELECT m.id AS mention_id, t.id AS issue, t.key, t.url, t.title, t.shipped_at, t.created_from = m.id AS made,
           CASE WHEN t.created_from = m.id THEN t.created_at ELSE f.at + interval '1 minute' END AS linked_at,
           json_build_object('issue_id', t.id, 'tracker', t.tracker, 'key', t.key, 'url', t.url, 'title', t.title)
               AS about
    FROM mention m JOIN trackerissue t ON t.id = m.tracker_issue_id
    LEFT JOIN last_feedback f ON f.mention_id = m.id
), shipped AS (
    SELECT linked.*, random() AS r, shipped_at + interval '1 hour' * -ln(1 - random()) * 6 AS told
    FROM linked WHERE shipped_at >= linked_at
)
INSERT INTO event (mention_id, kind, actor, at, data)
SELECT mention_id, kind, actor, at, data FROM (
    SELECT mention_id, 'issue_created' AS kind, 'U0001' AS actor, linked_at AS at, about AS data
    FROM linked WHERE made
    UNION ALL
    SELECT mention_id, 'issue_linked', 'U0002', linked_at, about FROM linked WHERE NOT made
    UNION ALL
    SELECT mention_id, 'issue_shipped', NULL, shipped_at, about FROM shipped
    UNION ALL
    SELECT mention_id, 'customer_told', 'U0003', told, json_build_object('via', 'recorded', 'told_at', url,
           'reply_event_id', NULL, 'after_seconds', round(extract(epoch FROM told - shipped_at)), 'issue_id', issue,
           'tracker', 'github', 'key', key, 'url', url, 'title', title)
    FROM shipped WHERE r < 0.6 AND told < :now
) AS loop
ORDER BY at, mention_id
"""

_SEQUENCES = """
SELECT setval(pg_get_serial_sequence('mention', 'id'), (SELECT max(id) FROM mention));
SELECT setval(pg_get_serial_sequence('storm', 'id'), (SELECT coalesce(max(id), 1) FROM storm));
"""
ISSUES = 400
"""Tracker issues made from feedback through the year."""
_LOOP = (
    ("tracker issues", _ISSUES),
    ("their first mentions", _MADE_FROM),
    ("links", _LINKS),
    ("tracker events", _ISSUE_EVENTS),
)


def load(engine: Engine, *, mentions: int, now: datetime, say: Callable[[str], None] = print) -> None:
    """Fill an empty, migrated PostgreSQL database; VACUUM ANALYZE it, as autovacuum would have by then."""
    params = {
        "n": mentions,
        "now": now,
        "days": SPAN_DAYS,
        "people": PEOPLE,
        "storm_every": STORM_EVERY,
        "issues": ISSUES,
    }
    with engine.connect() as connection:
        connection.execute(text("SET work_mem = '256MB'"))
        connection.execute(text("SET TIME ZONE 'UTC'"))
        connection.execute(text("SELECT setseed(0.42)"))
        for name, statement in (
            ("draw", _GEN),
            ("storms", _STORMS),
            ("mentions", _MENTIONS),
            ("events", _EVENTS),
            ("first claims and resolves", _FIRSTS),
            ("escalations", _ESCALATIONS),
            ("sequences", _SEQUENCES),
            *_LOOP,
        ):
            started = time.perf_counter()
            result = connection.execute(text(statement), params)
            say(f"  {name}: {result.rowcount:,} rows in {time.perf_counter() - started:.0f} s")
        connection.execute(text("DROP TABLE gen"))
        connection.commit()
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    say(f"  vacuum analyze: {time.perf_counter() - started:.0f} s")


def link_issues(engine: Engine, *, now: datetime, say: Callable[[str], None] = print) -> None:
    """Add the product loop to a database loaded before `load` made it (its tracker issues empty), as `load` does."""
    with engine.connect() as connection:
        if connection.execute(text("SELECT count(*) FROM trackerissue")).scalar_one():
            return
        connection.execute(text("SET TIME ZONE 'UTC'"))
        connection.execute(text("SELECT setseed(0.43)"))
        params = {"now": now, "days": SPAN_DAYS, "issues": ISSUES}
        for name, statement in _LOOP:
            started = time.perf_counter()
            result = connection.execute(text(statement), params)
            say(f"  {name}: {result.rowcount:,} rows in {time.perf_counter() - started:.0f} s")
        connection.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE mention, event, trackerissue"))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("mention", "event", "escalation", "storm", "trackerissue")
        }


def copy_to(source: Engine, target: Engine, *, batch: int = 5000) -> None:
    """Copy the generated tables into another migrated database (SQLite), parents first."""
    for name in ("storm", "mention", "event", "escalation"):
        table = SQLModel.metadata.tables[name]
        with source.connect() as reading, target.begin() as writing:
            rows = reading.execution_options(stream_results=True, yield_per=batch).execute(
                select(table).order_by(table.c.id)
            )
            for chunk in rows.mappings().partitions(batch):
                writing.execute(insert(table), [dict(row) for row in chunk])
