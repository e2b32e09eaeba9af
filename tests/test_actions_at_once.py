"""Actions that meet another at the same moment, or come after the fact, on SQLite and on PostgreSQL: each ends
in one recorded state, and what the person is told matches what was recorded."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.act import actions
from bot.ground.db import session_scope
from bot.ground.errors import UserError
from bot.ground.models import Event, EventKind, Mention, Outcome
from handlers.commands import snooze_confirmation
from tests.factories import store_mention

ANA, BEN = "U_ANA", "U_BEN"
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def test_a_late_reply_on_a_resolved_mention_sets_no_first_response_time(engine):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=mention_id, user_id=ANA, outcome=Outcome.NO_ACTION, now=T0)

    with session_scope(engine) as session:
        recorded = actions.reply(session, mention_id=mention_id, user_id=BEN, text="Sorry, we missed this", now=T0)

    assert recorded.first is False
    with session_scope(engine) as session:
        mention = session.get(Mention, mention_id)
        replies = [event for event in actions.history(session, mention_id) if event.kind == EventKind.REPLIED]
    assert mention is not None and mention.first_reply_at is None, "nobody answered while it was open"
    assert replies[0].data["first"] is False


def test_a_reply_after_a_reopen_is_the_first_response(engine):
    mention_id = store_mention(engine)
    with session_scope(engine) as session:
        actions.resolve(session, mention_id=mention_id, user_id=ANA, outcome=Outcome.NO_ACTION, now=T0)
        actions.reopen(session, mention_id=mention_id, user_id=ANA, now=T0)
    later = T0 + timedelta(minutes=5)
    with session_scope(engine) as session:
        recorded = actions.reply(session, mention_id=mention_id, user_id=BEN, text="On it", now=later)
    assert recorded.first is True
    with session_scope(engine) as session:
        mention = session.get(Mention, mention_id)
    assert mention is not None and mention.first_reply_at == later


def _at_once(*work):
    """Run each callable on its own thread, all let go at the same moment; their results (or errors) in order."""
    start = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)

    def run(index, job):
        start.wait()
        try:
            results[index] = job()
        except UserError as refused:
            results[index] = refused

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("attempt", range(12))
def test_ana_snoozing_while_ben_wakes_it_ends_in_one_state_and_true_messages(engine, attempt):
    mention_id = store_mention(engine, external_id=f"item-{attempt}")
    with session_scope(engine) as session:
        actions.snooze(session, mention_id=mention_id, user_id=ANA, duration=timedelta(hours=1), now=T0)
    now = T0 + timedelta(minutes=1)

    def snooze_again():
        with session_scope(engine) as session:
            return actions.snooze(session, mention_id=mention_id, user_id=ANA, duration=timedelta(hours=4), now=now)

    def wake():
        with session_scope(engine) as session:
            return actions.snooze(session, mention_id=mention_id, user_id=BEN, duration=timedelta(0), now=now)

    anas, bens = _at_once(snooze_again, wake)

    with session_scope(engine) as session:
        final = session.get(Mention, mention_id)
        events: list[Event] = [e for e in actions.history(session, mention_id) if e.kind != EventKind.CLAIMED]
    assert final is not None
    kinds = [event.kind for event in events[1:]]  # after the first snooze
    assert isinstance(anas, actions.Snoozed), "a snooze is never refused while the mention is open"
    anas_until = now + timedelta(hours=4)
    assert snooze_confirmation(anas).startswith(f"Snoozed M-{mention_id} until <!date^{int(anas_until.timestamp())}")

    if isinstance(bens, UserError):  # Ana's snooze came first and Ben found… a snooze: he must have woken it
        pytest.fail(f"Ben's wake was refused although the mention was snoozed either way: {bens}")
    assert snooze_confirmation(bens) == f"M-{mention_id} is awake: its SLA timers run again."

    woke_first = kinds == [EventKind.UNSNOOZED, EventKind.SNOOZED]
    assert woke_first or kinds == [EventKind.SNOOZED, EventKind.UNSNOOZED], kinds
    snoozed_event = next(event for event in events[1:] if event.kind == EventKind.SNOOZED)
    if woke_first:
        assert final.snoozed_until == anas_until
        assert anas.replaced is None and snoozed_event.data["replaced"] is None, "it was awake when Ana snoozed it"
        assert "(it was snoozed until" not in snooze_confirmation(anas)
    else:
        assert final.snoozed_until is None
        assert anas.replaced == T0 + timedelta(hours=1)
        assert snoozed_event.data["replaced"] == anas.replaced.isoformat()
