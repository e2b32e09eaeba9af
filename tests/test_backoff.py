"""One backoff for everything that retries: first wait, doubling, a ceiling."""

from datetime import timedelta

import pytest

from bot.ground import outbox
from bot.ground.backoff import Backoff
from bot.hear import polling
from bot.remember import summary_due

SECONDS = Backoff(first=timedelta(seconds=2), most=timedelta(minutes=5))


@pytest.mark.parametrize(("failures", "seconds"), [(0, 2), (1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (50, 300)])
def test_each_failure_doubles_the_wait_up_to_the_ceiling(failures, seconds):
    assert SECONDS.after(failures) == timedelta(seconds=seconds)


def test_a_first_wait_above_the_ceiling_is_cut_to_it():
    assert Backoff(first=timedelta(hours=2), most=timedelta(hours=1)).after(1) == timedelta(hours=1)


def test_a_million_failures_neither_overflow_nor_take_long():
    assert Backoff(first=timedelta(days=1), most=timedelta(days=30)).after(10**6) == timedelta(days=30)


def test_the_outbox_waits_seconds_the_summary_minutes_and_a_source_its_own_interval():
    assert [outbox.RETRY.after(n).total_seconds() for n in (1, 2, 3, 9)] == [2, 4, 8, 300]
    assert [summary_due.retry_delay(n) for n in (1, 2, 6)] == [timedelta(minutes=m) for m in (1, 2, 30)]
    assert polling.backoff(timedelta(minutes=5), 3) == timedelta(minutes=20)
    assert polling.backoff(timedelta(minutes=5), 40) == timedelta(hours=1)
