"""`allears demo`: the real bot, wired as `allears run` wires it, in a local workspace of the stand-in Slack,
hearing bundled sample mentions, with a web page to watch and act in it as one of a few demo people."""

import logging
import os
import secrets
import tempfile
import threading
import webbrowser
from contextlib import ExitStack
from pathlib import Path

import httpx

from bot.app import startup
from bot.app.demo.feeds import SampleFeeds, load_samples
from bot.app.demo.history import mute_yesterdays, seed_past_weeks
from bot.app.demo.server import create_demo_app, serve_in_background
from bot.app.demo.session import DemoWorkspace
from bot.app.demo.workspace import CHANNELS, GITHUB_REPO, GITHUB_TOKEN_ENV, PEOPLE, SHIPS_AFTER, config_toml
from bot.app.standin.github import StandinGitHub
from bot.app.standin.ports import free_port
from bot.app.standin.slack import BOT_TOKEN, FakeSlack
from bot.ground.clock import utcnow
from bot.ground.settings import Settings
from bot.remember.weeks import Week
from bot.slack.client import slack_client
from bot.slack.summary_post import SummaryPoster, post_by_hand


def _announce_when_ready(bot_url: str, page_url: str, *, browser: bool) -> None:
    """Once the bot answers, say where the page is (the last line in the terminal) and open it if asked."""
    with httpx.Client(timeout=1) as http:  # one client: each `httpx.get` would read every trusted certificate
        for _ in range(300):
            try:
                if http.get(bot_url + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            threading.Event().wait(0.1)
    print(f"\n  All Ears demo: open {page_url}  (Ctrl-C stops it; nothing is kept)\n", flush=True)
    if browser:
        webbrowser.open(page_url)


def _settings(folder: Path, *, slack: FakeSlack, bot_port: int, signing_secret: str) -> Settings:
    """Everything given, nothing read from `.env` or the environment: the demo never touches a real workspace."""
    return Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=signing_secret,
        slack_app_token=None,
        slack_api_url=slack.api_url,
        database_url=f"sqlite:///{folder / 'allears.db'}",
        allears_config=folder / "allears.toml",
        allears_webhook_secret=None,
        port=bot_port,
        slack_post_interval=0.1,
        metrics_port=None,
    )


def run_demo(*, port: int, browser: bool) -> int:
    for chatty in ("apscheduler", "alembic"):  # the demo's terminal shows what the bot does, not its machinery
        logging.getLogger(chatty).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="allears-demo-") as temporary, ExitStack() as cleanup:
        folder, page_url = Path(temporary), f"http://127.0.0.1:{port}/demo"
        (folder / "allears.toml").write_text(config_toml(f"http://127.0.0.1:{port}/demo/feeds/"), encoding="utf-8")
        github_token = secrets.token_hex(16)
        os.environ[GITHUB_TOKEN_ENV] = github_token  # the one setting the demo's config reads from the environment
        github = StandinGitHub(
            repo=GITHUB_REPO, token=github_token, ships_after=SHIPS_AFTER, web=f"http://127.0.0.1:{port}/demo"
        )
        slack = FakeSlack(channels=set(CHANNELS)).start()
        cleanup.callback(slack.stop)
        for person in PEOPLE:
            slack.set_title(person.id, person.title)
        signing_secret, bot_port = secrets.token_hex(16), free_port()
        workspace = DemoWorkspace(slack, f"http://127.0.0.1:{bot_port}", secret=signing_secret)
        cleanup.callback(workspace.close)
        settings = _settings(folder, slack=slack, bot_port=bot_port, signing_secret=signing_secret)
        setup = startup.set_up(slack=True, upgrade=True, stays=True, settings=settings)
        cleanup.callback(setup.engine.dispose)
        seed_past_weeks(setup.engine, utcnow())
        mute_yesterdays(setup.engine, utcnow())
        poster = SummaryPoster(setup.engine, setup.config, slack_client(settings))
        zone = setup.config.summary.timezone
        app = create_demo_app(
            workspace,
            SampleFeeds(load_samples(utcnow())),
            post_summary=lambda: post_by_hand(poster, Week.containing(utcnow(), zone)),
            github=github,
        )
        cleanup.callback(serve_in_background(app, port).close)
        threading.Thread(
            target=_announce_when_ready,
            args=(f"http://127.0.0.1:{bot_port}", page_url),
            kwargs={"browser": browser},
            daemon=True,
        ).start()
        with startup.background(setup, scheduler=True) as pump:
            startup.serve_http(setup, pump, host="127.0.0.1")
    return 0
