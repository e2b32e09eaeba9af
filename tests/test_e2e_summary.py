"""End-to-end: two `allears worker` processes on one PostgreSQL database reach the weekly summary's moment
together, and the summary with its chart is posted once; a restart and a person at the command line
change nothing unless they mean to."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.ground.clock import utcnow
from bot.ground.config import Sentiment
from bot.ground.db import make_engine, session_scope
from bot.hear.batches import record
from bot.remember.weeks import Week
from tests.botprocess import BotProcess, config_toml
from tests.factories import heard
from tests.feedserver import rss

ZONE = "Asia/Kolkata"  # UTC+5:30: the week and the moment are judged there, not in UTC


def _summaries(fake_slack):
    return [message for message in fake_slack.cards("C0LISTEN") if "weekly summary" in message.text]


@pytest.mark.postgres
def test_two_workers_post_the_weekly_summary_once(tmp_path, fake_slack, feeds, own_postgres_url):
    moment = (utcnow() - timedelta(minutes=1)).astimezone(ZoneInfo(ZONE))  # the schedule's moment just passed
    week = Week.containing(moment, ZONE).previous  # the last full week before it
    weekday = f"{moment:%A}".lower()
    schedule = f'weekday = "{weekday}"\ntime = "{moment:%H:%M}"\ntimezone = "{ZONE}"'
    config = config_toml(feeds.url("/acme.xml"), summary=schedule)
    feeds.publish("/acme.xml", rss([]))
    workers = [
        BotProcess(tmp_path / name, slack_api_url=fake_slack.api_url, database_url=own_postgres_url, config=config)
        for name in ("one", "two")
    ]
    assert workers[0].cli("db", "upgrade").returncode == 0

    engine = make_engine(own_postgres_url)
    with session_scope(engine) as session:
        for n, sentiment in enumerate([Sentiment.NEGATIVE, Sentiment.NEGATIVE, Sentiment.POSITIVE]):
            item = heard(f"Acme post {n}", external_id=f"post-{n}", sentiment=sentiment, author=f"Customer {n}")
            record(session, item, now=week.start + timedelta(days=n, hours=10))
    engine.dispose()

    def checks() -> int:
        """Runs of the summary's job finished, in every worker: the leader runs it at start, then each minute."""
        return sum(worker.jobs_run("weekly summary") for worker in workers)

    def terms() -> int:
        return sum(
            worker.logs().count("leading: running the scheduler") + worker.logs().count("took over as leader")
            for worker in workers
        )

    def has_a_role(worker: BotProcess) -> bool:
        """Its current run leads or follows: only a leader checks the summary."""
        log = worker.log_path.read_text(errors="replace") if worker.log_path.exists() else ""
        return "leading: running the scheduler" in log or "following: another worker leads" in log

    try:
        for worker in workers:
            worker.start("worker")
        [summary] = fake_slack.wait_for(lambda: _summaries(fake_slack), timeout=30, what="the weekly summary")
        [chart] = fake_slack.wait_for(lambda: fake_slack.uploads, timeout=30, what="its chart")
        # The check that posted has finished, and the other worker follows: it would check only once it led.
        fake_slack.wait_for(
            lambda: checks() >= 1 and all(has_a_role(worker) for worker in workers),
            timeout=30,
            what="the leader's check to finish and the other worker to follow",
        )
        assert len(_summaries(fake_slack)) == 1 and len(fake_slack.uploads) == 1

        assert summary.text.startswith(f"All Ears weekly summary, {week.label}:")
        assert "*Mentions heard:* 3" in summary.all_text() and "negative 2, positive 1" in summary.all_text()
        assert f"Weeks run Monday to Sunday in {ZONE}" in summary.all_text()
        assert (chart.channel, chart.thread_ts) == ("C0LISTEN", summary.ts)
        assert Image.open(io.BytesIO(chart.data)).format == "PNG"

        workers[0].stop()
        made, led = checks(), terms()
        workers[0].start("worker")  # a restart right after: whoever leads now checks again at start-up
        fake_slack.wait_for(
            lambda: has_a_role(workers[0]) and (terms() == led or checks() > made),
            timeout=30,
            what="the restarted worker to follow, or the new leader's check at start-up",
        )
        assert len(_summaries(fake_slack)) == 1 and len(fake_slack.uploads) == 1
    finally:
        for worker in workers:
            worker.stop()
    logs = workers[0].logs() + workers[1].logs()
    assert logs.count(f"posted the {week.label} summary's message and chart") == 1, logs

    refused = workers[1].cli("summary", "--week", week.label, "--post")
    assert refused.returncode == 2 and "already posted to C0LISTEN" in refused.stderr and "--again" in refused.stderr
    again = workers[1].cli("summary", "--week", week.label, "--post", "--again")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"posted the {week.label} summary's message and chart to C0LISTEN"
    assert len(_summaries(fake_slack)) == len(fake_slack.uploads) == 2

    printed = workers[1].cli("summary", "--week", week.label, "--print", "--chart", str(tmp_path / "week.png"))
    assert printed.returncode == 0, printed.stderr
    assert "Mentions heard:" in printed.stdout and "Who listened (claimed or replied)" in printed.stdout
    assert (tmp_path / "week.png").read_bytes().startswith(b"\x89PNG")
