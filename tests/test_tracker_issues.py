"""Tracker issues in the database, on SQLite and PostgreSQL: a shipping is told once however often it is heard,
each person who handled a linked mention is told once, each customer is told once, a refusal is told once,
and the evidence counts each customer once."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.act import actions
from bot.act.trackers import Issue
from bot.act.trackers.evidence import evidence_of, section
from bot.act.trackers.issues import link_issue, refused, seen, tell_customer
from bot.ground.clock import utcnow
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.models import Event, EventKind, Outbox, OutboxKind, TrackerIssue, TrackerIssueState
from bot.remember.product_loop import product_loop
from tests.factories import store_mention

ISSUE = Issue(
    ref="28", key="GH-28", url="https://github.com/acme/app/issues/28", title="SSO", state=TrackerIssueState.OPEN
)


def linked(engine, *authors: str) -> tuple[int, list[int]]:
    mentions = []
    for number, author in enumerate(authors):
        mention_id = store_mention(engine, external_id=f"m{number}", author=author, text=f"Acme needs SSO {number}")
        with session_scope(engine) as session:
            row = link_issue(session, mention_id=mention_id, user_id="U_BEN", tracker="github", issue=ISSUE)
        mentions.append(mention_id)
    return row.id or 0, mentions


def kinds(engine, kind: EventKind) -> list[Event]:
    with read_scope(engine) as session:
        return list(session.exec(select(Event).where(col(Event.kind) == kind).order_by(col(Event.id))))


def dms(engine) -> list[str]:
    with read_scope(engine) as session:
        return sorted(
            row.channel or "" for row in session.exec(select(Outbox).where(col(Outbox.kind) == OutboxKind.SHIPPED_DM))
        )


def test_a_shipping_heard_twice_is_told_once_and_each_handler_once(engine):
    issue_id, (first, second) = linked(engine, "pat", "sam")
    with session_scope(engine) as session:
        actions.claim(session, mention_id=first, user_id="U_ANA")
        actions.reply(session, mention_id=second, user_id="U_ANA", text="On it")
    with session_scope(engine) as session:
        assert seen(session, issue_id=issue_id, state=TrackerIssueState.DONE) is True
    with session_scope(engine) as session:
        assert seen(session, issue_id=issue_id, state=TrackerIssueState.DONE) is False, "the webhook, then the poll"
    assert [event.mention_id for event in kinds(engine, EventKind.ISSUE_SHIPPED)] == [first, second]
    assert dms(engine) == ["U_ANA"], "Ana claimed one and answered the other: one message"

    with session_scope(engine) as session:
        seen(session, issue_id=issue_id, state=TrackerIssueState.OPEN)
        row = session.get(TrackerIssue, issue_id)
        assert row.state == TrackerIssueState.OPEN and row.shipped_at is None
    assert [event.data["was"] for event in kinds(engine, EventKind.ISSUE_REOPENED)] == ["done", "done"]


def test_each_customer_is_told_once(engine):
    issue_id, (first,) = linked(engine, "pat")
    with session_scope(engine) as session, pytest.raises(UserError, match="no shipped issue"):
        tell_customer(session, mention_id=first, user_id="U_ANA", text="Shipped!", on_source=False)
    with session_scope(engine) as session:
        seen(session, issue_id=issue_id, state=TrackerIssueState.DONE, now=utcnow() - timedelta(hours=2))
    with session_scope(engine) as session:
        told = tell_customer(
            session, mention_id=first, user_id="U_ANA", text="Shipped!", on_source=False, told_at="https://x.example/1"
        )
    assert told.data["via"] == "recorded" and told.data["told_at"] == "https://x.example/1"
    assert 7100 <= told.data["after_seconds"] <= 7300
    refusal = pytest.raises(UserError, match="<@U_ANA> told this customer already that GH-28 shipped")
    with session_scope(engine) as session, refusal:
        tell_customer(session, mention_id=first, user_id="U_BEN", text="Shipped!", on_source=False)
    assert len(kinds(engine, EventKind.CUSTOMER_TOLD)) == 1
    assert [e.data["text"] for e in kinds(engine, EventKind.REPLIED)] == ["Shipped!"], "recorded as a reply too"


def test_a_revoked_token_is_told_once_and_a_deleted_issue_in_every_thread(engine):
    issue_id, (first, second) = linked(engine, "pat", "sam")
    for _ in range(3):
        with session_scope(engine) as session:
            refused(session, issue_id=issue_id, problem="HTTP 401 (Bad credentials)", gone=False)
    assert [event.mention_id for event in kinds(engine, EventKind.ISSUE_TROUBLE)] == [first]
    with session_scope(engine) as session:
        seen(session, issue_id=issue_id, state=TrackerIssueState.OPEN)  # the token works again
        refused(session, issue_id=issue_id, problem="HTTP 410 (This issue was deleted)", gone=True)
    with session_scope(engine) as session:
        assert seen(session, issue_id=issue_id, state=TrackerIssueState.DONE) is False, "no longer watched"
        assert session.get(TrackerIssue, issue_id).state == TrackerIssueState.GONE
    assert [event.mention_id for event in kinds(engine, EventKind.ISSUE_TROUBLE)] == [first, first, second]


def test_linking_twice_is_refused_and_the_evidence_counts_each_customer_once(engine):
    issue_id, (first, _, _) = linked(engine, "pat", "Pat", "sam")
    with session_scope(engine) as session:
        with pytest.raises(UserError, match="evidence on GH-28 already"):
            link_issue(session, mention_id=first, user_id="U_ANA", tracker="github", issue=ISSUE)
        evidence = evidence_of(session, issue_id)
    assert evidence is not None and evidence.customers == 2, "pat and Pat on one source are one customer"
    assert evidence.by_source == [("status-feed", 3)]
    text = section(evidence)
    assert "**2 customers**, 3 mention(s): status-feed 3." in text and text.count("> Acme needs SSO") == 3
    with read_scope(engine) as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == OutboxKind.TRACKER_EVIDENCE)).all()
    assert len(rows) == 3, "each link brings the evidence up to date"


def test_a_telling_the_source_refused_can_be_made_again(engine):
    issue_id, (first,) = linked(engine, "pat")
    with session_scope(engine) as session:
        seen(session, issue_id=issue_id, state=TrackerIssueState.DONE)
    with session_scope(engine) as session:
        told = tell_customer(session, mention_id=first, user_id="U_ANA", text="Shipped!", on_source=True)
    with session_scope(engine) as session:
        reply = session.get(Event, told.data["reply_event_id"])
        actions.sent_to_source(session, reply_event=reply, error="answered HTTP 502")
    with session_scope(engine) as session:
        again = tell_customer(session, mention_id=first, user_id="U_ANA", text="Shipped!", on_source=False)
    assert again.data["via"] == "recorded"
    with read_scope(engine) as session:
        loop = product_loop(session, utcnow() - timedelta(days=1), utcnow() + timedelta(minutes=1))
    assert (loop.told, loop.to_tell, [issue.customers for issue in loop.shipped]) == (1, 1, [1])
