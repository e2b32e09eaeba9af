"""The database going away just as Slack takes a post: the outbox, in process, on real PostgreSQL behind a proxy
the test cuts. Where the message landed is written down once the database is back, so the row is not left
leased, holding back everything else about its mention until the lease runs out."""

import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse
from sqlmodel import select

from bot.act import actions
from bot.app.standin.slack import BOT_TOKEN
from bot.ground import migrate
from bot.ground.db import make_engine, session_scope
from bot.ground.mentions import get_mention
from bot.ground.models import Outbox, OutboxStatus
from bot.slack.delivery import Deliverer
from tests.factories import store_mention
from tests.tcpproxy import TcpProxy

OUTAGE = 3.0


class _DatabaseGoesAwayAsSlackAnswers(WebClient):
    """Slack's Web API, except that the database goes away for `OUTAGE` seconds the moment Slack has answered
    the first call: after Slack took the post, before the bot could write down where it landed."""

    def __init__(self, proxy: TcpProxy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._proxy = proxy
        self.cut_at: float | None = None

    def api_call(self, *args: Any, **kwargs: Any) -> SlackResponse:
        answer = super().api_call(*args, **kwargs)
        if self.cut_at is None:
            self._proxy.cut()
            self.cut_at = time.monotonic()
            threading.Timer(OUTAGE, self._proxy.restore).start()
        return answer


@pytest.mark.postgres
def test_a_card_slack_took_as_the_database_went_away_is_recorded_on_its_return_and_a_claim_follows_at_once(
    own_postgres_url, fake_slack
):
    proxy = TcpProxy("127.0.0.1", 5432)
    engine = make_engine(own_postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    try:
        migrate.upgrade(engine)
        mention_id = store_mention(engine)
        slack = _DatabaseGoesAwayAsSlackAnswers(
            proxy, token=BOT_TOKEN, base_url=fake_slack.api_url, timeout=10, retry_handlers=[]
        )
        bot = Deliverer(engine, slack, post_interval=0)

        assert bot.deliver_due() == 1, "the card is sent, and said so once the database is back"
        assert slack.cut_at is not None
        waited = time.monotonic() - slack.cut_at
        [card] = fake_slack.cards()
        with session_scope(engine) as session:
            assert get_mention(session, mention_id).card_ts == card.ts
            assert session.exec(select(Outbox.status)).all() == [OutboxStatus.SENT]
            actions.claim(session, mention_id=mention_id, user_id="U_ANA")
        assert bot.deliver_due() == 1, "Ana's claim does not wait behind the card's lease"
        assert "Claimed by <@U_ANA>" in card.all_text()
        assert fake_slack.cards() == [card], "one card"
        assert OUTAGE <= waited < OUTAGE + 5, f"recorded {waited:.1f} s after the database went away"
    finally:
        engine.dispose()
        proxy.close()
