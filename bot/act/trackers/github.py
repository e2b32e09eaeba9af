"""GitHub Issues through the REST API (https://docs.github.com/rest/issues): an issue is closed as done when its
`state_reason` is `completed` (or, for issues closed before reasons existed, none); `not_planned` and `duplicate`
are closed otherwise."""

import re
from typing import Any

import httpx

from bot.act.trackers import SEARCH_RESULTS, Issue, TrackerRefused
from bot.act.trackers.evidence import with_section
from bot.act.trackers.http import call
from bot.ground.config_trackers import GitHubTracker
from bot.ground.config_types import secret
from bot.ground.models import TrackerIssueState

_KEY = re.compile(r"^(?:gh-|#)(\d{1,10})$", re.IGNORECASE)
_RECENT = 30
"""Issues looked through for one an interrupted creation made: it is among the newest."""


def state_of(issue: dict[str, Any]) -> tuple[TrackerIssueState, str]:
    if issue.get("state") != "closed":
        return TrackerIssueState.OPEN, ""
    reason = issue.get("state_reason") or ""
    return (TrackerIssueState.DONE if reason in ("", "completed") else TrackerIssueState.CLOSED), reason


def issue_of(issue: dict[str, Any]) -> Issue:
    state, why = state_of(issue)
    number = str(issue["number"])
    return Issue(
        ref=number, key=f"GH-{number}", url=issue["html_url"], title=issue.get("title") or "", state=state, why=why
    )


class GitHubIssues:
    name = "github"

    def __init__(self, config: GitHubTracker, http: httpx.Client) -> None:
        self._config, self._http = config, http
        self._repo = f"repos/{config.repo}"
        self._fixes = {
            401: f"the token in {config.token_env} is wrong or was revoked: make a new one (Issues: read and write)",
            403: f"the token in {config.token_env} may not write issues in {config.repo}: grant it Issues (write)",
            404: f"check `repo` ({config.repo}), and that the token in {config.token_env} can see it",
            410: "the issue was deleted, or issues are turned off in the repository",
            422: "GitHub refused the form: check the title and the labels",
        }

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {secret(self._config.token_env)}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def _call(self, method: str, path: str, *, what: str, **options: Any) -> Any:
        headers = self._headers()
        return call(
            self._http,
            method,
            self._config.base_url + path,
            what=what,
            timeout=self._config.timeout.total_seconds(),
            headers=headers,
            fixes=self._fixes,
            **options,
        )

    def ref_of(self, key: str) -> str | None:
        text = key.strip().strip("<>")
        if match := _KEY.match(text):
            return match.group(1)
        issues = f"/{self._config.repo}/issues/"
        if text.startswith("http") and issues in text:
            number = text.split(issues, 1)[1].split("#")[0].strip("/")
            return number if number.isdigit() else None
        return None

    def create(self, *, title: str, body: str, labels: list[str]) -> Issue:
        created = self._call(
            "POST",
            f"{self._repo}/issues",
            what="creating the issue",
            json={"title": title, "body": body, "labels": labels},
        )
        return issue_of(created)

    def find(self, marker: str) -> Issue | None:
        params = {"state": "all", "sort": "created", "direction": "desc", "per_page": _RECENT}
        for issue in self._call("GET", f"{self._repo}/issues", what="looking for the issue", params=params) or []:
            if marker in (issue.get("body") or "") and "pull_request" not in issue:
                return issue_of(issue)
        return None

    def get(self, ref: str) -> Issue:
        return issue_of(self._call("GET", f"{self._repo}/issues/{ref}", what=f"reading GH-{ref}"))

    def search(self, text: str) -> list[Issue]:
        query = f"repo:{self._config.repo} is:issue is:open {text}"
        params = {"q": query, "per_page": SEARCH_RESULTS}
        found = self._call("GET", "search/issues", what="searching issues", params=params)
        return [issue_of(issue) for issue in found.get("items") or []]

    def set_evidence(self, ref: str, section: str) -> bool:
        issue = self._call("GET", f"{self._repo}/issues/{ref}", what=f"reading GH-{ref}")
        body = issue.get("body") or ""
        updated = with_section(body, section)
        if updated == body:
            return False
        self._call("PATCH", f"{self._repo}/issues/{ref}", what=f"updating GH-{ref}", json={"body": updated})
        return True

    def check(self) -> str:
        repo = self._call("GET", self._repo, what=f"reading {self._config.repo}")
        if not repo.get("has_issues", True):
            raise TrackerRefused(
                f"{self._config.repo} has issues turned off", status=410, fix="turn Issues on in its settings"
            )
        return f"{repo.get('full_name', self._config.repo)} answered"
