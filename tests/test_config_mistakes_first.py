"""A new team's first mistakes are named first: every command reads and checks its settings and `allears.toml`
before it opens the database, and one it refuses leaves no empty database file behind."""

import pytest

from bot.app.demo import run as demo
from bot.app.demo.workspace import config_toml as demo_config_toml
from bot.app.standin.ports import free_port
from bot.ground.errors import ConfigError
from tests.botprocess import BotProcess, config_toml

TYPO = "sla.claim_withn: unknown setting — did you mean claim_within?"
COMMANDS = [("run",), ("serve",), ("worker",), ("poll", "--once"), ("summary",), ("export",), ("db", "upgrade")]
NEED_A_DATABASE = [("serve",), ("worker",), ("poll", "--once"), ("summary",), ("export",)]


def first_try(tmp_path, fake_slack, feeds, *, sla: str = 'claim_within = "30m"') -> BotProcess:
    """Dana's first install: her `allears.toml` with an `[sla]` of her own, and no database yet."""
    config = config_toml(feeds.url("/acme.xml"), extra=f"[sla]\n{sla}\n")
    return BotProcess(
        tmp_path, slack_api_url=fake_slack.api_url, database_url=f"sqlite:///{tmp_path / 'a.db'}", config=config
    )


def nothing_created(bot: BotProcess) -> bool:
    return not (bot.workdir / "a.db").exists() and not (bot.workdir / "a.db.lock").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_command_names_a_misspelt_setting_before_it_opens_the_database(tmp_path, fake_slack, feeds, command):
    bot = first_try(tmp_path, fake_slack, feeds, sla='claim_withn = "30m"')
    result = bot.cli(*command, timeout=30)
    assert result.returncode == 2, result.stderr
    assert TYPO in result.stderr and "database" not in result.stderr
    assert nothing_created(bot)


@pytest.mark.parametrize("command", NEED_A_DATABASE, ids=" ".join)
def test_a_command_refuses_a_missing_sqlite_file_without_creating_it(tmp_path, fake_slack, feeds, command):
    bot = first_try(tmp_path, fake_slack, feeds)
    result = bot.cli(*command, timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"there is no database file at {tmp_path / 'a.db'} yet" in result.stderr
    assert "run `allears db upgrade` to create it" in result.stderr
    assert nothing_created(bot)


@pytest.mark.parametrize("command", [("run",), ("export",), ("db", "upgrade")], ids=" ".join)
def test_a_wrong_environment_setting_is_named_not_shown_as_a_traceback(tmp_path, fake_slack, feeds, command):
    bot = first_try(tmp_path, fake_slack, feeds)
    bot.env["PORT"] = "abc"
    result = bot.cli(*command, timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "allears: environment variable PORT: Input should be a valid integer" in result.stderr
    assert nothing_created(bot)


def test_the_demo_reads_its_own_config_like_any_other_and_names_a_misspelt_setting(monkeypatch):
    """The demo writes its config itself; one mistyped there is named as a user's would be."""
    monkeypatch.setattr(demo, "config_toml", lambda url: demo_config_toml(url).replace("threshold =", "treshold ="))
    with pytest.raises(ConfigError, match="storm.treshold: unknown setting — did you mean threshold?"):
        demo.run_demo(port=free_port(), browser=False)
