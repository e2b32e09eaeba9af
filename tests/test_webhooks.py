"""Outbound webhooks against a real receiver on 127.0.0.1, on SQLite and PostgreSQL: queued with the change
that causes them, signed so a forged or replayed body is refused by the check docs/webhooks.md gives,
every one taken once and in order per mention through an outage, and a receiver that stays down paused,
shown, and resumed by itself. The outage's minutes pass on the deliverer's clock, not the test's."""

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update
from sqlmodel import col, select

from bot.act import actions
from bot.app.standin.ports import free_port
from bot.app.standin.slack import BOT_TOKEN
from bot.app.standin.users import SIGNING_SECRET
from bot.ground import migrate, webhooks
from bot.ground.clock import utcnow
from bot.ground.config import Config, Team, Webhook, load_config
from bot.ground.db import make_engine, read_scope, session_scope
from bot.ground.models import Outbox, OutboxStatus, Outcome, WebhookEvent, WebhookReceiver
from bot.ground.settings import Settings
from bot.ground.webhooks import sync_receivers
from bot.hear.spike_watch import check_spikes
from bot.remember.webhooks import WebhookDeliverer, signed_headers, webhook_health
from bot.slack.answers import webhooks_blocks
from bot.slack.client import slack_client
from bot.slack.delivery import Deliverer
from handlers.app import create_app
from tests.botprocess import config_toml
from tests.factories import store_mention
from tests.test_actions import race
from tests.test_delivery import deliverer as slack_deliverer
from tests.test_scenarios import Workspace
from tests.test_spikes import CONFIG as SPIKE_CONFIG
from tests.test_spikes import NOW as SPIKE_NOW
from tests.test_spikes import burst, past_weeks
from tests.webhookreceiver import Delivery, Receiver

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "webhook-event.schema.json").read_text()))
SECRET = "whsec-for-the-tests"
SECRET_ENV = "ALLEARS_TEST_WEBHOOK_SECRET"
EVERY_EVENT = [event.value for event in WebhookEvent]
SUPPORT = Team(channel="C0SUPPORT")


def documented_check() -> Callable[..., bool]:
    """The receiver's check exactly as docs/webhooks.md gives it: its code block, run."""
    section = (ROOT / "docs" / "webhooks.md").read_text().split("## Checking a request", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    return namespace["verify"]  # type: ignore[return-value]


verify = documented_check()


def delivered(outcome: str) -> float:
    return REGISTRY.get_sample_value("allears_webhook_deliveries_total", {"outcome": outcome}) or 0.0


class Clock:
    """The deliverer's now, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _forget_receivers() -> Iterator[None]:
    """The next test empties the database this one configured receivers in: this process's copy goes too."""
    yield
    webhooks.forget()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Webhook:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return Webhook(url=receiver.hook_url, events=EVERY_EVENT, secret_env=SECRET_ENV)


def unsent(engine) -> list[Outbox]:
    with read_scope(engine) as session:
        statement = select(Outbox).where(col(Outbox.webhook_id).is_not(None), col(Outbox.status) != OutboxStatus.SENT)
        return list(session.exec(statement))


def queued_ids(engine) -> list[str]:
    with read_scope(engine) as session:
        rows = session.exec(select(Outbox).where(col(Outbox.webhook_id).is_not(None)).order_by(col(Outbox.id)))
        return [row.webhook_event_id or "" for row in rows]


def deliver(engine, hooks: WebhookDeliverer, clock: Clock, *, until: datetime | None = None) -> None:
    """Run the pump, moving the clock on to each next attempt, until nothing waits (or `until`)."""
    for _ in range(1000):
        hooks.deliver_due()
        waiting = unsent(engine)
        if not waiting or (until and clock.now >= until):
            return
        with read_scope(engine) as session:
            receivers = session.exec(select(WebhookReceiver)).all()
        resting = [r.retry_at for r in receivers if r.retry_at and r.retry_at > clock.now]
        due = min(resting or [row.not_before for row in waiting])
        clock.now = max(clock.now + timedelta(seconds=1), due)
        if until:
            clock.now = min(clock.now, until)
    raise AssertionError("the outbox never emptied")


def assert_signed_and_valid(delivery: Delivery) -> dict:
    headers, body = delivery.request.headers, delivery.request.body
    sent_at = float(headers["x-allears-timestamp"])
    assert verify(SECRET, headers["x-allears-timestamp"], headers["x-allears-signature"], body, now=sent_at)
    event = delivery.request.json()
    SCHEMA.validate(event)
    assert headers["idempotency-key"] == event["id"] and headers["x-allears-event"] == event["type"]
    return event


def types_by_mention(deliveries: list[Delivery]) -> dict[str, list[str]]:
    by_mention: dict[str, list[str]] = {}
    for delivery in deliveries:
        event = delivery.request.json()
        by_mention.setdefault(event["mention"]["reference"], []).append(event["type"])
    return by_mention


def a_busy_morning(engine) -> tuple[int, int]:
    """Two mentions heard; Ana and Ben act on them, one change after another."""
    first = store_mention(engine, external_id="a", text="Acme's export is broken again")
    second = store_mention(engine, external_id="b", text="Acme cloud lost my files")
    steps = [
        lambda s: actions.claim(s, mention_id=first, user_id="U0ANA"),
        lambda s: actions.reply(s, mention_id=second, user_id="U0BEN", text="Looking into it now"),
        lambda s: actions.reply(s, mention_id=first, user_id="U0ANA", text="Fixed in 2.3.1"),
        lambda s: actions.escalate(s, mention_id=second, user_id="U0BEN", team_name="support", team=SUPPORT),
        lambda s: actions.resolve(s, mention_id=first, user_id="U0ANA", outcome=Outcome.FIXED, note="2.3.1"),
        lambda s: actions.reopen(s, mention_id=first, user_id="U0ANA"),
    ]
    for step in steps:
        with session_scope(engine) as session:
            step(session)
    return first, second


def test_a_receiver_answering_500_for_two_minutes_gets_every_event_once_in_order_per_mention(
    engine, hook, receiver, http
):
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
    first, second = a_busy_morning(engine)
    clock = Clock()
    back_at = clock.now + timedelta(minutes=2)
    receiver.answer = lambda request: 500 if clock() < back_at else 200
    counted = {outcome: delivered(outcome) for outcome in ("ok", "http_500")}
    deliver(engine, WebhookDeliverer(engine, http, [hook], clock=clock), clock)

    taken = receiver.taken()
    ids = [delivery.event_id for delivery in taken]
    assert sorted(ids) == sorted(queued_ids(engine)) and len(set(ids)) == len(ids) == 9, "each event once"
    assert types_by_mention(taken) == {
        f"M-{first}": [
            "mention.created",
            "mention.claimed",
            "mention.replied",
            "mention.resolved",
            "mention.reopened",
        ],
        f"M-{second}": ["mention.created", "mention.claimed", "mention.replied", "mention.escalated"],
    }
    assert all(float(d.request.headers["x-allears-timestamp"]) >= back_at.timestamp() - 1 for d in taken)
    assert 3 <= len(receiver.refused()) <= 8, "while it was down it was asked once per backoff, not once per event"
    assert delivered("ok") - counted["ok"] == 9
    assert delivered("http_500") - counted["http_500"] == len(receiver.refused())
    events = [assert_signed_and_valid(delivery) for delivery in receiver.deliveries]
    claimed = next(event for event in events if event["type"] == "mention.claimed" and event["actor"] == "U0BEN")
    assert claimed["data"] == {"by_reply": True}, "Ben's reply claimed the unclaimed mention"
    with read_scope(engine) as session:
        [health] = webhook_health(session, [hook])
    assert (health.paused_at, health.failing_since, health.queued) == (None, None, 0)


def test_a_store_reviews_stars_and_app_version_are_in_its_body(engine, hook, receiver, http):
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
    review = store_mention(engine, external_id="review", text="Acme crashes on launch", rating=1, app_version="8.42.1")
    post = store_mention(engine, external_id="post", text="Acme's export is broken again")
    clock = Clock()
    deliver(engine, WebhookDeliverer(engine, http, [hook], clock=clock), clock)

    bodies = {event["mention"]["id"]: event["mention"] for event in map(assert_signed_and_valid, receiver.taken())}
    assert (bodies[review]["rating"], bodies[review]["app_version"]) == (1, "8.42.1")
    assert (bodies[post]["rating"], bodies[post]["app_version"]) == (None, None)


def test_a_forged_or_replayed_request_fails_the_documented_check(engine, hook, receiver):
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
    store_mention(engine)
    with read_scope(engine) as session:
        row = session.exec(select(Outbox).where(col(Outbox.webhook_id).is_not(None))).one()
    body = b'{"version":1}'
    sent = utcnow()
    headers = signed_headers(SECRET, row, body, now=sent)
    timestamp, signature = headers["X-Allears-Timestamp"], headers["X-Allears-Signature"]
    at = sent.timestamp()

    assert verify(SECRET, timestamp, signature, body, now=at + 60), "genuine, a minute later"
    assert not verify("another-secret", timestamp, signature, body, now=at), "signed with another secret"
    assert not verify(SECRET, timestamp, signature, body + b" ", now=at), "the body was changed"
    assert not verify(SECRET, str(int(timestamp) + 600), signature, body, now=at + 600), (
        "a new timestamp, old signature"
    )
    assert not verify(SECRET, timestamp, signature, body, now=at + 301), "replayed after five minutes"
    assert not verify(SECRET, timestamp, signature, body, now=at - 301), "from the future"
    assert not verify(SECRET, "", signature, body, now=at) and not verify(SECRET, "-1", signature, body, now=at)


def test_a_receiver_down_for_half_an_hour_is_paused_shown_and_resumes_by_itself_with_nothing_lost(
    engine, hook, receiver, http
):
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
    a_busy_morning(engine)
    clock = Clock()
    start = clock.now
    back_at = start + timedelta(minutes=30)
    receiver.answer = lambda request: 503 if clock() < back_at else 200
    hooks = WebhookDeliverer(engine, http, [hook], clock=clock)
    deliver(engine, hooks, clock, until=start + timedelta(minutes=15))
    with read_scope(engine) as session:
        [health] = webhook_health(session, [hook])
    assert health.paused_at is not None and health.paused_at - start >= timedelta(minutes=10)
    assert health.queued == 9 and health.last_error == "HTTP 503"
    shown = json.dumps(webhooks_blocks([health]))
    assert ":double_vertical_bar: paused" in shown and "9 event(s) waiting" in shown
    assert "127.0.0.1" in shown and "kept-out-of-slack" not in shown, "the url's token is not shown"
    deliver(engine, hooks, clock)

    assert len(receiver.taken()) == 9 and len({d.event_id for d in receiver.taken()}) == 9
    assert len(receiver.refused()) <= 15, "paused, it was asked only now and then"
    with read_scope(engine) as session:
        [health] = webhook_health(session, [hook])
    assert health.paused_at is None and health.last_success_at is not None and health.queued == 0


def test_a_receiver_that_is_down_holds_up_neither_slack_nor_another_receiver(engine, hook, receiver, fake_slack, http):
    healthy = Receiver().start()
    try:
        other = Webhook(url=healthy.hook_url, events=["mention.claimed"], secret_env=SECRET_ENV)
        with session_scope(engine) as session:
            sync_receivers(session, [hook, other])
        receiver.answer = lambda request: 500
        mention_id = store_mention(engine)
        with session_scope(engine) as session:
            actions.claim(session, mention_id=mention_id, user_id="U0ANA")
        WebhookDeliverer(engine, http, [hook, other]).deliver_due()
        slack = slack_deliverer(engine, fake_slack)
        assert slack.deliver_due() == 2, "the card and its refresh"
        assert "Claimed by <@U0ANA>" in fake_slack.cards()[0].all_text()
        assert [d.request.json()["type"] for d in healthy.taken()] == ["mention.claimed"]
        assert len(receiver.refused()) == 1 and not receiver.taken()
    finally:
        healthy.stop()


def test_a_receiver_no_longer_configured_is_sent_nothing_new_and_keeps_what_waited(engine, hook, receiver, http):
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
    store_mention(engine, external_id="a")
    with session_scope(engine) as session:
        sync_receivers(session, [])
    store_mention(engine, external_id="b")
    assert WebhookDeliverer(engine, http, []).deliver_due() == 0
    assert len(unsent(engine)) == 1, "the first mention's event waits; the second queued none"
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
        session.execute(update(Outbox).values(not_before=utcnow()))
    assert WebhookDeliverer(engine, http, [hook]).deliver_due() == 1
    assert [d.request.json()["mention"]["text"] for d in receiver.taken()] == [
        "Acme's status page says all green but my deploys fail"
    ]


def test_a_spike_that_starts_is_told_to_a_receiver_that_asked_for_spikes_only(engine, monkeypatch, receiver, http):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    spikes_only = Webhook(url=receiver.hook_url, events=["spike.started"], secret_env=SECRET_ENV)
    with session_scope(engine) as session:
        sync_receivers(session, [spikes_only])
    past_weeks(engine)
    burst(engine, 30)
    check_spikes(engine, SPIKE_CONFIG, now=SPIKE_NOW)

    assert WebhookDeliverer(engine, http, [spikes_only]).deliver_due() == 2, "one a scope; no mention.created"
    events = [assert_signed_and_valid(delivery) for delivery in receiver.taken()]
    assert sorted((event["spike"]["product"] or "") for event in events) == ["", "Quillo"]
    spike = events[0]["spike"]
    assert (spike["count"], spike["usual"]["low"], spike["usual"]["high"], spike["more"]) == (30, 2, 6, 20)
    assert set(spike["words"]) == {"down", "outage", "login"} and len(spike["mentions"]) == 10


@pytest.fixture
def crm_workspace(tmp_path, fake_slack, hook, receiver) -> Iterator[tuple[Workspace, Config]]:
    """The listeners in process (as tests/test_scenarios.py has them), with a CRM's receiver configured."""
    database_url = f"sqlite:///{tmp_path / 'allears.db'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    crm = f'\n[[webhooks]]\nurl = "{receiver.hook_url}"\nevents = ["mention.claimed", "mention.resolved"]\n'
    (tmp_path / "allears.toml").write_text(
        config_toml("http://127.0.0.1:9/acme.xml") + crm + f'secret_env = "{SECRET_ENV}"\n'
    )
    settings = Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
        allears_config=tmp_path / "allears.toml",
        slack_post_interval=0,
    )
    config = load_config(settings.allears_config)
    with session_scope(engine) as session:  # as `allears run` does when it starts
        sync_receivers(session, config.webhooks)
    deliverer = Deliverer(engine, slack_client(settings), post_interval=0)
    yield Workspace(create_app(settings), engine, fake_slack, deliverer), config
    engine.dispose()


def test_ana_claims_and_the_crm_hears_it_then_finds_its_receiver_paused_in_allears_webhooks(
    crm_workspace, receiver, http
):
    workspace, config = crm_workspace
    mention_id = store_mention(workspace.engine, text="Acme cloud has been down for 3 hours")
    workspace.card(mention_id)
    ana = workspace.person("U_ANA")
    hooks = WebhookDeliverer(workspace.engine, http, config.webhooks)

    ana.command("/claim", f"M-{mention_id}")
    workspace.answers(ana, "Ana's confirmation")
    assert hooks.deliver_due() == 1
    [claimed] = [assert_signed_and_valid(delivery) for delivery in receiver.taken()]
    assert (claimed["type"], claimed["actor"], claimed["mention"]["reference"]) == (
        "mention.claimed",
        "U_ANA",
        f"M-{mention_id}",
    )

    receiver.answer = lambda request: 502
    ana.command("/resolve", f"M-{mention_id} answered")
    workspace.answers(ana, "Ana's resolve confirmed")
    clock = Clock()  # from here the outage's minutes pass on the deliverer's clock
    hooks = WebhookDeliverer(workspace.engine, http, config.webhooks, clock=clock)
    deliver(workspace.engine, hooks, clock, until=clock.now + timedelta(minutes=15))
    ana.command("/allears", "webhooks")
    shown = json.dumps(workspace.answers(ana, "/allears webhooks")[0])
    assert ":double_vertical_bar: paused" in shown and "1 event(s) waiting" in shown and "HTTP 502" in shown
    assert "127.0.0.1" in shown and "`mention.claimed`, `mention.resolved`" in shown
    assert "kept-out-of-slack" not in shown


def test_two_processes_delivering_at_once_send_each_event_once_and_in_order(engine, hook, receiver, http):
    with session_scope(engine) as session:
        sync_receivers(session, [hook])
    first, second = a_busy_morning(engine)
    pumps = [WebhookDeliverer(engine, http, [hook]) for _ in range(2)]

    sent = race(2, lambda n: pumps[n].deliver_due())

    assert sum(sent) == 9, sent

    ids = [delivery.event_id for delivery in receiver.taken()]
    assert sorted(ids) == sorted(queued_ids(engine)) and len(set(ids)) == len(ids) == 9
    assert types_by_mention(receiver.taken())[f"M-{first}"] == [
        "mention.created",
        "mention.claimed",
        "mention.replied",
        "mention.resolved",
        "mention.reopened",
    ]


def test_a_receiver_that_refuses_connections_is_failing_and_its_token_stays_out_of_what_is_shown(
    engine, monkeypatch, http
):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    gone = Webhook(
        url=f"http://127.0.0.1:{free_port()}/hook?token=never-shown", events=EVERY_EVENT, secret_env=SECRET_ENV
    )
    with session_scope(engine) as session:
        sync_receivers(session, [gone])
    store_mention(engine)

    assert WebhookDeliverer(engine, http, [gone]).deliver_due() == 0
    with read_scope(engine) as session:
        [health] = webhook_health(session, [gone])
    assert health.failing_since is not None and health.queued == 1 and health.last_error.startswith("ConnectError")
    assert "never-shown" not in json.dumps(webhooks_blocks([health]))
