"""Local stand-ins for the issue trackers' APIs (GitHub REST, Jira Cloud REST v3, Linear GraphQL) that keep their
issues between calls and answer in the real shapes (tests/trackers/ holds recorded ones): a created issue can be
read back, edited, closed, reopened and deleted. Any call can be made to fail the way the real services fail
(`fail`: a status, its body and headers, a delay past the client's timeout)."""

import base64
import copy
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app.standin.github import StandinGitHub
from tests.apiserver import JSON, Answer, LoopbackServer, Request

RECORDED = Path(__file__).parent / "trackers"
Reply = tuple[int, Any, dict[str, str]]
"""A status, a body (JSON, bytes or None) and headers."""


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


@dataclass
class _Fault:
    method: str | None
    path: str | None
    answer: Reply
    times: int
    delay: float


@dataclass
class FakeTracker(LoopbackServer):
    requests: list[Request] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next `times` calls (of `method` to `path`, if given) answer `status` with `body`, after `delay`."""
        with self._lock:
            self._faults.append(_Fault(method, path, (status, body, dict(headers or {})), times, delay))

    def calls(self, method: str, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method and (path is None or r.path == path)]

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def respond(self, request: Request) -> Answer:
        fault = self._fault(request)
        status, body, headers = fault.answer if fault else self.route(request)
        headers = dict(headers)  # a fault answers `times` times with the same headers
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        content_type = headers.pop("Content-Type", JSON)
        return Answer(data, status, content_type, headers, fault.delay if fault else 0.0)

    def _fault(self, request: Request) -> _Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.method in (None, request.method) and fault.path in (None, request.path):
                fault.times -= 1
                return fault
        return None


@dataclass
class FakeGitHub(FakeTracker):
    """The stand-in GitHub (`bot.app.standin.github`) on loopback."""

    state: StandinGitHub = field(default_factory=StandinGitHub)
    """Its issues, and what closes, reopens or deletes one as a person would on GitHub."""

    def route(self, request: Request) -> Reply:
        return self.state.answer(request.method, request.path, request.query, request.headers, request.body)


def jira_error(status: int, *messages: str, **fields: str) -> Reply:
    return status, {"errorMessages": list(messages), "errors": fields}, {}


@dataclass
class FakeJira(FakeTracker):
    project: str = "ACME"
    email: str = "ben@acme.example"
    token: str = "jira-token"
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)

    def status(self, key: str, category: str, name: str, resolution: str | None = None) -> None:
        with self._lock:
            fields = self.issues[key]["fields"]
            fields["status"] = {**fields["status"], "name": name, "statusCategory": {"key": category, "name": name}}
            fields["resolution"] = {"name": resolution} if resolution else None

    def route(self, request: Request) -> Reply:
        login = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {login}":
            return 401, b"Client must be authenticated to access this resource.", {"Content-Type": "text/html"}
        api = "/rest/api/3/"
        if request.method == "GET" and request.path == f"{api}project/{self.project}":
            types = [{"name": "Task"}, {"name": "Bug"}, {"name": "Story"}]
            return 200, {"key": self.project, "name": "Acme", "issueTypes": types}, {}
        if request.method == "POST" and request.path == api + "issue":
            fields = request.json()["fields"]
            if not fields.get("summary"):
                return jira_error(400, summary="You must specify a summary of the issue.")
            if fields.get("issuetype", {}).get("name") not in ("Task", "Bug", "Story"):
                return jira_error(400, issuetype="Specify a valid issue type")
            key = f"{self.project}-{42 + len(self.issues)}"
            issue = copy.deepcopy(recorded("jira_issue.json"))
            issue.update(id=str(10002 + len(self.issues)), key=key, self=f"https://acme.atlassian.net{api}issue/{key}")
            issue["fields"].update(summary=fields["summary"], description=fields.get("description"))
            self.issues[key] = issue
            return 201, {"id": issue["id"], "key": key, "self": issue["self"]}, {}
        if request.method == "GET" and request.path == api + "search/jql":
            jql = request.query.get("jql", "")
            marker = re.findall(r'\\"([^"\\]+)\\"', jql)
            if marker:
                found = [i for i in self.issues.values() if marker[0] in json.dumps(i["fields"]["description"])]
            else:
                words = re.search(r'text ~ "([^"]*)"', jql)
                wanted = (words.group(1) if words else "").casefold()
                found = [
                    i
                    for i in self.issues.values()
                    if i["fields"]["status"]["statusCategory"]["key"] != "done"
                    and wanted in i["fields"]["summary"].casefold()
                ]
            return 200, {"issues": found[: int(request.query.get("maxResults", "50"))], "isLast": True}, {}
        match = re.fullmatch(rf"{api}issue/([A-Z]+-\d+)", request.path)
        if match is None or match.group(1) not in self.issues:
            return jira_error(404, "Issue does not exist or you do not have permission to see it.")
        issue = self.issues[match.group(1)]
        if request.method == "PUT":
            issue["fields"].update(request.json()["fields"])
            return 204, None, {}
        return 200, copy.deepcopy(issue), {}


def graphql_error(message: str, code: str, status: int = 200) -> Reply:
    return (
        status,
        {"errors": [{"message": message, "extensions": {"code": code, "userPresentableMessage": message}}]},
        {},
    )


@dataclass
class FakeLinear(FakeTracker):
    team: str = "ENG"
    key: str = "lin_api_secret"
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)

    def state(self, identifier: str, kind: str, name: str) -> None:
        with self._lock:
            self.issues[identifier]["state"] = {"type": kind, "name": name}

    def route(self, request: Request) -> Reply:
        if request.headers.get("authorization") != self.key:
            return graphql_error("Authentication required, not authenticated", "AUTHENTICATION_ERROR", 400)
        sent = request.json()
        query, variables = sent["query"], sent.get("variables") or {}
        if "teams(" in query:
            found = (
                [{"id": "team-eng-id", "key": self.team, "name": "Engineering"}]
                if variables["key"] == self.team
                else []
            )
            return 200, {"data": {"teams": {"nodes": found}}}, {}
        if "issueLabels(" in query:
            return (
                200,
                {"data": {"issueLabels": {"nodes": [{"id": f"label-{n}", "name": n} for n in variables["names"]]}}},
                {},
            )
        if "issueCreate(" in query:
            fields = variables["input"]
            if not fields.get("title"):
                return graphql_error("Argument Validation Error", "INVALID_INPUT", 400)
            identifier = f"{self.team}-{7 + len(self.issues)}"
            issue = copy.deepcopy(recorded("linear_issue.json"))["data"]["issue"]
            issue.update(
                id=f"uuid-{identifier}",
                identifier=identifier,
                url=f"https://linear.app/acme/issue/{identifier}",
                title=fields["title"],
                description=fields.get("description", ""),
            )
            self.issues[identifier] = issue
            return 200, {"data": {"issueCreate": {"success": True, "issue": issue}}}, {}
        if "issues(" in query and "containsIgnoreCase" in query:
            wanted = variables["text"].casefold()
            found = [
                i
                for i in self.issues.values()
                if i["state"]["type"] not in ("completed", "canceled") and wanted in i["title"].casefold()
            ]
            return 200, {"data": {"issues": {"nodes": found[: variables["n"]]}}}, {}
        if "issues(" in query:
            found = [i for i in self.issues.values() if variables["text"] in (i.get("description") or "")]
            return 200, {"data": {"issues": {"nodes": found[:1]}}}, {}
        wanted = variables.get("id", "")
        issue = next((i for i in self.issues.values() if wanted in (i["id"], i["identifier"])), None)
        if issue is None:
            return graphql_error("Entity not found: Issue", "INVALID_INPUT")
        if "issueUpdate(" in query:
            issue.update(variables["input"])
            return 200, {"data": {"issueUpdate": {"success": True}}}, {}
        return 200, {"data": {"issue": copy.deepcopy(issue)}}, {}
