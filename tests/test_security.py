"""Only Slack, and only the webhook's sender, can make the bot act: forged, stale, unsigned and
re-signed requests to a real `allears run` get 401 and change nothing (no row, no Slack call)."""

import ast
import hashlib
import hmac
import inspect
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import MetaData, create_engine, select, text

import bot.app.web
import bot.hear.intake
from bot.app.standin.slack import BOT_TOKEN, FakeSlack
from bot.app.standin.users import SIGNING_SECRET, WEBHOOK_SECRET, Drafts, signature, typed, webhook_signature
from bot.app.web import signed_by_slack
from bot.ground.config import Config
from bot.ground.db import make_engine
from bot.hear.polling import Listener
from bot.slack.ids import ActionId, InputId, ShortcutId, ViewId
from bot.slack.modals import ModalContext
from tests.botprocess import BotProcess, config_toml
from tests.feedserver import Entry, FeedServer, rss

pytestmark = pytest.mark.security

ACTOR = "U_EVE"
CHALLENGE = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
COMPLAINT = Entry(
    guid="post-1",
    title="Acme cloud is down again",
    description="Acme cloud has been down for hours, terrible",
    link="https://forum.example.com/t/1",
)
TIMESTAMP, SIGNATURE = "X-Slack-Request-Timestamp", "X-Slack-Signature"
Headers = dict[str, str | bytes]


def slack_requests(bot: BotProcess, fake: FakeSlack, *, card_ts: str) -> dict[str, tuple[str, str]]:
    """Each kind of request Slack sends, as (body, content type); signed, each one makes the bot act."""
    eve = Drafts(ACTOR, bot.url, fake)
    modal = {
        "id": "V0SUBMITTED",
        "type": "modal",
        "callback_id": ViewId.REPLY,
        "private_metadata": ModalContext(mention_id=1, response_url=fake.response_url("eve-modal")).dump(),
        "blocks": [],
    }
    forwarded = {"text": "Acme exports are painfully slow", "user": "U_CUSTOMER", "ts": "1700000000.000100"}
    challenge = {"token": "legacy-verification-token", "challenge": CHALLENGE, "type": "url_verification"}
    return {
        "slash command": eve.command("/claim", "M-1", channel="C0URGENT"),
        "button": eve.click(ActionId.CLAIM, "1", channel="C0URGENT", message_ts=card_ts),
        "view submission": eve.submit(modal, {InputId.REPLY_TEXT: typed("We are on it")}),
        "message shortcut": eve.shortcut(ShortcutId.LOG_MENTION, channel="C0LISTEN", message=forwarded),
        "app_home_opened": eve.open_home(),
        "url_verification": (json.dumps(challenge), "application/json"),
    }


def send(url: str, body: str | bytes, content_type: str, headers: Headers) -> httpx.Response:
    """A POST with exactly these headers; values may be bytes, as a client that is not Slack can send."""
    raw = [(b"Content-Type", content_type.encode())]
    raw += [(name.encode(), value if isinstance(value, bytes) else value.encode()) for name, value in headers.items()]
    return httpx.post(url, content=body, headers=raw, timeout=10)


def _reordered(body: str, content_type: str) -> str:
    """The same fields in another order: what a proxy re-encoding the body would send."""
    if content_type == "application/json":
        return json.dumps(dict(reversed(json.loads(body).items())))
    fields = parse_qsl(body, keep_blank_values=True)
    if [name for name, _ in fields] == ["payload"]:
        return urlencode({"payload": json.dumps(dict(reversed(json.loads(fields[0][1]).items())))})
    return urlencode(list(reversed(fields)))


def _tampered(body: str) -> str:
    return body.replace(ACTOR, "U_BOSS") if ACTOR in body else body.replace(CHALLENGE, CHALLENGE[::-1])


def _now() -> int:
    return int(time.time())


Tamper = Callable[[str, str], tuple[str, Headers]]
"""(body, content type) → the body sent and the Slack headers sent with it."""

SIX_MINUTES = 6 * 60
TAMPERS: dict[str, Tamper] = {
    "forged: signed with another secret": lambda body, _: (
        body,
        {TIMESTAMP: str(_now()), SIGNATURE: signature(body, str(_now()), "guessed-secret")},
    ),
    "stale: correctly signed 6 minutes ago": lambda body, _: (
        body,
        {TIMESTAMP: str(_now() - SIX_MINUTES), SIGNATURE: signature(body, str(_now() - SIX_MINUTES))},
    ),
    "from the future: correctly signed for 6 minutes ahead": lambda body, _: (
        body,
        {TIMESTAMP: str(_now() + SIX_MINUTES), SIGNATURE: signature(body, str(_now() + SIX_MINUTES))},
    ),
    "no signature header": lambda body, _: (body, {TIMESTAMP: str(_now())}),
    "no timestamp header": lambda body, _: (body, {SIGNATURE: signature(body, str(_now()))}),
    "no headers at all": lambda body, _: (body, {}),
    "empty headers": lambda body, _: (body, {TIMESTAMP: "", SIGNATURE: ""}),
    "signed, then re-ordered": lambda body, content_type: (
        _reordered(body, content_type),
        {TIMESTAMP: str(_now()), SIGNATURE: signature(body, str(_now()))},
    ),
    "signed, then tampered with": lambda body, _: (
        _tampered(body),
        {TIMESTAMP: str(_now()), SIGNATURE: signature(body, str(_now()))},
    ),
    "signed for another timestamp than the header's": lambda body, _: (
        body,
        {TIMESTAMP: str(_now()), SIGNATURE: signature(body, str(_now() - 1))},
    ),
    "timestamp not a number, signed with it": lambda body, _: (
        body,
        {TIMESTAMP: "abc", SIGNATURE: signature(body, "abc")},
    ),
    "timestamp with a fraction, signed with it": lambda body, _: (
        body,
        {TIMESTAMP: f"{_now()}.5", SIGNATURE: signature(body, f"{_now()}.5")},
    ),
    "signature with a non-ASCII byte": lambda body, _: (
        body,
        {TIMESTAMP: str(_now()), SIGNATURE: signature(body, str(_now())).encode()[:-1] + b"\xe9"},
    ),
    "signature under another version": lambda body, _: (
        body,
        {TIMESTAMP: str(_now()), SIGNATURE: "v1=" + signature(body, str(_now())).removeprefix("v0=")},
    ),
}


_WRITTEN_ON_SCHEDULE = {"alembic_version", "relevancemodel"}
"""Tables no request writes: the relevance model learns, once a minute, labels the events table holds already (so
a request that labelled anything shows there)."""


class Effects:
    """Everything the bot could do in response: rows in its database, calls to (the fake) Slack."""

    def __init__(self, database: Path, fake: FakeSlack) -> None:
        self.engine = create_engine(f"sqlite:///{database}")
        self._fake = fake

    def rows(self) -> dict[str, list[str]]:
        tables = MetaData()
        tables.reflect(self.engine)
        with self.engine.connect() as connection:
            return {
                name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
                for name, table in tables.tables.items()
                if name not in _WRITTEN_ON_SCHEDULE
            }

    def snapshot(self) -> tuple[int, dict[str, list[str]]]:
        return len(self._fake.calls), self.rows()

    def since(self, before: tuple[int, dict[str, list[str]]], *, settle: float = 0.4) -> list[str]:
        """What changed since `before`, after giving background work time to happen."""
        time.sleep(settle)
        calls, rows = self.snapshot()
        changes = [f"Slack: {call.method} {call.args}" for call in self._fake.calls[before[0] :]]
        changes += [f"table {name} changed" for name in rows if rows[name] != before[1].get(name)]
        return changes

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="module")
def listening(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BotProcess, FakeSlack, Effects, str]]:
    """One bot for the module, polling once an hour so its database stays still between requests."""
    fake = FakeSlack(channels={"C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT"}).start()
    feeds = FeedServer().start()
    feeds.publish("/acme.xml", rss([COMPLAINT]))
    workdir = tmp_path_factory.mktemp("security")
    process = BotProcess(
        workdir,
        slack_api_url=fake.api_url,
        database_url=f"sqlite:///{workdir / 'allears.db'}",
        config=config_toml(feeds.url("/acme.xml"), every="1h"),
    )
    process.env["ALLEARS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    effects = Effects(workdir / "allears.db", fake)
    try:
        process.start()
        card = fake.wait_for(lambda: fake.cards("C0URGENT"), what="the complaint's card")[0]
        _settled(effects)
        yield process, fake, effects, card.ts
    finally:
        process.stop()
        effects.close()
        feeds.stop()
        fake.stop()


def _settled(effects: Effects, *, quiet: float = 0.3, timeout: float = 15) -> None:
    """Wait until nothing happens for `quiet` seconds (the card posted, its outbox row marked sent)."""
    deadline = time.monotonic() + timeout
    before = effects.snapshot()
    while time.monotonic() < deadline:
        if not effects.since(before, settle=quiet):
            return
        before = effects.snapshot()
    raise AssertionError("the bot did not settle")


# --- Slack's requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
def test_every_kind_of_slack_request_is_refused_unless_signed_and_fresh(listening, tamper):
    bot, fake, effects, card_ts = listening
    before = effects.snapshot()

    answers = {}
    for kind, (body, content_type) in slack_requests(bot, fake, card_ts=card_ts).items():
        sent, headers = tamper(body, content_type)
        answers[kind] = send(bot.url + "/slack/events", sent, content_type, headers)

    assert {kind: answer.status_code for kind, answer in answers.items()} == dict.fromkeys(answers, 401)
    assert CHALLENGE not in answers["url_verification"].text
    assert effects.since(before) == [], "a refused request had an effect"


def test_slacks_certificate_probe_gets_its_200_and_nothing_else(listening):
    """`ssl_check=1` comes unsigned to slash command URLs; as Bolt did, it is answered and nothing runs."""
    bot, fake, effects, _ = listening
    before = effects.snapshot()
    probe = send(bot.url + "/slack/events", "ssl_check=1&token=x", "application/x-www-form-urlencoded", {})
    smuggled = urlencode({"ssl_check": "1", "command": "/claim", "text": "M-1", "user_id": ACTOR, "team_id": "T0TEST"})
    smuggling = send(bot.url + "/slack/events", smuggled, "application/x-www-form-urlencoded", {TIMESTAMP: "abc"})

    assert (probe.status_code, probe.text) == (200, "")
    assert (smuggling.status_code, smuggling.text) == (200, "")
    assert effects.since(before) == []


def test_a_redelivered_event_is_acknowledged_and_not_handled_again(listening):
    """Slack re-sends an event it thinks was missed (same event_id, `X-Slack-Retry-Num`), newly signed.
    The bot answers 200 so Slack stops, and does not handle it twice; the only trace is the event id it
    remembers, so that another process it may reach does not handle it either."""
    bot, fake, effects, card_ts = listening
    body, content_type = slack_requests(bot, fake, card_ts=card_ts)["app_home_opened"]
    published = fake.homes_published(ACTOR)
    rows = effects.rows()
    acknowledged = bot.logs().count("delivered again (retry 1)")

    first = send(bot.url + "/slack/events", body, content_type, _signed(body))
    fake.wait_for(lambda: fake.homes_published(ACTOR) == published + 1, what="the Home")
    remembered = effects.rows()
    # Slack retries after waiting 3 seconds for an answer, so the retry is signed at a later second.
    retry = {**_signed(body, at=_now() + 3), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    again = send(bot.url + "/slack/events", body, content_type, retry)
    fake.wait_for(  # the bot says so as it acknowledges the retry instead of handling it
        lambda: bot.logs().count("delivered again (retry 1)") > acknowledged, what="the retry to be acknowledged"
    )

    assert (first.status_code, again.status_code) == (200, 200)
    assert fake.homes_published(ACTOR) == published + 1
    assert {name for name in remembered if remembered[name] != rows[name]} == {"seenrequest"}
    assert effects.rows() == remembered
    _settled(effects)


def _signed(body: str, *, at: int | None = None) -> Headers:
    timestamp = str(at or _now())
    return {TIMESTAMP: timestamp, SIGNATURE: signature(body, timestamp)}


def test_a_signed_request_sent_again_within_the_five_minutes_acts_once(listening):
    """A captured request stays fresh for five minutes; the same signature is taken only once, so a
    reply (or anything else) is never recorded twice."""
    bot, fake, effects, card_ts = listening
    body, content_type = slack_requests(bot, fake, card_ts=card_ts)["view submission"]
    headers = _signed(body)
    before = effects.snapshot()

    assert send(bot.url + "/slack/events", body, content_type, headers).status_code == 200
    fake.wait_for(lambda: effects.since(before, settle=0), what="the reply to be recorded")
    _settled(effects)
    before = effects.snapshot()
    assert send(bot.url + "/slack/events", body, content_type, headers).status_code == 401
    assert effects.since(before) == []


# --- the inbound webhook ------------------------------------------------------------------------------


def _mention(**fields: Any) -> bytes:
    return json.dumps({"text": "My Acme invoice is wrong", "source": "zendesk", "id": "t-1", **fields}).encode()


WEBHOOK_FORGERIES: dict[str, Callable[[bytes], tuple[bytes, Headers]]] = {
    "signed with another secret": lambda body: (body, {"X-Allears-Signature": webhook_signature(body, "guessed")}),
    "no signature": lambda body: (body, {}),
    "empty signature": lambda body: (body, {"X-Allears-Signature": ""}),
    "the prefix alone": lambda body: (body, {"X-Allears-Signature": "sha256="}),
    "without its sha256= prefix": lambda body: (
        body,
        {"X-Allears-Signature": webhook_signature(body).removeprefix("sha256=")},
    ),
    "under another algorithm's name": lambda body: (
        body,
        {"X-Allears-Signature": "sha1=" + webhook_signature(body).removeprefix("sha256=")},
    ),
    "signed, then re-ordered": lambda body: (
        json.dumps(dict(reversed(json.loads(body).items()))).encode(),
        {"X-Allears-Signature": webhook_signature(body)},
    ),
    "signed, then tampered with": lambda body: (
        body.replace(b"wrong", b"right"),
        {"X-Allears-Signature": webhook_signature(body)},
    ),
    "a non-ASCII byte in the signature": lambda body: (
        body,
        {"X-Allears-Signature": webhook_signature(body).encode()[:-1] + b"\xe9"},
    ),
}


@pytest.mark.parametrize("forge", WEBHOOK_FORGERIES.values(), ids=WEBHOOK_FORGERIES.keys())
def test_the_webhook_refuses_a_bad_signature_and_stores_nothing(listening, forge):
    bot, _, effects, _ = listening
    before = effects.snapshot()
    body, headers = forge(_mention(id="forged", timestamp=_now()))

    answer = send(bot.url + "/hooks/mentions", body, "application/json", headers)

    assert answer.status_code == 401 and answer.json()["ok"] is False
    assert webhook_signature(body).removeprefix("sha256=") not in answer.text, "no signature oracle"
    assert effects.since(before) == []


@pytest.mark.parametrize("offset", [-SIX_MINUTES, SIX_MINUTES], ids=["stale", "from the future"])
def test_a_signed_webhook_body_outside_the_five_minutes_is_refused(listening, offset):
    bot, _, effects, _ = listening
    before = effects.snapshot()
    body = _mention(id=f"late-{offset}", timestamp=_now() + offset)

    answer = send(
        bot.url + "/hooks/mentions", body, "application/json", {"X-Allears-Signature": webhook_signature(body)}
    )

    assert answer.status_code == 400 and "stale" in answer.json()["error"]
    assert effects.since(before) == []


def test_a_replayed_webhook_body_is_refused_and_never_posts_twice(listening):
    bot, fake, effects, _ = listening
    body = _mention(id="ticket-replayed", timestamp=_now())
    signed = {"X-Allears-Signature": webhook_signature(body)}
    cards = len(fake.cards())

    assert send(bot.url + "/hooks/mentions", body, "application/json", signed).status_code == 201
    fake.wait_for(lambda: len(fake.cards()) == cards + 1, what="the webhook mention's card")
    _settled(effects)
    before = effects.snapshot()

    replay = send(bot.url + "/hooks/mentions", body, "application/json", signed)
    assert replay.status_code == 409 and "replay" in replay.json()["error"]
    assert effects.since(before) == []

    # After 30 days the signature is forgotten (the hourly job deletes it); the source's own id still
    # makes the same mention a duplicate, so even then nothing is posted again.
    with effects.engine.begin() as connection:
        connection.execute(text("DELETE FROM seenrequest"))
    before = effects.snapshot()
    late = send(bot.url + "/hooks/mentions", body, "application/json", signed)
    assert late.status_code == 200 and late.json()["duplicate"] is True
    changes = effects.since(before)
    assert changes == ["table seenrequest changed"], "only the signature is remembered again"


def test_the_webhook_compares_signatures_in_constant_time():
    """`==` on a MAC leaks, through timing, how much of a guess is right; only compare_digest may touch it."""
    tree = ast.parse(inspect.getsource(bot.hear.intake.receive_webhook))
    secret_names = {"expected", "signature"}
    digests = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "hmac.compare_digest"
    ]
    assert len(digests) == 1 and {ast.unparse(arg).split(".")[0] for arg in digests[0].args} == secret_names
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            names = {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}
            assert not names & secret_names, f"compared with {ast.unparse(node)!r}, not in constant time"


def test_slack_signatures_are_checked_in_constant_time_before_bolt_sees_them():
    verifier = SignatureVerifier(SIGNING_SECRET)
    body, now = b"command=%2Fclaim&text=M-1", str(_now())
    good = signature(body.decode(), now)

    assert signed_by_slack(verifier, body, {TIMESTAMP: now, SIGNATURE: good})
    for headers in (
        {TIMESTAMP: now, SIGNATURE: good.upper()},
        {TIMESTAMP: now, SIGNATURE: good + " "},
        {TIMESTAMP: f" {now}", SIGNATURE: signature(body.decode(), f" {now}")},
        {TIMESTAMP: "+" + now, SIGNATURE: signature(body.decode(), "+" + now)},
        {TIMESTAMP: "١٢٣", SIGNATURE: signature(body.decode(), "١٢٣")},
        {TIMESTAMP: now, SIGNATURE: "v0=" + "é" * 64},
        {TIMESTAMP: now},
        {},
    ):
        assert not signed_by_slack(verifier, body, headers), headers
    web = inspect.getsource(bot.app.web.signed_by_slack)
    assert "verifier.is_valid(" in web and "==" not in web
    assert "hmac.compare_digest(calculated_signature, signature)" in inspect.getsource(SignatureVerifier.is_valid)


# --- the same requests, signed: they do act (so the refusals above are not vacuous) ----------------------


def test_the_same_requests_correctly_signed_are_acted_on(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([COMPLAINT]))
    (bot.workdir / "allears.toml").write_text(config_toml(feeds.url("/acme.xml"), every="1h"))
    bot.env["ALLEARS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the complaint's card")[0]
    effects = Effects(bot.workdir / "allears.db", fake_slack)
    try:
        _settled(effects)
        for kind, (body, content_type) in slack_requests(bot, fake_slack, card_ts=card.ts).items():
            before = effects.snapshot()
            answer = send(bot.url + "/slack/events", body, content_type, _signed(body))
            assert answer.status_code == 200, kind
            if kind == "url_verification":
                assert CHALLENGE in answer.text
            else:
                fake_slack.wait_for(lambda before=before: effects.since(before, settle=0), what=f"the {kind} to act")
            _settled(effects)

        before = effects.snapshot()
        body = _mention(timestamp=_now())
        signed = {"X-Allears-Signature": webhook_signature(body)}
        assert send(bot.url + "/hooks/mentions", body, "application/json", signed).status_code == 201
        fake_slack.wait_for(lambda: effects.since(before, settle=0), what="the webhook to act")
    finally:
        effects.close()


# --- signed, but not something Bolt can read --------------------------------------------------------------

BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "a payload that is not JSON": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "a payload that is JSON but not an object": (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    "a JSON body that is not JSON": (b"{not json", "application/json"),
    "a JSON body that is not an object": (b'["event_callback"]', "application/json"),
}


@pytest.mark.parametrize("what", BAD_BODIES)
def test_a_signed_body_bolt_cannot_read_gets_a_400_with_its_reason_and_one_log_line(listening, what):
    bot, fake, effects, _ = listening
    body, content_type = BAD_BODIES[what]
    timestamp = str(_now())
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    before, logged = effects.snapshot(), len(bot.logs().splitlines())

    answer = send(bot.url + "/slack/events", body, content_type, {TIMESTAMP: timestamp, SIGNATURE: f"v0={digest}"})

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"].startswith("bad request: the body")
    assert effects.since(before) == []
    fake.wait_for(lambda: "cannot be read" in bot.logs(), what="the refusal in the log")
    new_lines = bot.logs().splitlines()[logged:]
    [refusal] = [line for line in new_lines if "cannot be read" in line]
    assert re.search(r"WARNING \[[0-9a-f]+\] bot\.app\.web: refused a signed request", refusal), refusal
    assert not any("Traceback" in line for line in new_lines)
    assert httpx.get(bot.url + "/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize("what", BAD_BODIES)
def test_an_unsigned_body_bolt_cannot_read_is_refused_before_it_is_read(listening, what):
    bot, _, effects, _ = listening
    body, content_type = BAD_BODIES[what]
    before = effects.snapshot()
    assert send(bot.url + "/slack/events", body, content_type, {TIMESTAMP: str(_now())}).status_code == 401
    assert effects.since(before) == []


def test_a_body_that_is_not_utf8_is_never_from_slack_signed_or_not(listening):
    """Slack sends UTF-8; the SDK's check would raise decoding anything else (a 500 with a traceback)."""
    bot, _, effects, _ = listening
    body, timestamp, before = b"payload=\xff\xfe", str(_now()), effects.snapshot()
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    for headers in (
        {TIMESTAMP: timestamp, SIGNATURE: f"v0={digest}"},
        {TIMESTAMP: timestamp, SIGNATURE: "v0=" + "0" * 64},
    ):
        assert send(bot.url + "/slack/events", body, "application/x-www-form-urlencoded", headers).status_code == 401
    assert effects.since(before) == []
    assert "Traceback" not in bot.logs()


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"", None, None),
        (b"command=%2Fclaim&text=M-1", "application/x-www-form-urlencoded", None),
        (b'{"type": "url_verification"}', "application/json; charset=utf-8", None),
        (b'{"type": "event_callback"}', None, None),  # Bolt reads a body that starts with { as JSON
        (b"payload=%7B%7D", "application/x-www-form-urlencoded", None),
        (b"[1]", "application/json", "the body or its payload is not a JSON object"),
        (b"{", None, "the body or its payload is not JSON (Expecting property name"),
    ],
)
def test_what_bolt_can_read_is_decided_as_bolt_reads_it(body, content_type, problem):
    found = bot.app.web.unparseable(body, content_type)
    assert found == problem if problem is None else found.startswith(problem)


# --- a replay sent to another worker --------------------------------------------------------------------------


def _worker(engine, fake: FakeSlack) -> Any:
    """One `allears serve` worker's web face on the shared database, with a /claim that counts what it does."""
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
    bolt = App(signing_secret=SIGNING_SECRET, client=client)
    bolt.claims = []  # type: ignore[attr-defined]

    @bolt.command("/claim")
    def claim(ack, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        bolt.claims.append(command["text"])  # type: ignore[attr-defined]

    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    web = bot.app.web.create_web_app(
        bolt, engine, signing_secret=SIGNING_SECRET, listener=Listener(config), webhook_secret=None, notify=lambda: None
    )
    return bolt, web.test_client()


@pytest.mark.postgres
def test_a_request_replayed_to_another_worker_on_postgresql_is_refused_there_too(postgres_engine, fake_slack):
    (first, to_first), (second, to_second) = _worker(postgres_engine, fake_slack), _worker(postgres_engine, fake_slack)
    body = urlencode({"command": "/claim", "text": "M-1", "user_id": ACTOR, "team_id": "T0TEST"})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **_signed(body)}

    assert to_first.post("/slack/events", data=body, headers=headers).status_code == 200
    assert to_second.post("/slack/events", data=body, headers=headers).status_code == 401
    assert to_first.post("/slack/events", data=body, headers=headers).status_code == 401
    assert (first.claims, second.claims) == (["M-1"], [])


def test_with_the_database_away_the_replay_guard_still_answers_at_once_from_memory(caplog):
    nobody_there = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/test")  # port 9: refused at once
    replays = bot.app.web.Replays(nobody_there)
    started = time.monotonic()
    assert replays.first_time("v0=a"), "a click in an outage is answered (told to try again), not refused"
    assert not replays.first_time("v0=a"), "this process still remembers what it was sent"
    assert replays.first_time("v0=b")
    assert time.monotonic() - started < 2
    assert [record.levelname for record in caplog.records if "replay guard" in record.getMessage()] == ["WARNING"]
    nobody_there.dispose()


def test_the_replay_guard_forgets_a_signature_only_once_it_is_stale():
    replays = bot.app.web.Replays(remember=0.2, most=3)
    assert replays.first_time("v0=a") and not replays.first_time("v0=a")
    time.sleep(0.25)
    assert replays.first_time("v0=a"), "ten minutes on (here 0.2 s), its timestamp is stale anyway"
    for name in "bcd":
        assert replays.first_time(f"v0={name}")
    assert not replays.first_time("v0=d")
