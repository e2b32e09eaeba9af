"""Jira through its REST API: Cloud (REST v3, an account's email and API token, descriptions in Atlassian Document
Format) or Server/Data Center (REST v2, a personal access token as a bearer token, descriptions as text).

An issue is done when its status is in the `done` category and its resolution is not one of the won't-do ones."""

import base64
import re
from typing import Any

import httpx

from bot.act.trackers import SEARCH_RESULTS, Issue, TrackerRefused
from bot.act.trackers.evidence import END, START, with_section
from bot.act.trackers.http import call
from bot.ground.config_trackers import JiraTracker
from bot.ground.config_types import secret
from bot.ground.models import TrackerIssueState

NOT_DONE = {"won't do", "won't fix", "duplicate", "cannot reproduce", "declined", "incomplete", "obsolete"}
"""Resolutions that close an issue in the done category without anything having shipped."""
_FIELDS = "summary,status,resolution,description"
CONFLICT = frozenset({409})
"""Jira's answer while another edit or transition of the issue is under way: Atlassian says to try again."""
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _text(line: str) -> list[dict[str, Any]]:
    """A line's text nodes; `**bold**` is strong, a line in `_underscores_` is emphasis."""
    if len(line) > 2 and line.startswith("_") and line.endswith("_"):
        return [{"type": "text", "text": line[1:-1], "marks": [{"type": "em"}]}]
    nodes: list[dict[str, Any]] = []
    for index, part in enumerate(_BOLD.split(line)):
        if part:
            nodes.append({"type": "text", "text": part} | ({"marks": [{"type": "strong"}]} if index % 2 else {}))
    return nodes


def to_adf(markdown: str) -> list[dict[str, Any]]:
    """The few Markdown forms All Ears writes (headings, quotes, bold, emphasis), as ADF blocks."""
    blocks: list[dict[str, Any]] = []
    for line in markdown.splitlines():
        if not line.strip():
            continue
        if line.startswith("### "):
            blocks.append({"type": "heading", "attrs": {"level": 3}, "content": _text(line[4:])})
        elif line.startswith("> "):
            blocks.append({"type": "blockquote", "content": [{"type": "paragraph", "content": _text(line[2:])}]})
        else:
            blocks.append({"type": "paragraph", "content": _text(line)})
    return blocks


def plain(node: dict[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    return "".join(plain(child) for child in node.get("content") or [])


def with_adf_section(document: dict[str, Any] | None, section: str) -> dict[str, Any]:
    """The ADF document with its evidence section (from the START heading to the END line) replaced, or added."""
    content = list((document or {}).get("content") or [])
    texts = [plain(node) for node in content]
    new = to_adf(section)
    heading = START.removeprefix("### ")
    start = texts.index(heading) if heading in texts else -1
    end_text = END.strip("_")
    end = next((i for i in range(start, len(texts)) if texts[i] == end_text), -1) if start >= 0 else -1
    content = content[:start] + new + content[end + 1 :] if start >= 0 and end >= 0 else content + new
    return {"type": "doc", "version": 1, "content": content}


def state_of(fields: dict[str, Any]) -> tuple[TrackerIssueState, str]:
    """An issue's state and resolution from its `fields`, as the REST API and the webhooks both carry them."""
    status, resolved = fields.get("status"), fields.get("resolution")
    category = status.get("statusCategory") if isinstance(status, dict) else None
    resolution = str(resolved.get("name") or "") if isinstance(resolved, dict) else ""
    if not isinstance(category, dict) or category.get("key") != "done":
        return TrackerIssueState.OPEN, resolution
    return (TrackerIssueState.CLOSED if resolution.casefold() in NOT_DONE else TrackerIssueState.DONE), resolution


class JiraIssues:
    name = "jira"

    def __init__(self, config: JiraTracker, http: httpx.Client) -> None:
        self._config, self._http = config, http
        self._api = f"{config.base_url}rest/api/{'3' if config.cloud else '2'}/"
        who = f"{config.email_env} and {config.token_env}" if config.cloud else config.token_env
        self._fixes = {
            400: f"Jira refused the form: check that {config.project} has the issue type {config.issue_type}",
            401: f"Jira refuses the credentials in {who}: make a new API token (Cloud) or personal access token",
            403: f"the account in {who} may not create or edit issues in {config.project}",
            404: f"check `project` ({config.project}) and `base_url`, and that the account can browse the project",
        }

    def _headers(self) -> dict[str, str]:
        token = secret(self._config.token_env) or ""
        if self._config.cloud:
            login = f"{secret(self._config.email_env)}:{token}".encode()
            return {"Authorization": "Basic " + base64.b64encode(login).decode()}
        return {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, *, what: str, **options: Any) -> Any:
        return call(
            self._http,
            method,
            self._api + path,
            what=what,
            timeout=self._config.timeout.total_seconds(),
            headers=self._headers(),
            fixes=self._fixes,
            busy=CONFLICT,
            **options,
        )

    def _issue(self, found: dict[str, Any]) -> Issue:
        fields = found.get("fields") or {}
        state, why = state_of(fields)
        key = found["key"]
        return Issue(
            ref=key,
            key=key,
            url=f"{self._config.base_url}browse/{key}",
            title=fields.get("summary") or "",
            state=state,
            why=why,
        )

    def ref_of(self, key: str) -> str | None:
        text = key.strip().strip("<>").rstrip("/").split("/")[-1].upper()
        return text if re.fullmatch(rf"{re.escape(self._config.project)}-\d{{1,10}}", text) else None

    def create(self, *, title: str, body: str, labels: list[str]) -> Issue:
        description: Any = {"type": "doc", "version": 1, "content": to_adf(body)} if self._config.cloud else body
        fields = {
            "project": {"key": self._config.project},
            "summary": title,
            "issuetype": {"name": self._config.issue_type},
            "description": description,
            "labels": [label.replace(" ", "-") for label in labels],
        }
        created = self._call("POST", "issue", what="creating the issue", json={"fields": fields})
        return self.get(created["key"])

    def _search(self, jql: str, *, most: int, what: str) -> list[Issue]:
        path = "search/jql" if self._config.cloud else "search"
        params = {"jql": jql, "fields": _FIELDS, "maxResults": most}
        return [self._issue(found) for found in self._call("GET", path, what=what, params=params).get("issues") or []]

    def find(self, marker: str) -> Issue | None:
        jql = f'project = "{self._config.project}" AND text ~ "\\"{marker}\\"" ORDER BY created DESC'
        return next(iter(self._search(jql, most=1, what="looking for the issue")), None)

    def search(self, text: str) -> list[Issue]:
        words = " ".join(text.replace("\\", " ").replace('"', " ").split())  # JQL's quotes stay balanced
        jql = (
            f'project = "{self._config.project}" AND statusCategory != Done AND text ~ "{words}" ORDER BY updated DESC'
        )
        return self._search(jql, most=SEARCH_RESULTS, what="searching issues")

    def get(self, ref: str) -> Issue:
        return self._issue(self._call("GET", f"issue/{ref}", what=f"reading {ref}", params={"fields": _FIELDS}))

    def set_evidence(self, ref: str, section: str) -> bool:
        found = self._call("GET", f"issue/{ref}", what=f"reading {ref}", params={"fields": "description"})
        current = (found.get("fields") or {}).get("description")
        updated: Any
        if self._config.cloud:
            updated = with_adf_section(current if isinstance(current, dict) else None, section)
            unchanged = isinstance(current, dict) and updated["content"] == current.get("content")
        else:
            updated = with_section(current if isinstance(current, str) else "", section)
            unchanged = updated == current
        if unchanged:
            return False
        self._call("PUT", f"issue/{ref}", what=f"updating {ref}", json={"fields": {"description": updated}})
        return True

    def check(self) -> str:
        project = self._call("GET", f"project/{self._config.project}", what=f"reading project {self._config.project}")
        types = [kind.get("name") for kind in project.get("issueTypes") or []]
        if types and self._config.issue_type not in types:
            raise TrackerRefused(
                f"{self._config.project} has no issue type {self._config.issue_type}",
                status=400,
                fix=f"set `issue_type` to one of {', '.join(map(str, types))}",
            )
        return f"project {project.get('key', self._config.project)} ({project.get('name', '?')}) answered"
