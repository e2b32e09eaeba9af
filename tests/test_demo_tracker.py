"""The demo's issue tracker: the stand-in GitHub served beside the sample feeds, read by the bot's own GitHub client
through the demo's web app, shipping each issue a while after it is opened so the demo shows the whole loop."""

import httpx

from bot.act.trackers.github import GitHubIssues
from bot.app.demo.feeds import SampleFeeds, load_samples
from bot.app.demo.server import create_demo_app
from bot.app.demo.session import DemoWorkspace
from bot.app.demo.workspace import GITHUB_REPO, GITHUB_TOKEN_ENV, config_toml
from bot.app.standin.github import StandinGitHub
from bot.ground.clock import utcnow
from bot.ground.config import load_config
from bot.ground.models import TrackerIssueState


def test_the_demo_tracker_takes_an_issue_ships_it_and_shows_its_page(tmp_path, fake_slack, monkeypatch):
    monkeypatch.setenv(GITHUB_TOKEN_ENV, "demo-token")
    (tmp_path / "allears.toml").write_text(config_toml("http://demo.test/demo/feeds/"))
    settings = load_config(tmp_path / "allears.toml").trackers.github
    assert settings is not None and settings.base_url == "http://demo.test/demo/github/"
    github = StandinGitHub(repo=GITHUB_REPO, token="demo-token", ships_after=0, web="http://demo.test/demo")
    workspace = DemoWorkspace(fake_slack, "http://127.0.0.1:9", secret="s")
    app = create_demo_app(workspace, SampleFeeds(load_samples(utcnow())), post_summary=lambda: "", github=github)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://demo.test") as http:
        issues = GitHubIssues(settings, http)
        created = issues.create(title="Offline mode", body="> Quillo needs offline mode", labels=[])
        assert (
            created.state == TrackerIssueState.OPEN and created.url == "http://demo.test/demo/quillo/quillo/issues/28"
        )
        assert issues.get(created.ref).state == TrackerIssueState.DONE, "the demo's team ships it"
        assert issues.check() == "quillo/quillo answered"
        page = http.get("/demo/quillo/quillo/issues/28")
    assert page.status_code == 200 and "Quillo needs offline mode" in page.text and "(#28, closed)" in page.text
    workspace.close()
