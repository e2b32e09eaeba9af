"""The read API: the data team's warehouse and the CRM read what All Ears heard and what the team did, with their
own bearer tokens, a page at a time; every answer they get is the one the OpenAPI document promises."""

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_document
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.act.actions import claim, reply, resolve
from bot.app.read_api import DOCUMENT
from bot.app.standin.users import SlackUser
from bot.app.web import create_web_app
from bot.ground import migrate
from bot.ground.config import Config, Sentiment, load_config
from bot.ground.db import make_engine, session_scope
from bot.ground.errors import ConfigError
from bot.ground.models import Outcome
from bot.hear.batches import record
from bot.hear.polling import Listener
from tests.botprocess import BotProcess, config_toml
from tests.factories import heard
from tests.feedserver import Entry, rss
from tests.waiting import eventually

WAREHOUSE = "warehouse-5b2f0c1e9d"
CRM = "crm-77a1e4"
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BEYOND_BIGINT = base64.urlsafe_b64encode(b'{"h":"2026-11-30T09:00:00+00:00","i":99999999999999999999}').decode()
"""A cursor made by hand past any mention id the database can hold."""


class Reader:
    """Another tool reading the API; each answer it gets is checked against the OpenAPI document."""

    def __init__(self, client: FlaskClient | httpx.Client, token: str | None) -> None:
        self.client = client
        self.token = token
        self.checked = 0

    def get(self, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = (
            self.client.get(path, params=params, headers=headers)
            if isinstance(self.client, httpx.Client)
            else self.client.get(path, query_string=params, headers=headers)
        )
        status = answer.status_code
        body = json.loads(answer.content if isinstance(answer, httpx.Response) else answer.data)
        assert answer.headers["Content-Type"] == "application/json"
        _check_against_document(path, status, body)
        self.checked += 1
        return status, body

    def mentions(self, **params: Any) -> dict[str, Any]:
        status, body = self.get("/api/v1/mentions", **params)
        assert status == 200, body
        return body

    def walk(self, **params: Any) -> list[str]:
        """Every page, following next_cursor until has_more is false: the references in the order read."""
        seen: list[str] = []
        cursor = None
        while True:
            page = self.mentions(**params, **({"cursor": cursor} if cursor else {}))
            seen += [mention["reference"] for mention in page["mentions"]]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return seen


def _check_against_document(path: str, status: int, body: dict[str, Any]) -> None:
    template = "/api/v1/mentions/{ref}" if path.startswith("/api/v1/mentions/") else path
    answers = DOCUMENT["paths"][template]["get"]["responses"]
    assert str(status) in answers, f"{status} is not documented for {template}"
    schema = answers[str(status)]["content"]["application/json"]["schema"]
    validator = OAS31Validator(
        {**schema, "components": DOCUMENT["components"]}, format_checker=OAS31Validator.FORMAT_CHECKER
    )
    assert [error.message for error in validator.iter_errors(body)] == []


def _web(engine: Engine, tokens: list[str] | None) -> FlaskClient:
    """The web process's HTTP face, as `allears serve` builds it (a Bolt app that never calls Slack here)."""
    bolt = App(signing_secret="not-used", client=WebClient(token="xoxb-test"), token_verification_enabled=False)
    config = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    web = create_web_app(
        bolt,
        engine,
        signing_secret="not-used",
        listener=Listener(config),
        webhook_secret=None,
        notify=lambda: None,
        api_tokens=tokens,
    )
    return web.test_client()


@pytest.fixture
def warehouse(engine: Engine) -> Reader:
    return Reader(_web(engine, [WAREHOUSE, CRM]), WAREHOUSE)


def hear(
    engine: Engine,
    external_id: str,
    *,
    at: datetime,
    sentiment: Sentiment = Sentiment.NEGATIVE,
    source: str = "status-feed",
    product: str | None = None,
) -> int:
    """A mention recorded as ingestion records it, heard at `at`."""
    polarity = {Sentiment.NEGATIVE: -0.5, Sentiment.NEUTRAL: 0.0, Sentiment.POSITIVE: 0.6}[sentiment]
    item = replace(
        heard(f"Acme post {external_id}", external_id=external_id, source=source, sentiment=sentiment),
        polarity=polarity,
        product=product,
    )
    with session_scope(engine) as session:
        mention_id = record(session, item, now=at)
    assert mention_id is not None
    return mention_id


def test_each_filter_keeps_only_its_mentions(engine, warehouse):
    old = hear(engine, "old", at=MONDAY - timedelta(days=3))
    cloud = hear(engine, "cloud", at=MONDAY + timedelta(hours=1), product="Acme Cloud", sentiment=Sentiment.POSITIVE)
    forum = hear(engine, "forum", at=MONDAY + timedelta(hours=2), source="acme-forum", sentiment=Sentiment.NEUTRAL)
    claimed = hear(engine, "claimed", at=MONDAY + timedelta(hours=3))
    with session_scope(engine) as session:
        claim(session, mention_id=claimed, user_id="U0ANA", now=MONDAY + timedelta(hours=4))
        resolve(session, mention_id=old, user_id="U0BEN", outcome=Outcome.ANSWERED, now=MONDAY)

    def refs(**params: str) -> list[str]:
        return [mention["reference"] for mention in warehouse.mentions(**params)["mentions"]]

    everything = [f"M-{i}" for i in (old, cloud, forum, claimed)]
    assert refs() == everything, "in the order heard"
    assert refs(since="2026-11-30") == everything[1:]
    assert refs(since="2026-11-30T11:30:00+01:00") == everything[2:], "10:30 UTC"
    assert refs(since="2026-11-30T11:00:00") == everything[2:], "no offset is UTC"
    assert refs(status="resolved") == [f"M-{old}"]
    assert refs(status="open") == everything[1:]
    assert refs(source="acme-forum") == [f"M-{forum}"]
    assert refs(product="Acme Cloud") == [f"M-{cloud}"]
    assert refs(sentiment="negative") == [f"M-{old}", f"M-{claimed}"]
    assert refs(owner="U0ANA") == [f"M-{claimed}"]
    assert refs(sentiment="negative", since="2026-11-30", status="open") == [f"M-{claimed}"]
    assert refs(source="nobody-configured-this") == []

    shown = warehouse.mentions(owner="U0ANA")["mentions"][0]
    assert shown | {"heard_at": None} == shown | {
        "reference": f"M-{claimed}",
        "id": claimed,
        "heard_at": None,
        "source": "status-feed",
        "text": "Acme post claimed",
        "sentiment": "negative",
        "status": "open",
        "owner": "U0ANA",
        "claimed_at": "2026-11-30T13:00:00Z",
        "url": "https://example.com/posts/claimed",
        "joined_to": None,
    }
    assert shown["heard_at"] == "2026-11-30T12:00:00Z"


def test_a_walk_reads_every_mention_once_though_more_arrive_while_it_walks(engine, warehouse):
    # A batch is recorded at one moment: ten mentions share a heard_at, and the walk still splits them cleanly.
    for n in range(10):
        hear(engine, f"batch-{n}", at=MONDAY)
    for n in range(13):
        hear(engine, f"later-{n}", at=MONDAY + timedelta(minutes=n))

    seen: list[str] = []
    first = warehouse.mentions(limit=4)
    seen += [mention["reference"] for mention in first["mentions"]]
    arrived = [hear(engine, f"arrived-{n}", at=MONDAY + timedelta(hours=1, minutes=n)) for n in range(3)]
    cursor = first["next_cursor"]
    while True:
        page = warehouse.mentions(limit=4, cursor=cursor)
        seen += [mention["reference"] for mention in page["mentions"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break

    assert sorted(seen) == sorted(f"M-{i}" for i in range(1, 27)), "each stored mention exactly once"
    assert len(seen) == len(set(seen)) == 26
    assert seen[-3:] == [f"M-{i}" for i in arrived], "what arrived while it walked comes at its end"

    # The warehouse keeps the last cursor and comes back tomorrow for what was heard since.
    assert warehouse.mentions(cursor=cursor) == {"mentions": [], "next_cursor": cursor, "has_more": False}
    tomorrow = hear(engine, "tomorrow", at=MONDAY + timedelta(days=1))
    again = warehouse.mentions(cursor=cursor)
    assert [m["reference"] for m in again["mentions"]] == [f"M-{tomorrow}"]
    assert warehouse.walk(limit=500) == warehouse.walk(limit=1) == seen + [f"M-{tomorrow}"]


def test_a_filtered_walk_reads_each_match_once(engine, warehouse):
    for n in range(15):
        hear(engine, f"p-{n}", at=MONDAY + timedelta(minutes=n), sentiment=list(Sentiment)[n % 3])
    negative = warehouse.walk(sentiment="negative", limit=2)
    assert negative == [f"M-{n + 1}" for n in range(0, 15, 3)]


def test_one_mention_shows_with_its_events(engine, warehouse):
    mention_id = hear(engine, "story", at=MONDAY)
    with session_scope(engine) as session:
        claim(session, mention_id=mention_id, user_id="U0ANA", now=MONDAY + timedelta(minutes=5))
        reply(session, mention_id=mention_id, user_id="U0ANA", text="Fixed now", now=MONDAY + timedelta(minutes=9))
        resolve(session, mention_id=mention_id, user_id="U0ANA", outcome=Outcome.FIXED, now=MONDAY + timedelta(hours=1))

    status, shown = warehouse.get(f"/api/v1/mentions/M-{mention_id}")
    assert status == 200
    assert warehouse.get(f"/api/v1/mentions/{mention_id}") == (200, shown), "the bare id reads too"
    assert (shown["reference"], shown["status"], shown["outcome"]) == (f"M-{mention_id}", "resolved", "fixed")
    assert [(event["kind"], event["actor"]) for event in shown["events"]] == [
        ("claimed", "U0ANA"),
        ("replied", "U0ANA"),
        ("resolved", "U0ANA"),
    ]
    assert shown["events"][1]["at"] == "2026-11-30T09:09:00Z"
    assert shown["events"][1]["data"]["text"] == "Fixed now"


def test_an_unknown_mention_is_404_and_what_is_not_a_reference_400(engine, warehouse):
    assert warehouse.get("/api/v1/mentions/M-404") == (404, {"error": "there is no mention M-404", "parameter": "ref"})
    status, refused = warehouse.get("/api/v1/mentions/latest")
    assert (status, refused["parameter"]) == (400, "ref")


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"status": "closed"}, "status", "status: Input should be 'open', 'resolved'"),
        ({"sentiment": "angry"}, "sentiment", "sentiment: Input should be 'negative'"),
        ({"since": "last monday"}, "since", 'since: "last monday" is not a date'),
        ({"owner": "ana"}, "owner", 'owner: "ana" is not a Slack user ID'),
        ({"limit": "0"}, "limit", "limit: Input should be greater than or equal to 1"),
        ({"limit": "501"}, "limit", "limit: Input should be less than or equal to 500"),
        ({"limit": "all"}, "limit", "limit: Input should be a valid integer"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor", "cursor: not a cursor this API gave"),
        ({"sentiments": "negative"}, "sentiments", "sentiments is not a parameter of this endpoint"),
        ({"source": ""}, "source", "source: String should have at least 1 character"),
        ({"source": "status\x00feed"}, "source", "source: String should match pattern"),
        ({"cursor": BEYOND_BIGINT}, "cursor", "cursor: not a cursor this API gave"),
        ({"status": ["open", "resolved"]}, "status", "give status once"),
    ],
)
def test_a_wrong_parameter_is_refused_with_its_name(engine, warehouse, params, parameter, says):
    status, refused = warehouse.get("/api/v1/mentions", **params)
    assert (status, refused["parameter"]) == (400, parameter)
    assert refused["error"].startswith(says), refused["error"]


def test_without_the_right_bearer_token_nothing_is_read(engine):
    hear(engine, "secret", at=MONDAY)
    client = _web(engine, [WAREHOUSE, CRM])
    for headers in ({}, {"Authorization": f"Bearer {WAREHOUSE}x"}, {"Authorization": f"Basic {WAREHOUSE}"}):
        for path in ("/api/v1/mentions", "/api/v1/mentions/M-1"):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 401
            assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="allears"')
            assert "Acme post" not in answer.text
            _check_against_document(path, 401, answer.json)
    assert (
        'error="invalid_token"'
        in client.get("/api/v1/mentions", headers={"Authorization": "Bearer x"}).headers["WWW-Authenticate"]
    )
    for token in (WAREHOUSE, CRM):  # each tool its own token
        assert Reader(client, token).get("/api/v1/mentions/M-1")[0] == 200


def test_without_an_api_section_there_is_no_api(engine):
    client = _web(engine, None)
    for path in ("/api/v1/mentions", "/api/v1/mentions/M-1", "/api/v1/openapi.json"):
        assert client.get(path, headers={"Authorization": f"Bearer {WAREHOUSE}"}).status_code == 404
    assert client.get("/healthz").status_code == 200


def test_the_openapi_document_is_served_without_a_token_and_is_valid_openapi_3_1(engine):
    answer = _web(engine, [WAREHOUSE]).get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.json
    assert document == DOCUMENT and document["openapi"] == "3.1.0"
    validate_document(document)
    parameters = {p["name"] for p in document["paths"]["/api/v1/mentions"]["get"]["parameters"]}
    assert parameters == {"since", "status", "source", "product", "sentiment", "owner", "limit", "cursor"}


def test_the_data_teams_warehouse_pulls_the_last_weeks_negative_mentions(tmp_path: Path, fake_slack, feeds):
    """A real `allears run` serving Slack and the API on one port: last month's complaint and this week's praise
    stay out of the warehouse's nightly pull; this week's complaints come in, and Ana's claim of one shows."""
    database_url = f"sqlite:///{tmp_path / 'allears.db'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    last_month = hear(engine, "last-month", at=now - timedelta(days=30))
    engine.dispose()
    bot = BotProcess(
        tmp_path,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
        config=config_toml(feeds.url("/acme.xml"), extra='[api]\ntokens_env = "ALLEARS_API_TOKENS"'),
    )
    bot.env["ALLEARS_API_TOKENS"] = f" {WAREHOUSE} , {CRM} "
    feeds.publish(
        "/acme.xml",
        rss(
            [
                Entry(
                    guid="down",
                    link="https://forum.example.com/t/down",
                    title="Acme is down",
                    description="Acme cloud has been down for an hour, awful",
                ),
                Entry(
                    guid="love",
                    link="https://forum.example.com/t/love",
                    title="Acme",
                    description="I love Acme cloud, great support",
                ),
                Entry(
                    guid="bill",
                    link="https://forum.example.com/t/bill",
                    title="Acme",
                    description="Acme charged me twice, terrible billing",
                ),
            ]
        ),
    )
    warehouse = Reader(httpx.Client(base_url=bot.url, timeout=10), WAREHOUSE)
    try:
        bot.start()
        since = (now - timedelta(days=7)).isoformat()
        pulled = eventually(
            lambda: (
                (page := warehouse.mentions(since=since, sentiment="negative"))["mentions"]
                and len(page["mentions"]) == 2
                and page
            ),
            timeout=30,
            interval=0.1,
            what="this week's two complaints in the API",
        )
        assert {m["text"] for m in pulled["mentions"]} == {
            "Acme cloud has been down for an hour, awful",
            "Acme charged me twice, terrible billing",
        }
        assert f"M-{last_month}" not in {m["reference"] for m in pulled["mentions"]}
        assert {m["source"] for m in pulled["mentions"]} == {"acme-alerts"}
        assert not pulled["has_more"]

        first = pulled["mentions"][0]["reference"]
        SlackUser("U0ANA", bot.url, fake_slack).command("/claim", first)
        detail = eventually(
            lambda: (shown := warehouse.get(f"/api/v1/mentions/{first}")[1])["owner"] == "U0ANA" and shown,
            timeout=30,
            interval=0.1,
            what="Ana's claim in the API",
        )
        assert ("claimed", "U0ANA") in [(event["kind"], event["actor"]) for event in detail["events"]]
        assert warehouse.mentions(owner="U0ANA")["mentions"][0]["reference"] == first
        assert warehouse.checked >= 3
        assert httpx.get(bot.url + "/api/v1/mentions", timeout=10).status_code == 401
    finally:
        warehouse.client.close()
        bot.stop()


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        (None, "api.tokens_env: the environment variable ALLEARS_API_TOKENS is not set"),
        (" , ,", "api: the environment variable ALLEARS_API_TOKENS holds no token"),
    ],
)
def test_an_api_section_without_tokens_stops_start_up(tmp_path, monkeypatch, tokens, says):
    if tokens is None:
        monkeypatch.delenv("ALLEARS_API_TOKENS", raising=False)
    else:
        monkeypatch.setenv("ALLEARS_API_TOKENS", tokens)
    path = tmp_path / "allears.toml"
    path.write_text(config_toml("https://example.com/feed.xml", extra='[api]\ntokens_env = "ALLEARS_API_TOKENS"'))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert says in str(error.value)
