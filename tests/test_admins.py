"""Admins: who they are, pausing and resuming a source (on SQLite and PostgreSQL), and logging a link."""

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.act import admins
from bot.ground.config import Admins, Config, load_config
from bot.ground.config_sources import RssSource
from bot.ground.db import read_scope
from bot.ground.errors import ConfigError, UserError
from bot.ground.models import Mention
from bot.hear.health import source_health
from bot.hear.intake import log_forwarded
from bot.hear.polling import Listener, poll
from bot.hear.safe_fetch import FetchRefused, Page
from bot.slack.answers import help_text, sources_blocks
from handlers.admin import pause_confirmation, resume_confirmation
from handlers.commands import logged_confirmation
from tests.feedserver import Entry, rss

CONFIG = Config.model_validate(
    {"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}, "admins": {"users": ["U0ANA"]}}
)
LISTENER = Listener(CONFIG)
QUESTION = Entry(
    guid="q-1", title="Acme question", description="How do I export my Acme data?", link="https://f.example/1"
)


def test_only_listed_users_are_admins_and_a_refusal_is_logged(caplog):
    admins.require_admin(CONFIG.admins, user_id="U0ANA", command="/allears pause", doing="pause a source")
    with caplog.at_level(logging.WARNING, logger="bot.act.admins"), pytest.raises(UserError) as refused:
        admins.require_admin(CONFIG.admins, user_id="U0BEN", command="/allears pause", doing="pause a source")
    assert str(refused.value) == (
        "Only All Ears admins can pause a source; admins are listed in `[admins] users` in allears.toml."
    )
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "U0BEN" in record.getMessage() and "/allears pause" in record.getMessage()

    with pytest.raises(UserError):
        admins.require_admin(Admins(), user_id="U0ANA", command="/allears export", doing="export mentions")


def test_sources_are_found_by_name_whatever_the_case_and_a_wrong_name_lists_them():
    sources = [RssSource(kind="rss", name="acme-alerts", url="https://a.example/f.xml")]
    assert admins.find_source(sources, " ACME-Alerts ").key == "acme-alerts"
    with pytest.raises(UserError, match="There is no source `blog`. Sources: `acme-alerts`."):
        admins.find_source(sources, "blog")
    with pytest.raises(UserError, match=r"none \(add `\[\[sources\]\]`"):
        admins.find_source([], "blog")


def test_a_paused_source_is_not_polled_until_resumed_but_poll_once_still_polls_it(engine, feeds, http):
    feeds.publish("/acme.xml", rss([QUESTION]))
    source = RssSource(kind="rss", name="acme-alerts", url=feeds.url("/acme.xml"))
    at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    paused = admins.pause(engine, source=source, user_id="U0ANA", now=at)
    assert (paused.changed, paused.paused_by, paused.paused_at) == (True, "U0ANA", at)
    again = admins.pause(engine, source=source, user_id="U0LEAD")
    assert (again.changed, again.paused_by, again.paused_at) == (False, "U0ANA", at), "who paused it first stays"

    skipped = poll(engine, http, LISTENER, source)
    assert skipped.paused_at == at and skipped.fetched == 0 and feeds.requests == []
    with read_scope(engine) as session:
        [health] = source_health(session, [source])
    assert (health.paused_by, health.paused_at, health.next_poll_at) == ("U0ANA", at, None)
    shown = str(sources_blocks([health]))
    assert ":double_vertical_bar: paused" in shown and "paused by <@U0ANA> since <!date^" in shown
    assert "2026-12-04 09:00 UTC" in shown

    assert poll(engine, http, LISTENER, source, force=True).new == 1, "an operator's poll --once still polls"

    resumed = admins.resume(engine, source=source, user_id="U0ANA")
    assert resumed.changed and not admins.resume(engine, source=source, user_id="U0ANA").changed
    assert poll(engine, http, LISTENER, source).error is None and len(feeds.requests) == 2
    with read_scope(engine) as session:
        [health] = source_health(session, [source])
    assert health.paused_at is None and health.next_poll_at is not None


def test_pausing_a_source_never_polled_yet(engine):
    source = RssSource(kind="rss", name="new-blog", url="https://blog.example/feed.xml")
    paused = admins.pause(engine, source=source, user_id="U0ANA")
    assert paused.changed and "Paused *new-blog*" in pause_confirmation(paused)
    assert "`allears poll --once` still polls it" in pause_confirmation(paused)
    assert "is already paused by <@U0ANA> since" in pause_confirmation(
        admins.pause(engine, source=source, user_id="U0ANA")
    )
    assert "Resumed *new-blog*" in resume_confirmation(admins.resume(engine, source=source, user_id="U0ANA"))
    assert resume_confirmation(admins.resume(engine, source=source, user_id="U0ANA")) == "*new-blog* is not paused."


def test_help_marks_the_admin_commands_and_says_config_lives_in_the_file():
    text = help_text(teams=["support"], outcomes=["answered"])
    for command in ("/allears pause <source>", "/allears resume <source>", "/allears export [since] [until]"):
        assert f"`{command}` (admin-only)" in text
    assert "Sources, routes and teams are changed there, not from Slack" in text


def test_admins_and_fetch_hosts_are_checked_at_start(tmp_path: Path):
    path = tmp_path / "allears.toml"
    base = '[listen]\nkeywords = ["acme"]\n[channels]\ndefault = "C0LISTEN"\n'
    path.write_text(base + '[admins]\nusers = ["ana"]\nfetch_hosts = ["https://intranet.example/wiki"]\n')
    with pytest.raises(ConfigError) as wrong:
        load_config(path)
    assert "admins.users[0]: " in str(wrong.value) and "is not a Slack user ID" in str(wrong.value)
    assert 'admins.fetch_hosts[0]: "https://intranet.example/wiki" is not a host name' in str(wrong.value)

    path.write_text(base + '[admins]\nusers = ["U0ANA"]\nfetch_hosts = ["Intranet.Example", "[::1]"]\n')
    assert load_config(path).admins == Admins(users=["U0ANA"], fetch_hosts=["intranet.example", "::1"])
    path.write_text(base)
    assert load_config(path).admins == Admins(), "without the table nobody is an admin"


def test_a_logged_link_takes_its_pages_text_or_says_why_not_and_keeps_the_link(engine):
    def read(url: str) -> Page:
        if "intranet" in url:
            raise FetchRefused("intranet.example resolves to a private address (10.0.0.5)")
        return Page(title="Acme <review>", text="Acme support took a week to answer.")

    fetched = log_forwarded(
        engine, LISTENER, text="", url="https://news.example/a", forwarded_by="U0SAM", external_id="a", read_page=read
    )
    refused = log_forwarded(
        engine, LISTENER, text="", url="http://intranet.example/", forwarded_by="U0SAM", external_id="b", read_page=read
    )
    with read_scope(engine) as session:
        first, second = session.get(Mention, fetched.mention_id), session.get(Mention, refused.mention_id)
    assert (first.title, first.text, first.url) == (
        "Acme <review>",
        "Acme support took a week to answer.",
        "https://news.example/a",
    )
    assert (second.title, second.text, second.url) == (None, "http://intranet.example/", "http://intranet.example/")
    assert logged_confirmation(fetched).endswith("Its text is from the page “Acme &lt;review&gt;”.")
    assert logged_confirmation(refused).endswith(
        "Its page was not read: intranet.example resolves to a private address (10.0.0.5). The mention keeps the link."
    )

    def never(url: str) -> Page:
        raise AssertionError("a link logged before is not read again")

    again = log_forwarded(
        engine, LISTENER, text="", url="https://news.example/a", forwarded_by="U0SAM", external_id="a", read_page=never
    )
    assert (again.mention_id, again.new) == (fetched.mention_id, False)
    words = log_forwarded(
        engine,
        LISTENER,
        text="Acme called",
        url="https://x.example/",
        forwarded_by="U0SAM",
        external_id="c",
        read_page=never,
    )
    assert words.new, "with the customer's words given, the page is not read"


def test_a_page_reader_that_breaks_loses_nothing(engine, caplog):
    def broken(url: str) -> Page:
        raise RuntimeError("a parser bug")

    logged = log_forwarded(
        engine, LISTENER, text="", url="https://news.example/b", forwarded_by="U0SAM", external_id="d", read_page=broken
    )
    assert logged.new and logged.not_fetched == "reading it failed on our side (the error is in the bot's log)"
    assert "reading a logged link failed unexpectedly" in caplog.text
