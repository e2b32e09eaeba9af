"""Watching the linked tracker issues: each tracker's issues read again every `every` (the leader's job), and the
signed webhooks of GitHub (`/hooks/github`), Jira (`/hooks/jira`) and Linear (`/hooks/linear`), which tell a closing at
once. All end in `issues.seen`, whose conditional update tells each change once, whichever hears of it first. A
delivery is remembered in the transaction that applies it, so one whose handling failed is applied when the tracker
sends it again."""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.act.trackers import Tracker, TrackerBusy, TrackerRefused, github, jira
from bot.act.trackers.issues import refused, seen, watched
from bot.act.trackers.linear import issue_of as linear_issue_of
from bot.ground import seen as seen_before
from bot.ground.clock import utcnow
from bot.ground.config_trackers import GitHubTracker, JiraTracker, LinearTracker
from bot.ground.config_types import secret
from bot.ground.db import read_scope, session_scope
from bot.ground.models import TrackerIssue

log = logging.getLogger(__name__)
MAX_HOOK_BYTES = 1024 * 1024
"""GitHub caps a webhook's payload at 25 MB, but an issue's event, from any of the trackers, is a few KB."""


def check_issues(engine: Engine, tracker: Tracker, *, now: datetime | None = None) -> int:
    """Read each watched issue of `tracker` once; the number whose state changed. A busy tracker ends the round
    (the next one reads them all again); a refused token is told once and ends it too."""
    with read_scope(engine) as session:
        issues = [(row.id or 0, row.ref) for row in watched(session, tracker.name)]
    changed = 0
    for issue_id, ref in issues:
        try:
            found = tracker.get(ref)
        except TrackerBusy as busy:
            log.warning("tracker %s is busy (%s); its issues are read again at the next check", tracker.name, busy)
            break
        except TrackerRefused as refusal:
            problem = f"{refusal}" + (f"; {refusal.fix}" if refusal.fix else "")
            with session_scope(engine) as session:
                refused(session, issue_id=issue_id, problem=problem, gone=refusal.gone, now=now)
            if not refusal.gone:
                break  # a revoked token or a lost permission: every other read would fail the same way
            continue
        with session_scope(engine) as session:
            changed += seen(session, issue_id=issue_id, state=found.state, why=found.why, now=now)
    return changed


@dataclass(frozen=True)
class HookAnswer:
    status: int
    body: dict[str, Any]


def _signed(key: str, body: bytes, signature: str | None, *, prefix: str = "") -> bool:
    expected = prefix + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return bool(signature) and hmac.compare_digest(
        expected.encode(), (signature or "").strip().encode(errors="replace")
    )


def _unreadable(
    config: GitHubTracker | JiraTracker | LinearTracker | None,
    tracker: str,
    body: bytes,
    signature: str | None,
    *,
    header: str,
    prefix: str = "",
) -> HookAnswer | None:
    """The answer to a delivery that must not be read: 404 while `tracker`'s webhook is off (no secret), 401 unless
    `signature` (in `header`) is the body's HMAC-SHA256 under the secret. None when it may be read."""
    key = secret(config.webhook_secret_env) if config else None
    if not key:
        off = f"the {tracker} webhook is off: set [trackers.{tracker.lower()}] webhook_secret_env"
        return HookAnswer(404, {"ok": False, "error": off})
    if not _signed(key, body, signature, prefix=prefix):
        return HookAnswer(401, {"ok": False, "error": f"bad or missing {header}"})
    return None


def _to_apply(session: Session, tracker: str, key: str, delivery: str | None) -> TrackerIssue | HookAnswer:
    """The linked issue a delivery is about, the delivery remembered in the transaction that applies it; or the
    answer when there is nothing to apply."""
    row = session.exec(
        select(TrackerIssue).where(col(TrackerIssue.tracker) == tracker, col(TrackerIssue.key) == key)
    ).first()
    if row is None or row.id is None:
        return HookAnswer(202, {"ok": True, "ignored": "no mention is linked to this issue"})
    if delivery and not seen_before.remember(session, f"{tracker}-delivery:{delivery}"):
        return HookAnswer(200, {"ok": True, "ignored": "delivered before"})
    return row


def receive_github_hook(
    engine: Engine,
    config: GitHubTracker | None,
    *,
    body: bytes,
    signature: str | None,
    event: str | None,
    delivery: str | None,
) -> HookAnswer:
    """One GitHub webhook delivery, checked against `X-Hub-Signature-256` before anything in it is read."""
    if refusal := _unreadable(config, "GitHub", body, signature, header="X-Hub-Signature-256", prefix="sha256="):
        return refusal
    assert config is not None  # without it, the webhook is off
    if event == "ping":
        return HookAnswer(200, {"ok": True})
    if event != "issues":
        return HookAnswer(202, {"ok": True, "ignored": f"not an issues event ({event})"})
    try:
        payload = json.loads(body)
        action, issue = payload["action"], payload["issue"]
        repo, number = str(payload["repository"]["full_name"]), int(issue["number"])
    except (ValueError, KeyError, TypeError):
        return HookAnswer(400, {"ok": False, "error": "not an issues event GitHub sends"})
    if repo.casefold() != config.repo.casefold():
        return HookAnswer(202, {"ok": True, "ignored": f"another repository ({repo})"})
    with session_scope(engine) as session:
        row = _to_apply(session, "github", f"GH-{number}", delivery)
        if isinstance(row, HookAnswer):
            return row
        if action in ("deleted", "transferred"):
            refused(session, issue_id=row.id or 0, problem=f"it was {action} on GitHub", gone=True)
        elif action in ("closed", "reopened"):
            state, why = github.state_of(issue)
            seen(session, issue_id=row.id or 0, state=state, why=why)
    return HookAnswer(200, {"ok": True, "issue": f"GH-{number}"})


JIRA_ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")


def receive_jira_hook(
    engine: Engine, config: JiraTracker | None, *, body: bytes, signature: str | None, delivery: str | None
) -> HookAnswer:
    """One delivery of a Jira admin's webhook with a secret (Cloud, or Data Center 10), checked against
    `X-Hub-Signature` before anything in it is read. Jira sends a delivery again, with the same
    `X-Atlassian-Webhook-Identifier`, for minutes after a failure, so there is no freshness window; but a delivery
    whose signed `timestamp` is older than what All Ears last heard of the issue (a retried "In Progress" after
    "Done", or a replay) is not applied: it would reopen a shipped issue."""
    if refusal := _unreadable(config, "Jira", body, signature, header="X-Hub-Signature", prefix="sha256="):
        return refusal
    assert config is not None  # without it, the webhook is off
    try:
        payload = json.loads(body)
        event = str(payload["webhookEvent"])
    except (ValueError, KeyError, TypeError):
        return HookAnswer(400, {"ok": False, "error": "not a webhook Jira sends"})
    if event not in JIRA_ISSUE_EVENTS:
        return HookAnswer(202, {"ok": True, "ignored": f"not an issue event ({event})"})
    try:
        issue_key, fields = str(payload["issue"]["key"]), payload["issue"].get("fields") or {}
        sent_at = datetime.fromtimestamp(int(payload["timestamp"]) / 1000, UTC)
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
        return HookAnswer(400, {"ok": False, "error": f"{event} without its issue and timestamp"})
    if issue_key.rpartition("-")[0] != config.project:
        return HookAnswer(202, {"ok": True, "ignored": f"another project ({issue_key})"})
    with session_scope(engine) as session:
        row = _to_apply(session, "jira", issue_key, delivery)
        if isinstance(row, HookAnswer):
            return row
        if row.checked_at is not None and sent_at < row.checked_at:
            return HookAnswer(202, {"ok": True, "ignored": "older than what was last heard of the issue"})
        if event == "jira:issue_deleted":
            refused(session, issue_id=row.id or 0, problem="it was deleted in Jira", gone=True)
        elif isinstance(fields, dict) and isinstance(fields.get("status"), dict):
            state, why = jira.state_of(fields)
            seen(session, issue_id=row.id or 0, state=state, why=why)
    return HookAnswer(200, {"ok": True, "issue": issue_key})


FRESH_FOR = timedelta(minutes=1)
"""Linear puts the moment it sent a delivery in the signed body; an older one is a replay."""


def receive_linear_hook(
    engine: Engine,
    config: LinearTracker | None,
    *,
    body: bytes,
    signature: str | None,
    delivery: str | None,
    now: datetime | None = None,
) -> HookAnswer:
    """One Linear webhook delivery, checked against `Linear-Signature` and its `webhookTimestamp` first."""
    if refusal := _unreadable(config, "Linear", body, signature, header="Linear-Signature"):
        return refusal
    try:
        payload = json.loads(body)
        kind, action, data = payload["type"], payload["action"], payload["data"]
        sent_at = datetime.fromtimestamp(int(payload["webhookTimestamp"]) / 1000, UTC)
    except (ValueError, KeyError, TypeError, OverflowError):
        return HookAnswer(400, {"ok": False, "error": "not a webhook Linear sends"})
    if abs((now or utcnow()) - sent_at) > FRESH_FOR:
        return HookAnswer(400, {"ok": False, "error": "stale: webhookTimestamp is more than a minute from now"})
    if kind != "Issue" or not isinstance(data, dict) or not data.get("identifier"):
        return HookAnswer(202, {"ok": True, "ignored": f"not about an issue ({kind})"})
    with session_scope(engine) as session:
        row = _to_apply(session, "linear", str(data["identifier"]), delivery)
        if isinstance(row, HookAnswer):
            return row
        if action == "remove":
            refused(session, issue_id=row.id or 0, problem="it was deleted in Linear", gone=True)
        elif isinstance(data.get("state"), dict):
            issue = linear_issue_of({"id": row.ref, "identifier": row.key, "url": row.url, **data})
            seen(session, issue_id=row.id or 0, state=issue.state, why=issue.why)
    return HookAnswer(200, {"ok": True, "issue": data["identifier"]})
