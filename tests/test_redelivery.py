"""Slack re-sends an Events API request it thinks was missed (same `event_id`, `X-Slack-Retry-Num`), perhaps to
another process behind the load balancer: it is acknowledged and handled once."""

import json
import time

import httpx
import pytest

from bot.app.standin.slack import TEAM_ID
from bot.app.standin.users import signature
from bot.ground import seen
from tests.botprocess import BotProcess, config_toml


def home_opened(user_id: str, event_id: str) -> str:
    """Slack's app_home_opened callback, as it posts it."""
    event = {"type": "app_home_opened", "user": user_id, "channel": f"D{user_id}", "tab": "home", "event_ts": "1.2"}
    callback = {"type": "event_callback", "event_id": event_id, "event_time": int(time.time()), "event": event}
    return json.dumps(callback | {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0ALLEARS"})


def deliver(bot: BotProcess, body: str, *, retry: int = 0) -> httpx.Response:
    """Signed at delivery: a retry is signed anew, seconds later, and says which retry it is."""
    timestamp = str(int(time.time()) + retry * 3)
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(body, timestamp),
    }
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return httpx.post(bot.url + "/slack/events", content=body, headers=headers, timeout=10)


@pytest.mark.postgres
def test_an_event_delivered_again_to_another_process_is_acknowledged_and_not_handled_twice(
    tmp_path, fake_slack, feeds, own_postgres_url
):
    one, two = (
        BotProcess(
            tmp_path / name,
            slack_api_url=fake_slack.api_url,
            database_url=own_postgres_url,
            config=config_toml(feeds.url("/acme.xml")),
        )
        for name in ("one", "two")
    )
    try:
        assert one.cli("db", "upgrade").returncode == 0
        one.start("serve")
        two.start("serve")

        ana_opens_home = home_opened("U_ANA", "Ev0ANA1")
        assert deliver(one, ana_opens_home).status_code == 200
        fake_slack.wait_for(lambda: fake_slack.homes_published("U_ANA") == 1, what="Ana's Home")
        assert deliver(two, ana_opens_home, retry=1).status_code == 200
        assert deliver(one, ana_opens_home, retry=2).status_code == 200
        assert deliver(two, home_opened("U_ANA", "Ev0ANA2")).status_code == 200
        fake_slack.wait_for(lambda: fake_slack.homes_published("U_ANA") == 2, what="the Home she opened again")
        # Each process says so as it acknowledges a retry instead of handling it.
        fake_slack.wait_for(
            lambda: "delivered again (retry 1)" in two.logs() and "delivered again (retry 2)" in one.logs(),
            what="both retries to be acknowledged",
        )

        assert fake_slack.homes_published("U_ANA") == 2, "each event once, whichever process Slack chose"
        assert "delivered again (retry 1)" in two.logs() and "delivered again (retry 2)" in one.logs()
    finally:
        one.stop()
        two.stop()


def test_an_event_id_is_new_once_for_every_process(engine):
    assert seen.first_time(engine, "event:Ev01")
    assert not seen.first_time(engine, "event:Ev01")
    assert seen.first_time(engine, "event:Ev02")
