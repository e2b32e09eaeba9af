"""The trackers' clients against local GitHub, Jira Cloud and Linear stand-ins that keep their issues and answer
in the real shapes: issues are created, read back and closed; the evidence section is replaced in place, never
added twice; and each refusal (401, 404, 410, 422) and each busy answer (429 with Retry-After, 5xx, a timeout) is
sorted into what a retry can fix and what it cannot."""

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from bot.act.trackers import TrackerBusy, TrackerRefused
from bot.act.trackers.evidence import END, START, with_section
from bot.act.trackers.github import GitHubIssues
from bot.act.trackers.issues import request_issue
from bot.act.trackers.jira import JiraIssues, to_adf, with_adf_section
from bot.act.trackers.linear import LinearIssues
from bot.act.trackers.outbox_calls import TRACKER_KINDS, TrackerCalls
from bot.act.trackers.registry import TrackerSet
from bot.act.trackers.watch import check_issues
from bot.app.checks.trackers import check_trackers
from bot.ground import outbox
from bot.ground.config_trackers import GitHubTracker, JiraTracker, LinearTracker, Trackers
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.models import Event, EventKind, TrackerIssueState
from tests.factories import store_mention
from tests.trackerservers import FakeGitHub, FakeJira, FakeLinear

SECTION = f"{START}\n**1 customer**, 1 mention(s): mastodon 1.\n\n> It keeps logging me out\n\n{END}"
SECTION_AGAIN = f"{START}\n**2 customers**, 2 mention(s): mastodon 2.\n\n{END}"


@pytest.fixture
def github(monkeypatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("GITHUB_TRACKER_TOKEN", "gh-secret")
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture
def jira(monkeypatch) -> Iterator[FakeJira]:
    monkeypatch.setenv("JIRA_EMAIL", "ben@acme.example")
    monkeypatch.setenv("JIRA_TOKEN", "jira-token")
    fake = FakeJira().start()
    yield fake
    fake.stop()


@pytest.fixture
def linear(monkeypatch) -> Iterator[FakeLinear]:
    monkeypatch.setenv("LINEAR_KEY", "lin_api_secret")
    fake = FakeLinear().start()
    yield fake
    fake.stop()


def github_issues(fake: FakeGitHub, http: httpx.Client, **settings) -> GitHubIssues:
    config = GitHubTracker(repo="acme/app", token_env="GITHUB_TRACKER_TOKEN", base_url=fake.url("/"), **settings)
    return GitHubIssues(config, http)


def jira_issues(fake: FakeJira, http: httpx.Client) -> JiraIssues:
    config = JiraTracker(base_url=fake.url("/"), project="ACME", email_env="JIRA_EMAIL", token_env="JIRA_TOKEN")
    return JiraIssues(config, http)


def linear_issues(fake: FakeLinear, http: httpx.Client) -> LinearIssues:
    return LinearIssues(LinearTracker(team="ENG", api_key_env="LINEAR_KEY", base_url=fake.url("/graphql")), http)


def test_github_creates_reads_and_keeps_one_evidence_section(github, http):
    issues = github_issues(github, http)
    created = issues.create(title="Stay signed in", body="> It keeps logging me out", labels=["customer-feedback"])
    assert (created.key, created.ref, created.state) == ("GH-28", "28", TrackerIssueState.OPEN)
    assert created.url == "https://github.com/acme/app/issues/28"
    [sent] = github.calls("POST", "/repos/acme/app/issues")
    assert sent.json() == {
        "title": "Stay signed in",
        "body": "> It keeps logging me out",
        "labels": ["customer-feedback"],
    }
    assert sent.headers["authorization"] == "Bearer gh-secret"
    assert sent.headers["x-github-api-version"] == "2022-11-28"

    assert issues.set_evidence("28", SECTION) is True
    assert issues.set_evidence("28", SECTION) is False, "said already: no second edit"
    assert issues.set_evidence("28", SECTION_AGAIN) is True
    body = github.state.issues[28]["body"]
    assert body.count(START) == 1 and "2 customers" in body and "1 customer**" not in body
    assert body.startswith("> It keeps logging me out")
    assert len(github.calls("PATCH")) == 2


@pytest.mark.parametrize(
    ("reason", "state"),
    [
        ("completed", TrackerIssueState.DONE),
        (None, TrackerIssueState.DONE),  # closed before GitHub had reasons
        ("not_planned", TrackerIssueState.CLOSED),
        ("duplicate", TrackerIssueState.CLOSED),
    ],
)
def test_github_says_done_only_when_closed_as_completed(github, http, reason, state):
    issues = github_issues(github, http)
    github.state.new_issue("Dark mode")
    github.state.close(28, reason)
    assert issues.get("28").state == state


def test_github_refusals_name_their_fix_and_busy_answers_say_when_to_come_back(github, http):
    issues = github_issues(github, http, timeout=timedelta(seconds=0.2))
    github.state.new_issue("Dark mode")

    with pytest.raises(TrackerRefused) as validation:
        issues.create(title="", body="", labels=[])
    assert validation.value.status == 422 and "missing_field" in str(validation.value)

    with pytest.raises(TrackerRefused) as missing:
        issues.get("404")
    assert missing.value.gone and "check `repo`" in missing.value.fix

    github.state.delete(28)
    with pytest.raises(TrackerRefused) as deleted:
        issues.get("28")
    assert deleted.value.status == 410 and "This issue was deleted" in str(deleted.value)

    github.fail(429, {"message": "You have exceeded a secondary rate limit"}, headers={"Retry-After": "60"})
    with pytest.raises(TrackerBusy) as limited:
        issues.find("allears-request-1")
    assert limited.value.retry_after == 60

    github.fail(
        403, {"message": "API rate limit exceeded"}, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}
    )
    with pytest.raises(TrackerBusy):
        issues.find("allears-request-1")

    github.fail(502, {"message": "Server Error"})
    with pytest.raises(TrackerBusy) as outage:
        issues.find("allears-request-1")
    assert outage.value.retry_after is None

    github.fail(200, [], delay=1.0)
    with pytest.raises(TrackerBusy, match="took too long"):
        issues.find("allears-request-1")

    github.state.revoke()
    with pytest.raises(TrackerRefused) as revoked:
        issues.check()
    assert revoked.value.status == 401 and "GITHUB_TRACKER_TOKEN" in revoked.value.fix
    assert "gh-secret" not in str(revoked.value) + revoked.value.fix


def test_a_creation_whose_answer_was_lost_is_found_by_its_marker(github, http):
    issues = github_issues(github, http)
    github.state.new_issue("Older")
    github.state.new_issue("Stay signed in", body="> words\n\nOpened from All Ears (M-7) · allears-request-12")
    found = issues.find("allears-request-12")
    assert found is not None and found.key == "GH-29"
    assert issues.find("allears-request-13") is None


def test_jira_cloud_creates_in_adf_and_keeps_one_evidence_section(jira, http):
    issues = jira_issues(jira, http)
    created = issues.create(
        title="Export to CSV", body="> Please let me export\n\n**Triage:** negative", labels=["customer feedback"]
    )
    assert (created.key, created.state, created.url) == ("ACME-42", TrackerIssueState.OPEN, jira.url("/browse/ACME-42"))
    [sent] = jira.calls("POST", "/rest/api/3/issue")
    fields = sent.json()["fields"]
    assert fields["project"] == {"key": "ACME"} and fields["issuetype"] == {"name": "Task"}
    assert fields["labels"] == ["customer-feedback"], "Jira labels take no spaces"
    assert fields["description"]["type"] == "doc" and fields["description"]["content"][0]["type"] == "blockquote"
    assert sent.headers["authorization"].startswith("Basic ")

    assert issues.set_evidence("ACME-42", SECTION) is True
    assert issues.set_evidence("ACME-42", SECTION) is False
    assert issues.set_evidence("ACME-42", SECTION_AGAIN) is True
    content = jira.issues["ACME-42"]["fields"]["description"]["content"]
    headings = [node for node in content if node["type"] == "heading"]
    assert len(headings) == 1 and content[0]["type"] == "blockquote"
    assert "2 customers" in str(content) and "1 customer" not in str(content)
    assert issues.find("never-written") is None


@pytest.mark.parametrize(
    ("category", "resolution", "state"),
    [
        ("indeterminate", None, TrackerIssueState.OPEN),
        ("done", "Done", TrackerIssueState.DONE),
        ("done", "Won't Do", TrackerIssueState.CLOSED),
        ("done", "Duplicate", TrackerIssueState.CLOSED),
    ],
)
def test_jira_is_done_by_status_category_unless_resolved_as_wont_do(jira, http, category, resolution, state):
    issues = jira_issues(jira, http)
    issues.create(title="Export to CSV", body="x", labels=[])
    jira.status("ACME-42", category, "Closed", resolution)
    assert issues.get("ACME-42").state == state


def test_jira_refusals(jira, http):
    issues = jira_issues(jira, http)
    with pytest.raises(TrackerRefused) as validation:
        issues.create(title="", body="x", labels=[])
    assert validation.value.status == 400 and "You must specify a summary" in str(validation.value)
    with pytest.raises(TrackerRefused) as missing:
        issues.get("ACME-999")
    assert missing.value.gone and "Issue does not exist" in str(missing.value)
    jira.fail(429, b"", headers={"Retry-After": "7"})
    with pytest.raises(TrackerBusy) as limited:
        issues.get("ACME-999")
    assert limited.value.retry_after == 7
    assert issues.check().startswith("project ACME")
    jira.token = "rotated"
    with pytest.raises(TrackerRefused) as revoked:
        issues.check()
    assert revoked.value.status == 401 and "JIRA_TOKEN" in revoked.value.fix


def test_an_evidence_update_that_meets_another_edit_of_the_issue_is_tried_again_not_refused(jira, http):
    issues = jira_issues(jira, http)
    issues.create(title="Export to CSV", body="x", labels=[])
    conflict = {"errorMessages": ["The issue is being edited by another user. Try again."], "errors": {}}
    jira.fail(409, conflict, method="PUT")

    with pytest.raises(TrackerBusy, match="being changed at the same moment"):
        issues.set_evidence("ACME-42", SECTION)
    assert issues.set_evidence("ACME-42", SECTION), "the next try lands"
    assert "What customers said" in json.dumps(jira.issues["ACME-42"]["fields"]["description"])


def test_jira_server_sends_its_personal_token_as_a_bearer_to_rest_v2(jira, http, monkeypatch):
    config = JiraTracker(base_url=jira.url("/"), project="ACME", token_env="JIRA_TOKEN")
    jira.fail(200, {"key": "ACME", "name": "Acme", "issueTypes": [{"name": "Task"}]})
    JiraIssues(config, http).check()
    [sent] = jira.requests
    assert sent.path == "/rest/api/2/project/ACME" and sent.headers["authorization"] == "Bearer jira-token"


def test_the_adf_section_is_added_once_then_replaced():
    document = {"type": "doc", "version": 1, "content": to_adf("Customers want it.")}
    once = with_adf_section(document, SECTION)
    assert with_adf_section(once, SECTION) == once
    assert [node["type"] for node in once["content"]] == [
        "paragraph",
        "heading",
        "paragraph",
        "blockquote",
        "paragraph",
    ]


def test_linear_creates_reads_states_and_refusals(linear, http):
    issues = linear_issues(linear, http)
    created = issues.create(title="Export to CSV", body="> Please", labels=["customer-feedback"])
    assert (created.key, created.state) == ("ENG-7", TrackerIssueState.OPEN)
    create = next(r for r in linear.requests if "issueCreate" in r.json()["query"])
    assert create.json()["variables"]["input"] == {
        "teamId": "team-eng-id",
        "title": "Export to CSV",
        "description": "> Please",
        "labelIds": ["label-customer-feedback"],
    }
    assert create.headers["authorization"] == "lin_api_secret", "a personal API key is sent as it is"
    assert issues.ref_of("eng-7") == "ENG-7" and issues.ref_of("GH-7") is None

    assert issues.set_evidence(created.ref, SECTION) is True
    assert issues.set_evidence(created.ref, SECTION) is False
    linear.state("ENG-7", "completed", "Done")
    assert issues.get("ENG-7").state == TrackerIssueState.DONE
    linear.state("ENG-7", "canceled", "Canceled")
    assert issues.get("ENG-7").state == TrackerIssueState.CLOSED

    with pytest.raises(TrackerRefused) as missing:
        issues.get("ENG-404")
    assert missing.value.gone
    linear.fail(400, {"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]})
    with pytest.raises(TrackerBusy):
        issues.get("ENG-7")
    with pytest.raises(TrackerRefused) as invalid:
        issues.create(title="", body="", labels=[])
    assert invalid.value.status == 422
    linear.key = "revoked"
    with pytest.raises(TrackerRefused) as revoked:
        issues.check()
    assert revoked.value.status == 401 and "LINEAR_KEY" in revoked.value.fix


def test_a_key_finds_its_tracker_and_the_default_is_the_only_one_configured(github, jira, http):
    trackers = Trackers(
        default="github",
        github=GitHubTracker(repo="acme/app", token_env="GITHUB_TRACKER_TOKEN", base_url=github.url("/")),
        jira=JiraTracker(base_url=jira.url("/"), project="ACME", email_env="JIRA_EMAIL", token_env="JIRA_TOKEN"),
    )
    found = TrackerSet(trackers, http)
    assert [(t.name, ref) for t, ref in map(found.find_key, ["GH-12", "#12", "ACME-3"])] == [
        ("github", "12"),
        ("github", "12"),
        ("jira", "ACME-3"),
    ]
    assert found.find_key("https://github.com/acme/app/issues/5")[1] == "5"
    assert found.named(None).name == "github"
    with pytest.raises(UserError, match="not an issue of a configured tracker"):
        found.find_key("XYZ-1")
    with pytest.raises(ValueError, match="say which one is `default`"):
        Trackers(github=trackers.github, jira=trackers.jira)
    assert Trackers(jira=trackers.jira).default_name == "jira"
    with pytest.raises(UserError, match=r"No issue tracker is configured; add a `\[trackers.github\]`"):
        TrackerSet(Trackers(), http).named(None)


def test_a_body_without_a_section_gets_one_at_its_end():
    assert with_section("", SECTION) == SECTION
    assert with_section("Intro", SECTION) == f"Intro\n\n{SECTION}"
    assert with_section(f"Intro\n\n{SECTION}\n\nfooter", SECTION_AGAIN) == f"Intro\n\n{SECTION_AGAIN}\n\nfooter"


def test_allears_check_asks_each_tracker_once_and_names_the_fix(github, jira, linear, http):
    jira.token = "rotated"
    trackers = Trackers(
        default="github",
        github=GitHubTracker(repo="acme/app", token_env="GITHUB_TRACKER_TOKEN", base_url=github.url("/")),
        jira=JiraTracker(base_url=jira.url("/"), project="ACME", email_env="JIRA_EMAIL", token_env="JIRA_TOKEN"),
        linear=LinearTracker(team="OPS", api_key_env="LINEAR_KEY", base_url=linear.url("/graphql")),
    )
    results = {result.name: result for result in check_trackers(trackers, http)}
    assert results["tracker github"].ok and results["tracker github"].detail == "acme/app answered"
    assert not results["tracker jira"].ok and "JIRA_EMAIL and JIRA_TOKEN" in results["tracker jira"].fix
    assert not results["tracker linear"].ok and "set `team` to the team's key" in results["tracker linear"].fix
    assert [request.method for request in github.requests] == ["GET"], "one read-only call"


def _created_through_the_outbox(engine, trackers: TrackerSet, tracker: str) -> int:
    mention_id = store_mention(engine, text="Acme needs CSV export", author="Pat")
    with session_scope(engine) as session:
        request_issue(
            session,
            mention_id=mention_id,
            user_id="U_BEN",
            tracker=tracker,
            title="CSV export",
            labels=[],
            body="> CSV",
        )
    calls = TrackerCalls(engine, trackers)
    while True:
        with session_scope(engine) as session:
            row = outbox.lease_next(session)
        if row is None:
            return mention_id
        if row.kind in TRACKER_KINDS:
            calls.send(row)
        else:
            with session_scope(engine) as session:
                outbox.mark_sent(session, row)


def _events(engine, kind: EventKind) -> list[Event]:
    with read_scope(engine) as session:
        return list(session.exec(select(Event).where(col(Event.kind) == kind)))


def test_a_jira_cloud_issue_is_made_through_the_outbox_and_its_shipping_heard(sqlite_engine, jira, http):
    config = Trackers(
        jira=JiraTracker(base_url=jira.url("/"), project="ACME", email_env="JIRA_EMAIL", token_env="JIRA_TOKEN")
    )
    trackers = TrackerSet(config, http)
    _created_through_the_outbox(sqlite_engine, trackers, "jira")
    [created] = _events(sqlite_engine, EventKind.ISSUE_CREATED)
    assert created.data["key"] == "ACME-42" and created.data["url"] == jira.url("/browse/ACME-42")
    description = json.dumps(jira.issues["ACME-42"]["fields"]["description"])
    assert "What customers said" in description and "allears-request-" in description
    jira.status("ACME-42", "done", "Done", "Won't Do")
    assert check_issues(sqlite_engine, trackers.named("jira")) == 1
    assert [e.data["why"] for e in _events(sqlite_engine, EventKind.ISSUE_CLOSED)] == ["Won't Do"]
    jira.status("ACME-42", "done", "Done", "Done")
    assert check_issues(sqlite_engine, trackers.named("jira")) == 1
    assert len(_events(sqlite_engine, EventKind.ISSUE_SHIPPED)) == 1


def test_a_linear_issue_is_made_through_the_outbox_and_a_cancel_is_not_a_shipping(sqlite_engine, linear, http):
    config = Trackers(linear=LinearTracker(team="ENG", api_key_env="LINEAR_KEY", base_url=linear.url("/graphql")))
    trackers = TrackerSet(config, http)
    _created_through_the_outbox(sqlite_engine, trackers, "linear")
    [created] = _events(sqlite_engine, EventKind.ISSUE_CREATED)
    assert created.data["key"] == "ENG-7"
    assert "allears-request-" in linear.issues["ENG-7"]["description"]
    linear.state("ENG-7", "canceled", "Canceled")
    assert check_issues(sqlite_engine, trackers.named("linear")) == 1
    assert _events(sqlite_engine, EventKind.ISSUE_SHIPPED) == []
    linear.fail(400, {"errors": [{"message": "ratelimited", "extensions": {"code": "RATELIMITED"}}]})
    assert check_issues(sqlite_engine, trackers.named("linear")) == 0, "busy: read again at the next check"


def test_jira_and_linear_search_their_open_issues(jira, linear, http):
    cloud = jira_issues(jira, http)
    cloud.create(title="Export to CSV", body="x", labels=[])
    cloud.create(title="Export to PDF", body="x", labels=[])
    jira.status("ACME-43", "done", "Done", "Done")
    assert [issue.key for issue in cloud.search('export "to"')] == ["ACME-42"], "done ones are left out"
    jql = jira.calls("GET", "/rest/api/3/search/jql")[-1].query["jql"]
    assert jql == 'project = "ACME" AND statusCategory != Done AND text ~ "export to" ORDER BY updated DESC'

    issues = linear_issues(linear, http)
    issues.create(title="Offline mode", body="x", labels=[])
    issues.create(title="Offline sync", body="x", labels=[])
    linear.state("ENG-8", "canceled", "Canceled")
    assert [issue.key for issue in issues.search("offline")] == ["ENG-7"]
