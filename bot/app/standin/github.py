"""A stand-in for GitHub's Issues REST API, keeping its issues between calls and answering in the recorded shape
(`data/github_issue.json`): the tests serve it on loopback (`tests/trackerservers.py`), and the demo serves it
beside its sample feeds, where the product team ships each issue a little while after it is opened."""

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

DOCS = "https://docs.github.com/rest/issues/issues"
Answer = tuple[int, Any, dict[str, str]]


def github_error(status: int, message: str, **more: Any) -> Answer:
    return status, {"message": message, "documentation_url": DOCS, "status": str(status), **more}, {}


def recorded_issue() -> dict[str, Any]:
    return dict(json.loads(resources.files("bot.app.standin").joinpath("data/github_issue.json").read_text()))


@dataclass
class StandinGitHub:
    repo: str = "acme/app"
    token: str = "gh-secret"
    web: str = "https://github.com"
    """Where the issues' pages are (`html_url`)."""
    ships_after: float | None = None
    """Seconds after which an open issue is closed as completed, as if the team shipped it (the demo's)."""
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    lose_answers: int = 0
    """The next creations are made, but answered 502, as a gateway answers when the answer was lost behind it."""
    _next: int = 27
    _opened: dict[int, float] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def new_issue(self, title: str, body: str = "", labels: list[str] | None = None) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            number = self._next
            issue = recorded_issue()
            api = f"https://api.github.com/repos/{self.repo}/issues/{number}"
            issue.update(
                number=number,
                id=4653700 + number,
                url=api,
                comments_url=api + "/comments",
                html_url=f"{self.web}/{self.repo}/issues/{number}",
                title=title,
                body=body,
                labels=[{"name": name, "color": "ededed", "default": False} for name in labels or []],
            )
            self.issues[number], self._opened[number] = issue, time.monotonic()
            return issue

    def close(self, number: int, reason: str = "completed") -> dict[str, Any]:
        with self._lock:
            self.issues[number].update(state="closed", state_reason=reason, closed_at="2026-12-08T09:00:00Z")
            return copy.deepcopy(self.issues[number])

    def reopen(self, number: int) -> dict[str, Any]:
        with self._lock:
            self.issues[number].update(state="open", state_reason="reopened", closed_at=None)
            return copy.deepcopy(self.issues[number])

    def delete(self, number: int) -> None:
        with self._lock:
            self.deleted.add(number)

    def revoke(self) -> None:
        self.token = "revoked"

    def _ship_due(self) -> None:
        if self.ships_after is None:
            return
        for number, opened in self._opened.items():
            if self.issues[number]["state"] == "open" and time.monotonic() - opened >= self.ships_after:
                self.close(number)

    def answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Answer:
        """What GitHub answers `method` `path` (headers with lower-case names)."""
        if headers.get("authorization") != f"Bearer {self.token}":
            return github_error(401, "Bad credentials", documentation_url="https://docs.github.com/rest")
        with self._lock:
            self._ship_due()
            return self._answer(method, path, query, body)

    def _answer(self, method: str, path: str, query: dict[str, str], body: bytes) -> Answer:
        base = f"/repos/{self.repo}"
        if method == "GET" and path == "/search/issues":
            words = [w for w in query.get("q", "").split() if ":" not in w]
            hits = [
                issue
                for issue in self.issues.values()
                if issue["state"] == "open" and all(w.casefold() in issue["title"].casefold() for w in words)
            ]
            return 200, {"total_count": len(hits), "incomplete_results": False, "items": hits}, {}
        if method == "GET" and path == base:
            return 200, {"full_name": self.repo, "has_issues": True, "permissions": {"push": True}}, {}
        if path == base + "/issues":
            if method == "POST":
                sent = json.loads(body)
                if not sent.get("title"):
                    missing = [{"resource": "Issue", "code": "missing_field", "field": "title"}]
                    return github_error(422, "Validation Failed", errors=missing)
                issue = self.new_issue(sent["title"], sent.get("body") or "", sent.get("labels"))
                if self.lose_answers:
                    self.lose_answers -= 1
                    return github_error(502, "Server Error")
                return 201, issue, {}
            newest = sorted(self.issues.values(), key=lambda issue: -issue["number"])
            return 200, newest[: int(query.get("per_page", "30"))], {}
        match = re.fullmatch(rf"{re.escape(base)}/issues/(\d+)", path)
        if match is None:
            return github_error(404, "Not Found")
        number = int(match.group(1))
        if number in self.deleted:
            return github_error(410, "This issue was deleted")
        if number not in self.issues:
            return github_error(404, "Not Found")
        if method == "PATCH":
            self.issues[number].update(json.loads(body))
        return 200, copy.deepcopy(self.issues[number]), {}
