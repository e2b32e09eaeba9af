"""The summary's most negative mention still open is looked for among the most negative first, a batch at a time:
it is found however many angrier ones were resolved before the week ended."""

from bot.act import actions
from bot.ground.db import session_scope
from bot.ground.models import Outcome
from bot.remember.counting import OPEN_CANDIDATES, weekly_figures
from tests.test_metrics import ANA, W47, at, hear


def test_past_a_whole_batch_of_angrier_mentions_all_resolved_the_open_one_is_found(engine):
    angrier = [hear(engine, f"a{n}", at(17, 9, n % 60), polarity=-0.99 + n / 10_000) for n in range(OPEN_CANDIDATES)]
    still_open = hear(engine, "open", at(18, 9), polarity=-0.5)
    hear(engine, "milder", at(18, 10), polarity=-0.2)
    with session_scope(engine) as session:
        for mention_id in angrier:
            actions.resolve(session, mention_id=mention_id, user_id=ANA, outcome=Outcome.ANSWERED, now=at(19, 9))
    with session_scope(engine) as session:
        found = weekly_figures(session, W47, now=at(25, 12)).most_negative_open
    assert found is not None and found.id == still_open
