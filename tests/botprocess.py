"""`allears` started as a real subprocess against the fake Slack and a local feed server."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlmodel import col, func, select

from bot.app.standin.ports import free_port
from bot.app.standin.slack import BOT_TOKEN
from bot.app.standin.users import SIGNING_SECRET
from bot.ground.db import make_engine, session_scope
from bot.ground.models import Outbox, OutboxStatus
from tests.feedserver import FeedServer
from tests.waiting import eventually

ALLEARS = [sys.executable, "-m", "bot.app.cli"]
HEALTH_CHECKS = httpx.Client(timeout=1)
"""One client for every start's polls of /healthz: `httpx.get` builds a client, and with it an SSL context that
reads every trusted certificate, for each call (28 ms of CPU, twenty times a start)."""


def config_toml(feed_url: str, *, every: str = "1s", summary: str = "enabled = false", extra: str = "") -> str:
    """`summary`: the rest of `[summary]`; off unless a test schedules it, or a run on a Monday morning
    would post a weekly summary among the cards a test counts. `extra`: more sections, like `[sla]`."""
    return f"""
[listen]
keywords = ["acme", "acme cloud"]
exclude = ["acme anvil"]

[channels]
default = "C0LISTEN"

[[routes]]
sentiment = "negative"
channel = "C0URGENT"

[[sources]]
kind = "rss"
name = "acme-alerts"
url = "{feed_url}"
every = "{every}"

[teams.support]
channel = "C0SUPPORT"
usergroup = "S0SUPPORT"

[teams.product]
channel = "C0PRODUCT"

[summary]
channel = "C0LISTEN"
{summary}
{extra}
"""


def outbox_waiting(database_url: str) -> int:
    """Outbox rows neither sent nor failed for good: what the bot still means to tell Slack."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            waiting = col(Outbox.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
            return session.exec(select(func.count()).select_from(Outbox).where(waiting)).one()
    finally:
        engine.dispose()


def wait_until_settled(
    database_url: str, feeds: FeedServer, path: str = "/acme.xml", *, polls: int = 2, timeout: float = 30.0
) -> None:
    """Until the feed at `path` has been read `polls` more times (so every poll but the last has finished and
    stored what it found: the scheduler never runs two polls of a source at once) and then the outbox has
    nothing left to send. A card or note that has not come by then is not on its way: the assertions of
    "nothing twice" after this rest on work the bot did, not on a guess at how long it takes."""
    read = feeds.polls(path)
    eventually(lambda: feeds.polls(path) >= read + polls, timeout=timeout, what=f"{polls} more polls of {path}")
    eventually(
        lambda: outbox_waiting(database_url) == 0, timeout=timeout, interval=0.1, what="the outbox to be drained"
    )


class BotProcess:
    def __init__(self, workdir: Path, *, slack_api_url: str, database_url: str, config: str) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (workdir / "allears.toml").write_text(config)
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "DATABASE_URL": database_url,
            "ALLEARS_CONFIG": str(workdir / "allears.toml"),
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            "SLACK_POST_INTERVAL": "0.05",
        }
        self.env.pop("SLACK_APP_TOKEN", None)
        self._process: subprocess.Popen[bytes] | None = None
        self._runs = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"allears-{self._runs}.log"

    def start(self, command: str = "run") -> "BotProcess":
        """Start `allears <command>`; wait for /healthz unless it is the worker, which serves no HTTP."""
        self._runs += 1
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [*ALLEARS, command], cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        if command != "worker":
            self._wait_healthy()
        return self

    def _wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise AssertionError(f"allears exited with {self._process.returncode}:\n{self.logs()}")
            try:
                if HEALTH_CHECKS.get(self.url + "/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"allears did not become healthy:\n{self.logs()}")

    def stop(self) -> None:
        """SIGTERM, as a platform stops a process; the bot finishes what it is sending."""
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-whatever, as a lost machine or the OOM killer does."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def jobs_run(self, name: str) -> int:
        """How many runs of the scheduler's job `name` ("poll acme-alerts", "SLA reminders") have finished, over
        every start of this process: APScheduler logs each at INFO, a poll of a paused source too."""
        return sum(
            f'Job "{name} (trigger' in line and "executed successfully" in line for line in self.logs().splitlines()
        )

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.workdir.glob("allears-*.log")))

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """A one-off `allears` command with the same environment, as an operator would run it."""
        return subprocess.run(
            [*ALLEARS, *args], cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=timeout
        )
