"""`allears check`: an installation's first problems are named with their fix, not discovered as silence."""

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.app.checks.local import check_read_api, check_webhook, read_config, read_settings
from bot.app.checks.sources import shown_url
from bot.app.standin.ports import free_port
from bot.app.standin.slack import APP_TOKEN, BOT_TOKEN, BOT_USER_ID, FakeSlack
from bot.app.standin.users import SIGNING_SECRET
from bot.ground.config import Api, Config
from bot.ground.config_sources import HackerNewsSource, RssSource
from bot.ground.settings import Settings
from bot.hear import triage
from bot.slack.checks import check_scopes, check_slack
from bot.slack.scopes import ALL_SCOPES, SCOPES, Feature, features_in_use, granted_scopes, missing_scopes
from tests.botprocess import BotProcess, config_toml
from tests.feedserver import rss

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
WEBHOOK_SECRET = "3f9a1c7e5b2d4086a1c3e5f7092b4d6e"
MEMBER_OF = ("C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT", "C0LEGAL")
SECRETS = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, WEBHOOK_SECRET, "hunter2")


def acme_config(feed_url: str, status_url: str) -> str:
    """The usual config, with the weekly summary on, a private VIP channel, a legal team and a status feed."""
    extra = f"""
[[routes]]
category = "praise"
channel = "C0VIP"

[teams.legal]
channel = "C0LEGAL"

[[sources]]
kind = "rss"
name = "status-page"
url = "{status_url}"
"""
    return config_toml(feed_url, summary="enabled = true", extra=extra)


@pytest.fixture
def workspace() -> Iterator[FakeSlack]:
    """Acme's workspace: the bot is in every public channel it needs; #c0vip is private and it is not in it."""
    slack = FakeSlack(channels=set(MEMBER_OF)).start()
    slack.make_private("C0VIP")
    slack.set_channels(BOT_USER_ID, *MEMBER_OF)
    yield slack
    slack.stop()


def check(bot: BotProcess) -> tuple[int, str]:
    """`allears check` as an operator runs it; whatever it says, it never shows a secret."""
    result = bot.cli("check")
    output = result.stdout + result.stderr
    for secret in SECRETS:
        assert secret not in output
    return result.returncode, result.stdout


def failure(output: str, name: str) -> str:
    """The ✗ line that names `name`, with the fix under it."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"✗ {name}"):
            below = list(itertools.takewhile(lambda text: text.startswith("    "), lines[index + 1 :]))
            assert below and below[-1].startswith("    fix: "), f"no fix under {line!r}"
            return "\n".join([line, *below])
    raise AssertionError(f"no failure named {name!r} in:\n{output}")


def minimal_config(**sections: object) -> Config:
    return Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}, **sections})


def test_check_names_each_problem_with_its_fix_until_everything_is_fixed(tmp_path, workspace, feeds):
    feeds.publish("/acme.xml", rss([]))
    unreachable = f"http://127.0.0.1:{free_port()}/status.xml?token=hunter2"
    workspace.grant_scopes(*(ALL_SCOPES - {"files:write"}))  # installed before the weekly chart was added
    bot = BotProcess(
        tmp_path,
        slack_api_url=workspace.api_url,
        database_url=f"sqlite:///{tmp_path / 'allears.db'}",
        config=acme_config(feeds.url("/acme.xml"), unreachable).replace('"C0LEGAL"', '"C0LEGL"'),
    )
    bot.env["ALLEARS_WEBHOOK_SECRET"] = "changeme"
    code, output = check(bot)
    assert code == 1

    scope = failure(output, "scope files:write")
    assert "the weekly summary's chart" in scope and "OAuth & Permissions" in scope and "reinstall" in scope

    missing = failure(output, "channel C0LEGL (teams.legal.channel)")
    assert "not found" in missing and "check the ID" in missing

    private = failure(output, "channel C0VIP (routes[1].channel)")
    assert "private and the bot is not in it" in private and "`/invite @All Ears` in #c0vip" in private

    group = failure(output, "user group S0SUPPORT (teams.support.usergroup)")
    assert "no such user group" in group and "Copy group ID" in group

    source = failure(output, "source status-page (http://127.0.0.1:")
    assert "/status.xml?…" in source and "ConnectError" in source and "check `url`" in source

    database = failure(output, "database sqlite:///")
    assert "no database file" in database and "`allears db upgrade`" in database

    webhook = failure(output, "inbound webhook")
    assert "placeholder" in webhook and "secrets.token_hex(32)" in webhook
    assert output.splitlines()[-1] == "7 problems"
    assert not (tmp_path / "allears.db").exists()  # checking creates nothing

    # Ana fixes each one, the way each fix says.
    workspace.grant_scopes(*ALL_SCOPES)
    workspace.set_channels(BOT_USER_ID, *MEMBER_OF, "C0VIP")
    workspace.add_usergroup("S0SUPPORT", "support")
    feeds.publish("/status.xml", rss([]))
    (tmp_path / "allears.toml").write_text(acme_config(feeds.url("/acme.xml"), feeds.url("/status.xml")))
    assert bot.cli("db", "upgrade").returncode == 0
    bot.env["ALLEARS_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    bot.env["SLACK_APP_TOKEN"] = APP_TOKEN

    code, output = check(bot)
    lines = output.splitlines()
    assert code == 0, output
    assert lines[-1] == "all good"
    assert all(line.startswith("✓ ") for line in lines[:-1]), output
    assert "✓ channel C0VIP (routes[1].channel): #c0vip, the bot is a member" in lines
    assert "✓ SLACK_APP_TOKEN: valid: Socket Mode connects" in lines
    assert any(line.startswith("✓ inbound webhook: on") for line in lines)
    assert f"✓ triage: complaint model {triage.model().version}: logistic regression over" in output


def test_a_typo_in_the_config_is_reported_with_the_loaders_message_and_the_rest_still_checked(
    tmp_path, workspace, feeds
):
    config = config_toml(feeds.url("/acme.xml")).replace("[channels]\n", "[chanels]\n")
    bot = BotProcess(
        tmp_path, slack_api_url=workspace.api_url, database_url=f"sqlite:///{tmp_path / 'a.db'}", config=config
    )
    code, output = check(bot)
    assert code == 2
    problem = failure(output, "config ")
    assert "chanels: unknown setting — did you mean channels?" in output and "allears.example.toml" in problem
    assert "✓ SLACK_BOT_TOKEN: valid" in output and "✓ scopes" in output  # Slack is checked all the same
    assert "database sqlite:///" in output


def test_an_unknown_webhook_event_is_named_by_check_with_the_events_there_are(tmp_path):
    path = tmp_path / "allears.toml"
    hook = '\n[[webhooks]]\nurl = "https://crm.example.com/hook"\nevents = ["mention.closed"]\nsecret_env = "PATH"\n'
    path.write_text(config_toml("https://example.com/feed.xml") + hook)
    config, [result] = read_config(path)
    assert config is None and not result.ok
    assert result.detail.startswith('webhooks[0].events[0]: "mention.closed" is not a webhook event;')
    assert "the events are mention.created, mention.claimed," in result.detail and "spike.started" in result.detail


def test_a_wrong_environment_setting_and_a_typo_in_the_config_are_both_named_and_nothing_is_created(
    tmp_path, workspace, feeds
):
    config = config_toml(feeds.url("/acme.xml")).replace('every = "1s"', 'evry = "1s"')
    bot = BotProcess(
        tmp_path, slack_api_url=workspace.api_url, database_url=f"sqlite:///{tmp_path / 'a.db'}", config=config
    )
    bot.env["PORT"] = "abc"
    code, output = check(bot)
    assert code == 2
    assert "valid integer" in failure(output, "environment variable PORT")
    assert "sources[0].evry: unknown setting — did you mean every?" in failure(output, "config ")
    assert [line[2:8] for line in output.splitlines() if line[:1] in "✓✗"] == ["enviro", "config"]
    assert not (tmp_path / "a.db").exists()


def test_a_bad_bot_token_and_a_bad_app_token_are_named(tmp_path, workspace, feeds):
    bot = BotProcess(
        tmp_path,
        slack_api_url=workspace.api_url,
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        config=config_toml(feeds.url("/acme.xml")),
    )
    feeds.publish("/acme.xml", rss([]))
    bot.env["SLACK_BOT_TOKEN"] = "xoxb-from-the-old-install"
    bot.env["SLACK_APP_TOKEN"] = "xapp-1-from-the-old-install"
    code, output = check(bot)
    assert code == 1
    token = failure(output, "SLACK_BOT_TOKEN")
    assert "Slack does not know this token" in token and "(invalid_auth)" in token
    assert "Bot User OAuth Token" in token
    assert "App-Level Tokens" in failure(output, "SLACK_APP_TOKEN")
    assert "channel C0" not in output  # nothing more is asked of Slack with a token it refuses
    assert "xoxb-from-the-old-install" not in output and "xapp-1-from-the-old-install" not in output


@pytest.mark.postgres
def test_an_unmigrated_database_is_named(tmp_path, workspace, feeds, own_postgres_url):
    with_password = own_postgres_url.replace("postgres@", "postgres:s3cret-db-pass@")
    bot = BotProcess(
        tmp_path,
        slack_api_url=workspace.api_url,
        database_url=with_password,
        config=config_toml(feeds.url("/acme.xml")),
    )
    feeds.publish("/acme.xml", rss([]))
    code, output = check(bot)
    assert code == 1
    database = failure(output, "database postgresql+psycopg://postgres:***@127.0.0.1:5432/")
    assert "not migrated" in database and "fix: run `allears db upgrade`" in database
    assert "s3cret-db-pass" not in output


def settings_for(api_url: str) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_app_token=None, slack_api_url=api_url
    )


def test_a_revoked_token_is_named_with_reinstalling_as_its_fix(workspace):
    workspace.fail("auth.test", status=200, error="token_revoked", times=1)
    [token, *_] = check_slack(settings_for(workspace.api_url), None)
    assert not token.ok and "revoked" in token.detail and "Reinstall to Workspace" in token.fix


def test_a_slack_that_does_not_answer_is_named_with_its_address():
    api_url = f"http://127.0.0.1:{free_port()}/api/"
    [token, *_] = check_slack(settings_for(api_url), None)
    assert not token.ok and f"Slack does not answer at {api_url}" in token.detail and "SLACK_API_URL" in token.fix


def test_a_public_channel_needs_no_invitation_unless_the_weekly_chart_is_uploaded_there(workspace):
    config = minimal_config(teams={"support": {"channel": "C0SUPPORT"}}, summary={"enabled": True})
    workspace.set_channels(BOT_USER_ID)  # in no channel at all
    results = {result.name: result for result in check_slack(settings_for(workspace.api_url), config)}
    support = results["channel C0SUPPORT (teams.support.channel)"]
    assert support.ok and "posts without an invitation" in support.detail
    listening = results["channel C0LISTEN (channels.default)"]
    assert not listening.ok and "weekly chart" in listening.detail and "/invite @All Ears" in listening.fix

    workspace.grant_scopes(*(ALL_SCOPES - {"chat:write.public"}))
    results = {result.name: result for result in check_slack(settings_for(workspace.api_url), config)}
    support = results["channel C0SUPPORT (teams.support.channel)"]
    assert not support.ok and "/invite @All Ears` in #c0support, or add chat:write.public" in support.fix
    assert not results["scope chat:write.public"].ok


# --- the scopes: one list, held against the manifest and against what Slack granted ----------------------


def test_the_manifest_asks_for_exactly_the_scopes_the_features_need():
    asked = yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"]
    assert len(asked) == len(set(asked)), "a scope is listed twice in manifest.yml"
    assert set(asked) == ALL_SCOPES


def test_a_feature_the_config_leaves_off_needs_no_scope():
    quiet = features_in_use(minimal_config(summary={"enabled": False}))
    assert Feature.WEEKLY_CHART not in quiet and Feature.USER_GROUPS not in quiet
    assert Feature.CARDS in quiet

    busy = features_in_use(minimal_config(teams={"support": {"channel": "C0SUPPORT", "usergroup": "S0SUPPORT"}}))
    assert Feature.WEEKLY_CHART in busy and Feature.USER_GROUPS in busy
    assert features_in_use(None) == list(Feature)  # an unreadable config: assume everything


def test_each_missing_scope_is_named_with_the_features_that_need_it():
    granted = granted_scopes("chat:write, commands,users:read")
    missing = missing_scopes(granted, [Feature.CARDS, Feature.HOME_QUEUE, Feature.COMMANDS])
    assert missing == {
        "chat:write.public": [Feature.CARDS],
        "channels:read": [Feature.HOME_QUEUE],
        "groups:read": [Feature.HOME_QUEUE],
    }
    assert missing_scopes(ALL_SCOPES, list(Feature)) == {}
    assert granted_scopes(None) == frozenset()


def test_a_missing_scope_fails_with_how_to_add_it():
    results = check_scopes(ALL_SCOPES - {"usergroups:read"}, list(Feature))
    assert [(result.name, result.ok) for result in results] == [("scope usergroups:read", False)]
    assert "add usergroups:read under OAuth & Permissions" in results[0].fix and "reinstall" in results[0].fix
    assert check_scopes(ALL_SCOPES, list(Feature))[0].ok
    assert not check_scopes(frozenset(), list(Feature))[0].ok  # no x-oauth-scopes header at all


def test_every_feature_needs_at_least_one_scope():
    assert set(SCOPES) == set(Feature) and all(SCOPES.values())


# --- the pieces that need no server -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "ok", "said"),
    [
        (None, True, "off"),
        (WEBHOOK_SECRET, True, "on"),
        ("change-me", False, "placeholder"),
        ("aaaaaaaaaaaaaaaaaaaaaa", False, "placeholder"),
        ("k3y-9f2a", False, "8 characters long"),
    ],
)
def test_the_webhook_is_reported_and_a_guessable_secret_fails(secret, ok, said):
    [result] = check_webhook(secret)
    assert result.ok is ok and said in result.detail
    assert secret is None or secret not in result.detail + result.fix


@pytest.mark.parametrize(
    ("tokens", "ok", "said"),
    [
        (None, True, "off (add [api] tokens_env"),
        ("wh-5b2f0c1e9d4a7c31, crm-77a1e4f09b2d6e58", True, "on (GET /api/v1/mentions, 2 token(s) in API_TOKENS)"),
        ("wh-5b2f0c1e9d4a7c31,changeme", False, "token 2 of API_TOKENS is a placeholder"),
        ("k3y-9f2a", False, "token 1 of API_TOKENS is 8 characters long"),
    ],
)
def test_the_read_api_is_reported_and_a_guessable_token_fails(monkeypatch, tokens, ok, said):
    monkeypatch.setenv("API_TOKENS", tokens or "unused")
    [result] = check_read_api(Api(tokens_env="API_TOKENS") if tokens else None)
    assert result.ok is ok and said in result.detail
    assert not tokens or not any(token.strip() in result.detail + result.fix for token in tokens.split(","))


def test_a_sources_address_is_shown_without_what_can_hold_a_secret():
    feed = RssSource(kind="rss", url="https://ana:hunter2@feeds.example.com/acme.xml?key=hunter2")
    assert shown_url(feed) == "https://feeds.example.com/acme.xml?…"
    assert shown_url(HackerNewsSource(kind="hackernews", query="acme")) == "https://hn.algolia.com/api/v1/"


def test_an_environment_variable_that_cannot_be_read_is_named(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    settings, [problem] = read_settings()
    assert settings is None and not problem.ok
    assert problem.name == "environment variable LOG_FORMAT" and ".env.example" in problem.fix
