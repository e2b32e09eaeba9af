"""Watching the linked tracker issues: each tracker's issues read again every `every` (the leader's job), and
GitHub's signed `issues` webhook at `/hooks/github`, which tells a closing at once. Both end in `issues.seen`, whose
conditional update tells each change once, whichever hears of it first."""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.act.trackers import Tracker, TrackerBusy, TrackerRefused
from bot.act.trackers.github import state_of
from bot.act.trackers.issues import refused, seen, watched
from bot.ground import seen as seen_before
from bot.ground.config_trackers import GitHubTracker
from bot.ground.config_types import secret
from bot.ground.db import read_scope, session_scope
from bot.ground.models import TrackerIssue

log = logging.getLogger(__name__)
MAX_HOOK_BYTES = 1024 * 1024
"""GitHub caps a webhook's payload at 25 MB, but an `issues` event with its issue and repository is a few KB."""


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
    key = secret(config.webhook_secret_env) if config else None
    if config is None or not key:
        return HookAnswer(
            404, {"ok": False, "error": "the GitHub webhook is off: set [trackers.github] webhook_secret_env"}
        )
    expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(expected.encode(), signature.strip().encode(errors="replace")):
        return HookAnswer(401, {"ok": False, "error": "bad or missing X-Hub-Signature-256"})
    if delivery and not seen_before.first_time(engine, f"github-delivery:{delivery}"):
        return HookAnswer(200, {"ok": True, "ignored": "delivered before"})
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
        row = session.exec(
            select(TrackerIssue).where(col(TrackerIssue.tracker) == "github", col(TrackerIssue.key) == f"GH-{number}")
        ).first()
        if row is None or row.id is None:
            return HookAnswer(202, {"ok": True, "ignored": "no mention is linked to this issue"})
        if action in ("deleted", "transferred"):
            refused(session, issue_id=row.id, problem=f"it was {action} on GitHub", gone=True)
        elif action in ("closed", "reopened"):
            state, why = state_of(issue)
            seen(session, issue_id=row.id, state=state, why=why)
    return HookAnswer(200, {"ok": True, "issue": f"GH-{number}"})
