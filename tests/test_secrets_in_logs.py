"""No token, password or signing secret ever reaches the log, Slack or an HTTP answer, however things fail.

`allears run` gets distinctive secrets (the Slack signing secret, the webhook secret, sources' tokens,
a Bluesky app password, a feed URL with a token and a password in it), and then everything goes wrong:
every source fails (each service even echoes the secret it was sent), Slack has an outage, forged and
stale requests arrive, a webhook is badly signed, a handler meets an unexpected exception. Then the
process log, every call the bot made to Slack, every answer it gave and the CLI's output are searched
for each secret. The bot token cannot be distinctive (the fake Slack checks it) but is searched too.
"""

import json
import secrets
import subprocess
import time
from urllib.parse import quote

import httpx
import pytest

from bot.app.standin.slack import BOT_TOKEN, FakeSlack
from bot.app.standin.users import Drafts, SlackUser, post_to_webhook, signature
from tests.apiserver import ApiServer
from tests.botprocess import ALLEARS, BotProcess
from tests.feedserver import FeedServer

pytestmark = pytest.mark.security


def _secret(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(10)}"


SIGNING_SECRET = _secret("signing")
WEBHOOK_SECRET = _secret("webhook")
MASTODON_TOKEN = _secret("mastodon")
GITHUB_TOKEN = "ghp_" + secrets.token_hex(12)
STACK_KEY = _secret("stackkey")
BLUESKY_PASSWORD = "-".join(secrets.token_hex(2) for _ in range(4))
FEED_TOKEN = _secret("feedtoken")
FEED_PASSWORD = _secret("feedpassword")
SECRETS = {
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "ALLEARS_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "ACME_MASTODON_TOKEN": MASTODON_TOKEN,
    "ACME_GITHUB_TOKEN": GITHUB_TOKEN,
    "ACME_STACK_KEY": STACK_KEY,
    "ACME_BLUESKY_PASSWORD": BLUESKY_PASSWORD,
}
LEAKABLE = {
    **SECRETS,
    "the feed URL's token": FEED_TOKEN,
    "the feed URL's password": FEED_PASSWORD,
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "the legacy verification token in Slack's payloads": "legacy-verification-token",
}


def config(api: ApiServer) -> str:
    feed = api.url("/private/feed.xml").replace("://", f"://reader:{FEED_PASSWORD}@") + f"?token={FEED_TOKEN}"
    return f"""
[listen]
keywords = ["acme"]

[channels]
default = "C0LISTEN"

[[sources]]
kind = "rss"
url = "{feed}"
every = "1s"

[[sources]]
kind = "mastodon"
name = "mastodon"
base_url = "{api.url("/mastodon/")}"
query = "acme"
token_env = "ACME_MASTODON_TOKEN"
every = "1s"

[[sources]]
kind = "github"
name = "github"
base_url = "{api.url("/github/")}"
query = "acme"
token_env = "ACME_GITHUB_TOKEN"
every = "1s"

[[sources]]
kind = "stackexchange"
name = "stackexchange"
base_url = "{api.url("/stack/")}"
query = "acme"
key_env = "ACME_STACK_KEY"
every = "1s"

[[sources]]
kind = "bluesky"
name = "bluesky"
base_url = "{api.url("/bluesky/xrpc/")}"
query = "acme"
handle = "acme.example.com"
app_password_env = "ACME_BLUESKY_PASSWORD"
every = "1s"

[teams.support]
channel = "C0SUPPORT"

[summary]
enabled = false
"""


def fail_every_source_echoing_its_secret(api: ApiServer) -> None:
    """What a broken proxy or a chatty API does: refuse, and quote the credential it was given."""
    api.answer("/private/feed.xml", f"no access for token={FEED_TOKEN} ({FEED_PASSWORD})", status=500)
    api.answer("/mastodon/api/v2/search", f"<html>Bearer {MASTODON_TOKEN} is not welcome here</html>")
    api.answer("/github/search/issues", {"message": f"Bad credentials: {GITHUB_TOKEN}"}, status=401)
    api.answer(
        "/stack/search/advanced",
        {"error_id": 400, "error_name": "key_invalid", "error_message": f"`{STACK_KEY}` is not a valid key"},
        status=400,
    )
    api.answer(
        "/bluesky/xrpc/com.atproto.server.createSession",
        {"error": "AuthenticationRequired", "message": f"Invalid identifier or password {BLUESKY_PASSWORD}"},
        method="POST",
        status=401,
    )


def _leaks(where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, value in LEAKABLE.items() if value in text]


def test_no_secret_reaches_the_log_slack_or_an_answer_however_things_fail(
    tmp_path, fake_slack: FakeSlack, feeds: FeedServer, api: ApiServer
):
    fail_every_source_echoing_its_secret(api)
    bot = BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=f"sqlite:///{tmp_path / 'a.db'}", config=config(api)
    )
    bot.env.update(SECRETS)
    answers: list[httpx.Response] = []
    try:
        bot.start()
        ana = SlackUser("U_ANA", bot.url, fake_slack, secret=SIGNING_SECRET)

        # Every source fails, and says so in the log.
        for name in ("127.0.0.1", "mastodon", "github", "stackexchange", "bluesky"):
            fake_slack.wait_for(lambda name=name: f"source {name}: " in bot.logs(), what=f"{name} to fail")

        # Slack is down while a mention comes in through the webhook; it is posted once Slack is back.
        fake_slack.fail("chat.postMessage", seconds=3)
        body = json.dumps({"text": "Acme lost my invoices", "source": "zendesk", "id": "t-1"}).encode()
        answers.append(created := post_to_webhook(bot.url, body, secret=WEBHOOK_SECRET))
        assert created.status_code == 201
        card = fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the card after the outage")[0]

        # Forged, stale and malformed requests; a badly signed webhook.
        forged_body = json.dumps({"text": "forged", "id": "t-2"}).encode()
        answers.append(post_to_webhook(bot.url, forged_body, secret="guessed-secret"))
        claim, form = Drafts("U_ANA", bot.url, fake_slack).command("/claim", "M-1")
        now = int(time.time())
        answers += [
            ana.post(claim, form, timestamp=str(now - 600)),  # correctly signed, 10 minutes ago
            ana.post(claim, form, signature=signature(claim, str(now), "guessed-secret")),
            ana.post(claim, form, timestamp="not-a-time"),
            ana.open_home(),
        ]

        # An unexpected exception in a handler (SQLite cannot hold the id), and a Slack call failing in one.
        ana.click("mention_claim", "9" * 30, channel="C0LISTEN", message_ts=card.ts)
        unexpected = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="the error")
        fake_slack.fail("views.open", times=1)
        ana.click("mention_reply", "1", channel="C0LISTEN", message_ts=card.ts)
        refused = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="the error")
        assert "ref `" in unexpected[0]["text"] and "ref `" in refused[0]["text"]

        # What an operator looks at: the sources' health in Slack, and `allears poll --once`.
        ana.command("/allears", "sources")
        health = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="the sources")[0]
        assert json.dumps(health).count(":red_circle: failing") == 5, health
        polled = bot.cli("poll", "--once")
        assert polled.stdout.count("error:") == 5, polled.stdout + polled.stderr
    finally:
        bot.stop()

    logs = bot.logs()
    leaks = _leaks("the log", logs)
    leaks += _leaks("a call to Slack", json.dumps([call.args for call in fake_slack.calls]))
    leaks += _leaks("an HTTP answer", "\n".join(answer.text for answer in answers))
    leaks += _leaks("`allears poll`", polled.stdout + polled.stderr)
    assert leaks == []
    assert "/respond/" not in logs, "a response_url (anyone holding it can post) was logged"
    assert [answer.status_code for answer in answers] == [201, 401, 401, 401, 401, 200]
    assert logs.count("unexpected error (ref") == 2, "the two provoked, and no other"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:1", "127.0.0.1:notaport", "no-such-host.invalid:5432"],
    ids=["refused", "malformed", "unknown host"],
)
def test_a_database_password_stays_out_of_the_error_when_the_database_cannot_be_reached(tmp_path, address):
    password = _secret("dbpassword")
    (tmp_path / "allears.toml").write_text('[listen]\nkeywords = ["acme"]\n\n[channels]\ndefault = "C0LISTEN"\n')
    environment = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"postgres://allears:{quote(password)}@{address}/allears",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ALLEARS_CONFIG": str(tmp_path / "allears.toml"),
    }

    for command in (["db", "upgrade"], ["run"]):
        done = subprocess.run(
            [*ALLEARS, *command], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0
        assert password not in done.stdout + done.stderr, done.stderr[-2000:]
        assert SIGNING_SECRET not in done.stdout + done.stderr
