"""From a mention to a tracker issue and back to the customer, through the listeners in-process (signed Slack
requests handed to the app from the factory), the outbox delivering to the fake Slack, a GitHub stand-in that keeps
its issues, a Mastodon stand-in for the reply on the source, and GitHub's signed webhook at `/hooks/github`."""

import copy
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from flask.testing import FlaskClient
from slack_bolt import App
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.act.source_replies import SourceReplies
from bot.act.trackers import Issue
from bot.act.trackers.evidence import START
from bot.act.trackers.issues import link_issue, watched
from bot.act.trackers.outbox_calls import TrackerCalls
from bot.act.trackers.registry import TrackerSet
from bot.act.trackers.watch import check_issues
from bot.app.standin.slack import BOT_TOKEN, FakeSlack, Message
from bot.app.standin.users import SIGNING_SECRET, chosen, typed, webhook_signature
from bot.app.web import create_web_app
from bot.ground import migrate
from bot.ground.clock import utcnow
from bot.ground.config import load_config
from bot.ground.config_trackers import JiraTracker, LinearTracker, Trackers
from bot.ground.db import make_engine, read_scope, session_scope
from bot.ground.models import Event, EventKind, Outbox, OutboxKind, OutboxStatus, TrackerIssueState
from bot.ground.settings import Settings
from bot.hear.batches import record
from bot.hear.polling import Listener
from bot.remember.counting import weekly_figures
from bot.remember.export import ExportFormat, export
from bot.remember.summary import summary_text
from bot.remember.weeks import Week
from bot.slack.client import slack_client
from bot.slack.delivery import Deliverer
from bot.slack.payloads import MenuChoice
from handlers.app import create_app
from tests.apiserver import ApiServer
from tests.factories import heard
from tests.slack_requests import InProcessUser, answer
from tests.trackerservers import FakeGitHub, recorded

HOOK_SECRET = "hook-secret"


def config_toml(github: FakeGitHub, mastodon: ApiServer) -> str:
    return f"""
[listen]
keywords = ["acme"]

[channels]
default = "C0LISTEN"

[[sources]]
kind = "mastodon"
name = "mastodon"
base_url = "{mastodon.url("/")}"
tag = "acme"
token_env = "MASTODON_TOKEN"

[teams.support]
channel = "C0SUPPORT"

[summary]
enabled = false

[trackers.github]
repo = "acme/app"
token_env = "GITHUB_TRACKER_TOKEN"
base_url = "{github.url("/")}"
webhook_secret_env = "GITHUB_HOOK_SECRET"
"""


@dataclass
class Workspace:
    app: App
    engine: Engine
    fake: FakeSlack
    github: FakeGitHub
    deliverer: Deliverer
    config_path: Path

    def person(self, user_id: str) -> InProcessUser:
        return InProcessUser(user_id, self.app, self.fake, forged={})

    def heard(self, text: str, *, number: int, author: str, source: str = "mastodon") -> int:
        report = heard(text, external_id=f"status-{number}", source=source, author=author)
        reply_to = {"status_id": str(number), "acct": author.lstrip("@")}
        with session_scope(self.engine) as session:
            mention_id = record(session, replace(report, item=replace(report.item, reply_to=reply_to)))
        assert mention_id is not None
        return mention_id

    def deliver(self) -> None:
        while self.deliverer.deliver_due():
            pass

    def card(self, mention_id: int) -> Message:
        self.deliver()
        return next(card for card in self.fake.cards() if f"M-{mention_id}*" in card.all_text())

    def shows(self, condition: Callable[[], object], *, what: str) -> object:
        def delivered() -> object:
            self.deliver()
            return condition()

        return self.fake.wait_for(delivered, what=what)

    def thread(self, card: Message) -> list[Message]:
        return self.fake.thread(card.channel, card.ts)

    def modal(self, callback_id: str, count: int = 1) -> dict:
        views = lambda: [view for view in self.fake.views if view["callback_id"] == callback_id]  # noqa: E731
        return self.fake.wait_for(lambda: len(views()) >= count and views(), what=callback_id)[-1]

    def answers(self, person: InProcessUser, what: str) -> list[dict]:
        return self.fake.wait_for(lambda: self.fake.responses(person.last_response_key), what=what)


@pytest.fixture
def workspace(tmp_path: Path, fake_slack: FakeSlack, api: ApiServer, monkeypatch) -> Iterator[Workspace]:
    monkeypatch.setenv("GITHUB_TRACKER_TOKEN", "gh-secret")
    monkeypatch.setenv("GITHUB_HOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("MASTODON_TOKEN", "mastodon-secret")
    github = FakeGitHub().start()
    database_url = f"sqlite:///{tmp_path / 'allears.db'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    config_path = tmp_path / "allears.toml"
    config_path.write_text(config_toml(github, api))
    settings = Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        database_url=database_url,
        allears_config=config_path,
        slack_post_interval=0,
    )
    config = load_config(config_path)
    with httpx.Client() as http:
        deliverer = Deliverer(
            engine,
            slack_client(settings),
            post_interval=0,
            replies=SourceReplies(config.sources, http),
            trackers=TrackerCalls(engine, TrackerSet(config.trackers, http)),
        )
        yield Workspace(create_app(settings), engine, fake_slack, github, deliverer, config_path)
    github.stop()
    engine.dispose()


def web_of(workspace: Workspace, trackers: Trackers | None = None) -> FlaskClient:
    """The web face, with the workspace's trackers or `trackers`."""
    config = load_config(workspace.config_path)
    return create_web_app(
        workspace.app,
        workspace.engine,
        signing_secret=SIGNING_SECRET,
        listener=Listener(config),
        webhook_secret=None,
        notify=lambda: None,
        trackers=trackers or config.trackers,
    ).test_client()


def github_hook(workspace: Workspace, event: str, payload: dict, *, delivery: str, secret: str = HOOK_SECRET):
    body = json.dumps(payload).encode()
    signature = webhook_signature(body, secret)
    headers = {"X-Hub-Signature-256": signature, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    return web_of(workspace).post("/hooks/github", data=body, headers=headers)


def closed_event(issue: dict, action: str = "closed") -> dict:
    return {"action": action, "issue": issue, "repository": {"full_name": "acme/app"}, "sender": {"login": "cleo"}}


def events(workspace: Workspace, kind: EventKind) -> list[Event]:
    with read_scope(workspace.engine) as session:
        return list(session.exec(select(Event).where(col(Event.kind) == kind).order_by(col(Event.id))))


def test_a_mastodon_complaint_becomes_a_github_issue_ships_and_its_customer_is_told_once(workspace, api):
    api.answer("/api/v1/statuses", {"id": "99", "url": "https://social.example/@acme/99"}, method="POST")
    ana, ben = workspace.person("U_ANA"), workspace.person("U_BEN")
    first = workspace.heard("Acme keeps logging me out every hour, so annoying", number=7, author="@pat@social.example")
    card = workspace.card(first)
    ben.command("/claim", f"M-{first}")
    workspace.answers(ben, "Ben's claim")

    # Ben picks Create issue in the card's menu: the form carries the customer's words.
    create = MenuChoice(mention=first, do="create-issue").value()
    ben.choose("mention_more", create, channel=card.channel, message_ts=card.ts)
    form = workspace.modal("create_issue_modal")
    inputs = {block["block_id"]: block for block in form["blocks"] if block["type"] == "input"}
    body = inputs["issue_body"]["element"]["initial_value"]
    assert "> Acme keeps logging me out every hour" in body and "@\u200bpat@\u200bsocial.example on mastodon" in body
    assert "U_BEN (claimed)" in body and "**Triage:** negative" in body
    assert "logging me out" in inputs["issue_title"]["element"]["initial_value"]
    values = {
        "issue_tracker": chosen("github"),
        "issue_title": typed("Stay signed in for longer"),
        "issue_labels": typed("customer-feedback, auth"),
        "issue_body": typed(body),
    }
    assert answer(ben.submit(form, values)) == ""
    workspace.shows(lambda: "GH-28" in card.all_text(), what="the issue's key on the card")
    assert "https://github.com/acme/app/issues/28" in card.all_text()
    assert any("opened" in note.text and "GH-28" in note.text for note in workspace.thread(card))
    [created] = workspace.github.calls("POST", "/repos/acme/app/issues")
    assert created.json()["labels"] == ["customer-feedback", "auth"]
    assert "allears-request-" in workspace.github.state.issues[28]["body"]

    # Two more customers say the same; Ana links one by command, Ben the other through the card's menu.
    second = workspace.heard("Acme logs me out constantly", number=8, author="@sam@mastodon.example")
    third = workspace.heard("Why does Acme sign me out all the time?", number=9, author="@lee@mastodon.example")
    ana.command("/reply", f"M-{second} We're on it")
    workspace.answers(ana, "Ana's reply")
    ana.command("/allears", f"link M-{second} GH-28")
    assert "evidence on *GH-28*" in workspace.answers(ana, "Ana's link")[0]["text"]
    third_card = workspace.card(third)
    link = MenuChoice(mention=third, do="link-issue").value()
    ben.choose("mention_more", link, channel=third_card.channel, message_ts=third_card.ts)
    ben.submit(workspace.modal("link_issue_modal"), {"issue_key": typed("https://github.com/acme/app/issues/28")})
    workspace.shows(
        lambda: "3 customers" in workspace.github.state.issues[28]["body"], what="the evidence, three customers"
    )
    description = workspace.github.state.issues[28]["body"]
    assert description.count(START) == 1 and description.startswith("> Acme keeps logging me out")
    assert "mastodon 3" in description and "Why does Acme sign me out" in description

    # The issue is closed as completed: the webhook tells it at once, and the next poll tells nothing again.
    issue = workspace.github.state.close(28, "completed")
    assert github_hook(workspace, "issues", closed_event(issue), delivery="d-1").status_code == 200
    assert github_hook(workspace, "issues", closed_event(issue), delivery="d-1").json["ignored"] == "delivered before"
    assert (
        check_issues(
            workspace.engine, TrackerSet(load_config(workspace.config_path).trackers, httpx.Client()).named("github")
        )
        == 0
    )
    workspace.deliver()
    for mention_id in (first, second, third):
        notes = [note for note in workspace.thread(workspace.card(mention_id)) if "shipped" in note.text]
        assert len(notes) == 1 and notes[0].blocks[-1]["elements"][0]["action_id"] == "mention_tell_customer"
    dms = [m for m in workspace.fake.messages() if m.channel in ("U_ANA", "U_BEN") or m.channel.startswith("D")]
    assert sorted(m.channel for m in dms if "GH-28" in m.text) == ["U_ANA", "U_BEN"], "one message each"
    assert "shipped" in workspace.card(first).all_text()

    # Ana tells the first customer; the reply goes out on Mastodon once, and a second click is refused.
    shipped = next(note for note in workspace.thread(card) if "shipped" in note.text)
    tell = shipped.blocks[-1]["elements"][0]["value"]
    ana.click("mention_tell_customer", tell, channel=card.channel, message_ts=shipped.ts, block_id="shipped_actions")
    tell_form = workspace.modal("tell_customer_modal")
    text = next(b for b in tell_form["blocks"] if b.get("block_id") == "told_text")["element"]["initial_value"]
    assert text == "You asked for “Stay signed in for longer”; it shipped today: https://github.com/acme/app/issues/28"
    ticked = {
        "type": "checkboxes",
        "selected_options": [{"value": "post_on_source", "text": {"type": "plain_text", "text": "x"}}],
    }
    ana.submit(tell_form, {"told_text": typed(text), "told_on_source": ticked})
    workspace.shows(lambda: api.requests_to("/api/v1/statuses"), what="the reply on Mastodon")
    ana.click("mention_tell_customer", tell, channel=card.channel, message_ts=shipped.ts, block_id="shipped_actions")
    assert "told this customer already" in workspace.answers(ana, "Ana's second click")[0]["text"]
    workspace.deliver()
    [sent] = api.requests_to("/api/v1/statuses")
    assert sent.json()["status"].startswith("@pat@social.example You asked for “Stay signed in")
    assert len(events(workspace, EventKind.CUSTOMER_TOLD)) == 1

    # The week's summary: one issue opened from a mention, three customers behind it, shipped, one told.
    with read_scope(workspace.engine) as session:
        summary = summary_text(weekly_figures(session, Week.containing(utcnow(), "UTC")))
    product = summary.split("From customers to product", 1)[1]
    assert "Opened from mentions: 1" in " ".join(product.split())
    assert "Top linked issues:" in product and "GH-28 “Stay signed in for longer” (3 customers, shipped)" in product
    assert "Customers told:" in product and "1 of 3 shipped to this week" in product
    out = io.StringIO()
    export(workspace.engine, out, kind=ExportFormat.JSONL)
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(row["reference"], row["tracker_issue"]) for row in exported] == [
        (f"M-{first}", "GH-28"),
        (f"M-{second}", "GH-28"),
        (f"M-{third}", "GH-28"),
    ]


def test_a_reopened_then_deleted_issue_and_a_revoked_token_are_told_in_the_thread(workspace):
    ben = workspace.person("U_BEN")
    mention_id = workspace.heard("Acme export is broken", number=7, author="@pat@social.example")
    card = workspace.card(mention_id)
    workspace.github.state.new_issue("Export to CSV")
    ben.command("/allears", f"link M-{mention_id} #28")
    workspace.shows(lambda: "GH-28" in card.all_text(), what="the link on the card")
    github = TrackerSet(load_config(workspace.config_path).trackers, httpx.Client()).named("github")

    workspace.github.state.close(28, "not_planned")
    assert check_issues(workspace.engine, github) == 1
    workspace.github.state.reopen(28)
    assert check_issues(workspace.engine, github) == 1
    workspace.github.state.revoke()
    check_issues(workspace.engine, github)
    check_issues(workspace.engine, github)
    workspace.github.state.token = "gh-secret"
    workspace.github.state.delete(28)
    check_issues(workspace.engine, github)
    workspace.deliver()
    notes = [note.text for note in workspace.thread(card)]
    assert any("closed without shipping (not_planned)" in note for note in notes)
    assert any("was reopened" in note for note in notes)
    assert len([note for note in notes if "cannot be read" in note and "401" in note]) == 1, "told once"
    assert any("is gone from the tracker" in note and "This issue was deleted" in note for note in notes)
    assert not any(":rocket:" in note for note in notes), "never told it shipped"
    with read_scope(workspace.engine) as session:
        assert session.exec(select(Event).where(col(Event.mention_id) == mention_id)).all(), "nothing lost"


def test_a_rate_limited_creation_waits_as_asked_and_one_whose_answer_was_lost_is_not_made_twice(workspace):
    ben = workspace.person("U_BEN")
    mention_id = workspace.heard("Acme needs dark mode", number=7, author="@pat@social.example")
    workspace.card(mention_id)
    ben.command("/allears", f"issue M-{mention_id} github Dark mode")
    form = workspace.modal("create_issue_modal")
    title = next(b for b in form["blocks"] if b.get("block_id") == "issue_title")["element"]["initial_value"]
    assert title == "Dark mode"
    workspace.github.fail(429, {"message": "secondary rate limit"}, headers={"Retry-After": "120"}, method="POST")
    ben.submit(form, {"issue_tracker": chosen("github"), "issue_title": typed(title), "issue_body": typed("> dark")})
    workspace.shows(lambda: workspace.github.calls("POST"), what="the first attempt")
    with read_scope(workspace.engine) as session:
        row = session.exec(select(Outbox).where(col(Outbox.kind) == OutboxKind.TRACKER_CREATE)).one()
    assert row.status == OutboxStatus.PENDING and "rate limited" in (row.last_error or "")
    assert 110 <= (row.not_before - row.created_at).total_seconds() <= 130

    # The next attempt reaches GitHub but its answer is lost: the one after finds the issue instead of a second.
    workspace.github.state.lose_answers = 1
    for _ in range(2):
        with session_scope(workspace.engine) as session:
            session.get(Outbox, row.id).not_before = row.created_at
        workspace.deliver()
    assert len(workspace.github.state.issues) == 1 and len(workspace.github.calls("POST")) == 2
    [created] = events(workspace, EventKind.ISSUE_CREATED)
    assert created.data["key"] == "GH-28"
    assert f"allears-request-{_request_id(workspace)}" in workspace.github.state.issues[28]["body"]


def _request_id(workspace: Workspace) -> int:
    [request] = events(workspace, EventKind.ISSUE_REQUESTED)
    return request.id or 0


def test_a_webhook_that_is_not_signed_by_github_changes_nothing(workspace):
    workspace.github.state.new_issue("Export")
    issue = workspace.github.state.close(28)
    response = github_hook(workspace, "issues", closed_event(issue), delivery="d-9", secret="guessed")
    assert response.status_code == 401
    assert github_hook(workspace, "ping", {"zen": "hi"}, delivery="d-10").status_code == 200
    assert (
        github_hook(workspace, "issues", closed_event(issue), delivery="d-11").json["ignored"].startswith("no mention")
    )
    assert events(workspace, EventKind.ISSUE_SHIPPED) == []


def test_ben_creates_an_issue_from_the_escalation_and_a_refusal_is_told_in_the_thread(workspace):
    ben = workspace.person("U_BEN")
    mention_id = workspace.heard("Acme SSO is broken for our team", number=7, author="@pat@social.example")
    card = workspace.card(mention_id)
    ben.command("/escalate", f"M-{mention_id} support SSO")
    alert = workspace.shows(lambda: workspace.fake.cards("C0SUPPORT"), what="the team alert")[0]
    button = next(
        e for b in alert.blocks if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == "Create issue"
    )
    ben.click(button["action_id"], button["value"], channel="C0SUPPORT", message_ts=alert.ts, block_id="alert_actions")
    form = workspace.modal("create_issue_modal")
    validation = {"message": "Validation Failed", "errors": [{"resource": "Label", "code": "invalid", "field": "name"}]}
    workspace.github.fail(422, validation, method="POST")
    ben.submit(form, {"issue_tracker": chosen("github"), "issue_title": typed("SSO"), "issue_body": typed("> SSO")})
    note = workspace.shows(
        lambda: [n.text for n in workspace.thread(card) if "could not be created" in n.text], what="the refusal"
    )[0]
    assert "<@U_BEN>" in note and "Validation Failed" in note and "check the title and the labels" in note
    assert workspace.github.state.issues == {}

    ben.command("/allears", f"issue M-{mention_id}")
    again = workspace.modal("create_issue_modal", count=2)
    ben.submit(again, {"issue_tracker": chosen("github"), "issue_title": typed("SSO"), "issue_body": typed("> SSO")})
    workspace.shows(lambda: "GH-28" in card.all_text(), what="the issue on the card, the second time")


def test_ben_finds_the_issue_by_searching_in_the_link_form(workspace):
    ben = workspace.person("U_BEN")
    workspace.github.state.new_issue("Stay signed in longer")
    workspace.github.state.new_issue("Dark mode")
    mention_id = workspace.heard("Acme signs me out all the time", number=7, author="@pat@social.example")
    card = workspace.card(mention_id)
    link = MenuChoice(mention=mention_id, do="link-issue").value()
    ben.choose("mention_more", link, channel=card.channel, message_ts=card.ts)
    form = workspace.modal("link_issue_modal")
    ben.type_in(form, "issue_search", "signed in")
    found = workspace.fake.wait_for(
        lambda: [b for b in workspace.modal("link_issue_modal")["blocks"] if b.get("block_id") == "issue_pick"],
        what="the issues the search found",
    )[0]
    assert [option["text"]["text"] for option in found["element"]["options"]] == ["GH-28 Stay signed in longer"]
    [search] = workspace.github.calls("GET", "/search/issues")
    assert search.query["q"] == "repo:acme/app is:issue is:open signed in"

    form = workspace.modal("link_issue_modal")
    assert "issue_key" in _errors_of(ben.submit(form, {}))
    picked = {
        "type": "radio_buttons",
        "selected_option": {"value": "GH-28", "text": {"type": "plain_text", "text": "x"}},
    }
    assert answer(ben.submit(form, {"issue_pick": picked})) == ""
    workspace.shows(lambda: "GH-28" in card.all_text(), what="the link on the card")


def _errors_of(response) -> dict:
    body = json.loads(response.body)
    assert body["response_action"] == "errors", body
    return body["errors"]


def test_linears_signed_webhook_tells_a_finished_issue_once_and_refuses_a_stale_or_forged_one(workspace, monkeypatch):
    monkeypatch.setenv("LINEAR_KEY", "lin_api_secret")
    monkeypatch.setenv("LINEAR_HOOK_SECRET", "linear-hook-secret")
    mention_id = workspace.heard("Acme needs offline mode", number=7, author="@pat@social.example")
    workspace.card(mention_id)
    issue = Issue(
        ref="uuid-ENG-7",
        key="ENG-7",
        url="https://linear.app/acme/issue/ENG-7",
        title="Offline",
        state=TrackerIssueState.OPEN,
    )
    with session_scope(workspace.engine) as session:
        link_issue(session, mention_id=mention_id, user_id="U_BEN", tracker="linear", issue=issue)
    linear = LinearTracker(team="ENG", api_key_env="LINEAR_KEY", webhook_secret_env="LINEAR_HOOK_SECRET")
    web = web_of(workspace, Trackers(linear=linear))

    def deliver(data: dict, *, delivery: str, sent_ms: int | None = None, secret: str = "linear-hook-secret"):
        sent_ms = sent_ms if sent_ms is not None else int(utcnow().timestamp() * 1000)
        body = json.dumps({"action": "update", "type": "Issue", "data": data, "webhookTimestamp": sent_ms}).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return web.post(
            "/hooks/linear", data=body, headers={"Linear-Signature": signature, "Linear-Delivery": delivery}
        )

    done = {
        "id": "uuid-ENG-7",
        "identifier": "ENG-7",
        "title": "Offline",
        "state": {"type": "completed", "name": "Done"},
    }
    assert deliver(done, delivery="l-1", secret="guessed").status_code == 401
    assert deliver(done, delivery="l-2", sent_ms=1_000).status_code == 400, "stale"
    assert events(workspace, EventKind.ISSUE_SHIPPED) == []
    assert deliver(done, delivery="l-3").status_code == 200
    assert deliver(done, delivery="l-3").json["ignored"] == "delivered before"
    assert deliver(done, delivery="l-4").status_code == 200, "a new delivery of the same state tells nothing new"
    assert len(events(workspace, EventKind.ISSUE_SHIPPED)) == 1


JIRA_HOOK_SECRET = "jira-hook-secret"


def jira_tracker(monkeypatch, *, hook: bool = True) -> JiraTracker:
    """Acme's Jira Cloud, its token set; its webhook's secret too, unless `hook` is False."""
    monkeypatch.setenv("JIRA_TOKEN", "jira-api-token")
    if hook:
        monkeypatch.setenv("JIRA_HOOK_SECRET", JIRA_HOOK_SECRET)
    return JiraTracker(
        base_url="https://acme.atlassian.net/",
        project="ACME",
        token_env="JIRA_TOKEN",
        webhook_secret_env="JIRA_HOOK_SECRET" if hook else None,
    )


def link_jira(workspace: Workspace, mention_id: int, key: str, title: str) -> None:
    """Ben links the mention to the Jira issue `key`."""
    issue = Issue(
        ref=key, key=key, url=f"https://acme.atlassian.net/browse/{key}", title=title, state=TrackerIssueState.OPEN
    )
    with session_scope(workspace.engine) as session:
        link_issue(session, mention_id=mention_id, user_id="U_BEN", tracker="jira", issue=issue)


def jira_hook(
    web: FlaskClient,
    payload: dict | bytes,
    *,
    delivery: str | None = None,
    secret: str = JIRA_HOOK_SECRET,
    sent_ms: int | None = None,
):
    """A delivery of Jira's webhook, signed with `secret`; a dict is sent with `timestamp` `sent_ms` (now)."""
    if isinstance(payload, dict):
        sent_ms = sent_ms if sent_ms is not None else int(utcnow().timestamp() * 1000)
        payload = json.dumps(payload | {"timestamp": sent_ms}).encode()
    headers = {"X-Hub-Signature": webhook_signature(payload, secret)}
    if delivery:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return web.post("/hooks/jira", data=payload, headers=headers)


def test_jiras_signed_webhook_tells_a_done_issue_once_and_a_deletion_stops_the_watch(workspace, monkeypatch):
    web = web_of(workspace, Trackers(jira=jira_tracker(monkeypatch)))
    mention_id = workspace.heard("Acme needs an export to CSV", number=7, author="@pat@social.example")
    card = workspace.card(mention_id)
    link_jira(workspace, mention_id, "ACME-42", "Export to CSV")

    done = recorded("jira_issue_updated.json")
    in_progress = copy.deepcopy(done)
    status = {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}
    in_progress["issue"]["fields"] |= {"resolution": None, "status": status}
    elsewhere = done | {"issue": done["issue"] | {"key": "OPS-42"}}
    comment = {"webhookEvent": "comment_created", "comment": {"id": "1", "body": "ok"}}
    assert jira_hook(web, done, delivery="j-1", secret="guessed").status_code == 401
    assert web.post("/hooks/jira", data=json.dumps(done)).status_code == 401, "unsigned"
    assert jira_hook(web, comment, delivery="j-2").json["ignored"] == "not an issue event (comment_created)"
    assert jira_hook(web, elsewhere, delivery="j-3").json["ignored"] == "another project (OPS-42)"
    assert jira_hook(web, {"issue": {}}, delivery="j-4").status_code == 400, "no webhookEvent"
    without_issue = jira_hook(web, {"webhookEvent": "jira:issue_updated"}, delivery="j-4b")
    assert without_issue.status_code == 400 and "without its issue" in without_issue.json["error"]
    assert jira_hook(web, b"[]", delivery="j-4c").status_code == 400
    assert jira_hook(web, b"x", delivery="j-4d").status_code == 400
    assert events(workspace, EventKind.ISSUE_SHIPPED) == []

    sent_ms = int(utcnow().timestamp() * 1000)
    assert jira_hook(web, done, delivery="j-5", sent_ms=sent_ms).json == {"ok": True, "issue": "ACME-42"}
    assert jira_hook(web, done, delivery="j-5").json["ignored"] == "delivered before", (
        "Jira's retry of the same delivery"
    )
    assert jira_hook(web, done, delivery="j-6").status_code == 200, (
        "another delivery of the same state tells nothing new"
    )
    assert len(events(workspace, EventKind.ISSUE_SHIPPED)) == 1
    workspace.shows(lambda: any("ACME-42" in note.text for note in workspace.thread(card)), what="the shipping")

    late = jira_hook(web, in_progress, delivery="j-6b", sent_ms=sent_ms - 60_000)  # sent before Done, retried after it
    assert late.json["ignored"] == "older than what was last heard of the issue"
    assert events(workspace, EventKind.ISSUE_REOPENED) == []

    deleted = {"webhookEvent": "jira:issue_deleted", "issue": done["issue"]}
    assert jira_hook(web, deleted, delivery="j-7").status_code == 200
    problems = [trouble.data["problem"] for trouble in events(workspace, EventKind.ISSUE_TROUBLE)]
    assert any("deleted in Jira" in problem for problem in problems), problems
    with read_scope(workspace.engine) as session:
        assert [row.key for row in watched(session, "jira")] == []


def test_the_jira_webhook_is_off_until_its_secret_is_set_and_a_wont_do_ships_nothing(workspace, monkeypatch):
    jira = jira_tracker(monkeypatch, hook=False)
    mention_id = workspace.heard("Acme should sync with Outlook", number=8, author="@kim@social.example")
    workspace.card(mention_id)
    link_jira(workspace, mention_id, "ACME-43", "Outlook")
    wont_do = recorded("jira_issue_updated.json")
    wont_do["issue"]["key"] = "ACME-43"
    wont_do["issue"]["fields"]["resolution"]["name"] = "Won't Do"

    off = jira_hook(web_of(workspace, Trackers(jira=jira)), wont_do)
    assert off.status_code == 404 and "webhook_secret_env" in off.json["error"]

    monkeypatch.setenv("JIRA_HOOK_SECRET", JIRA_HOOK_SECRET)
    on = web_of(workspace, Trackers(jira=jira.model_copy(update={"webhook_secret_env": "JIRA_HOOK_SECRET"})))
    monkeypatch.delenv("JIRA_HOOK_SECRET")
    unset = jira_hook(on, wont_do)
    assert unset.status_code == 404, "the secret's variable emptied after start: off, not open to anyone"
    monkeypatch.setenv("JIRA_HOOK_SECRET", JIRA_HOOK_SECRET)
    assert jira_hook(on, wont_do).status_code == 200
    [closed] = events(workspace, EventKind.ISSUE_CLOSED)
    assert closed.data["why"] == "Won't Do"
    assert events(workspace, EventKind.ISSUE_SHIPPED) == []


def test_a_jira_delivery_is_remembered_only_once_it_is_applied(workspace, monkeypatch):
    web = web_of(workspace, Trackers(jira=jira_tracker(monkeypatch)))
    mention_id = workspace.heard("Acme needs an export to CSV", number=7, author="@pat@social.example")
    workspace.card(mention_id)
    done, sent_ms = recorded("jira_issue_updated.json"), int(utcnow().timestamp() * 1000)

    # The issue closes in Jira a moment before Ben's link to it is stored: nothing to apply, nothing remembered.
    first = jira_hook(web, done, delivery="j-1", sent_ms=sent_ms)
    assert first.json["ignored"] == "no mention is linked to this issue"
    link_jira(workspace, mention_id, "ACME-42", "Export to CSV")

    again = jira_hook(web, done, delivery="j-1", sent_ms=sent_ms)
    assert again.json == {"ok": True, "issue": "ACME-42"}, "sent again"
    assert jira_hook(web, done, delivery="j-1", sent_ms=sent_ms).json["ignored"] == "delivered before"
    assert len(events(workspace, EventKind.ISSUE_SHIPPED)) == 1
