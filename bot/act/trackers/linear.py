"""Linear through its GraphQL API (https://linear.app/developers): an issue is done when its workflow state's
type is `completed`; `canceled` (and `duplicate`) close it otherwise. GraphQL answers its errors in an `errors`
list, often with HTTP 200 or 400: their `extensions.code` says which kind they are."""

import re
from typing import Any

import httpx

from bot.act.trackers import SEARCH_RESULTS, Issue, TrackerBusy, TrackerRefused
from bot.act.trackers.evidence import with_section
from bot.act.trackers.http import call
from bot.ground.config_trackers import LinearTracker
from bot.ground.config_types import secret
from bot.ground.models import TrackerIssueState

_ISSUE = "id identifier url title description state { type name }"
_TEAM = "query($key: String!) { teams(filter: {key: {eq: $key}}) { nodes { id key name } } }"
_CREATE = f"mutation($input: IssueCreateInput!) {{ issueCreate(input: $input) {{ success issue {{ {_ISSUE} }} }} }}"
_GET = f"query($id: String!) {{ issue(id: $id) {{ {_ISSUE} }} }}"
_FIND = (
    "query($text: String!) { issues(filter: {description: {contains: $text}}, first: 1) "
    f"{{ nodes {{ {_ISSUE} }} }} }}"
)
_SEARCH = (
    "query($text: String!, $n: Int!) { issues(filter: {title: {containsIgnoreCase: $text}, "
    'state: {type: {nin: ["completed", "canceled"]}}}, first: $n, orderBy: updatedAt) '
    f"{{ nodes {{ {_ISSUE} }} }} }}"
)
_UPDATE = "mutation($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success } }"
_LABELS = "query($names: [String!]) { issueLabels(filter: {name: {in: $names}}) { nodes { id name } } }"


def issue_of(found: dict[str, Any]) -> Issue:
    kind = (found.get("state") or {}).get("type") or ""
    state = {"completed": TrackerIssueState.DONE, "canceled": TrackerIssueState.CLOSED}.get(
        kind, TrackerIssueState.OPEN
    )
    if kind == "duplicate":
        state = TrackerIssueState.CLOSED
    return Issue(
        ref=found["id"],
        key=found["identifier"],
        url=found["url"],
        title=found.get("title") or "",
        state=state,
        why=(found.get("state") or {}).get("name") or "",
    )


class LinearIssues:
    name = "linear"

    def __init__(self, config: LinearTracker, http: httpx.Client) -> None:
        self._config, self._http = config, http
        self._team_id: str | None = None

    def _query(self, query: str, what: str, **variables: Any) -> dict[str, Any]:
        fixes = {401: f"Linear refuses the API key in {self._config.api_key_env}: make a new one (Settings, API)"}
        try:
            answer = call(
                self._http,
                "POST",
                self._config.base_url,
                what=what,
                timeout=self._config.timeout.total_seconds(),
                headers={"Authorization": secret(self._config.api_key_env) or ""},
                json={"query": query, "variables": variables},
                fixes=fixes,
            )
        except TrackerRefused as refused:
            if refused.status != 400:  # Linear answers most GraphQL errors with 400 and the errors list
                raise
            raise self._graphql_error(what, refused) from None
        errors = answer.get("errors") or []
        if errors:
            raise self._classify(what, errors[0])
        return answer.get("data") or {}

    def _graphql_error(self, what: str, refused: TrackerRefused) -> Exception:
        said = str(refused)
        if "RATELIMITED" in said.upper() or "rate limit" in said.lower():
            return TrackerBusy(f"{what}: rate limited")
        if "authenticat" in said.lower():
            return TrackerRefused(said, status=401, fix=f"Linear refuses the API key in {self._config.api_key_env}")
        return TrackerRefused(said, status=422, fix="Linear refused the request: check `team` and the labels")

    def _classify(self, what: str, error: dict[str, Any]) -> Exception:
        code = str((error.get("extensions") or {}).get("code") or "").upper()
        message = f"{what}: {str(error.get('message') or code)[:300]}"
        if code == "RATELIMITED":
            return TrackerBusy(message)
        if code in ("AUTHENTICATION_ERROR", "FORBIDDEN"):
            return TrackerRefused(message, status=401, fix=f"Linear refuses the API key in {self._config.api_key_env}")
        if "not found" in message.lower():
            return TrackerRefused(message, status=404, fix="the issue was deleted, or the key cannot see its team")
        return TrackerRefused(message, status=422, fix="Linear refused the request: check `team` and the labels")

    def _team(self) -> dict[str, Any]:
        teams = self._query(_TEAM, f"reading team {self._config.team}", key=self._config.team)["teams"]["nodes"]
        if not teams:
            raise TrackerRefused(
                f"Linear has no team with the key {self._config.team}",
                status=404,
                fix="set `team` to the team's key, the prefix of its issues (ENG in ENG-12)",
            )
        self._team_id = teams[0]["id"]
        return dict(teams[0])

    def ref_of(self, key: str) -> str | None:
        text = key.strip().strip("<>")
        match = re.search(rf"\b({re.escape(self._config.team)}-\d{{1,10}})\b", text, re.IGNORECASE)
        return match.group(1).upper() if match else None

    def create(self, *, title: str, body: str, labels: list[str]) -> Issue:
        team_id = self._team_id or self._team()["id"]
        fields: dict[str, Any] = {"teamId": team_id, "title": title, "description": body}
        if labels:
            found = self._query(_LABELS, "reading labels", names=labels)["issueLabels"]["nodes"]
            fields["labelIds"] = [label["id"] for label in found]
        created = self._query(_CREATE, "creating the issue", input=fields)["issueCreate"]
        if not created.get("success") or not created.get("issue"):
            raise TrackerRefused("creating the issue: Linear said it did not", status=422)
        return issue_of(created["issue"])

    def find(self, marker: str) -> Issue | None:
        nodes = self._query(_FIND, "looking for the issue", text=marker)["issues"]["nodes"]
        return issue_of(nodes[0]) if nodes else None

    def search(self, text: str) -> list[Issue]:
        nodes = self._query(_SEARCH, "searching issues", text=text.strip(), n=SEARCH_RESULTS)["issues"]["nodes"]
        return [issue_of(node) for node in nodes]

    def _read(self, ref: str) -> dict[str, Any]:
        found = self._query(_GET, f"reading {ref}", id=ref).get("issue")
        if not found:
            raise TrackerRefused(f"reading {ref}: not found", status=404, fix="the issue was deleted")
        return dict(found)

    def get(self, ref: str) -> Issue:
        return issue_of(self._read(ref))

    def set_evidence(self, ref: str, section: str) -> bool:
        body = self._read(ref).get("description") or ""
        updated = with_section(body, section)
        if updated == body:
            return False
        self._query(_UPDATE, f"updating {ref}", id=ref, input={"description": updated})
        return True

    def check(self) -> str:
        team = self._team()
        return f"team {team.get('key')} ({team.get('name')}) answered"
