"""The product team's issue trackers (GitHub Issues, Jira, Linear), each through its documented API over httpx.

What they share: an issue as the tracker tells it (`Issue`), and two kinds of failure: one worth trying again
(`TrackerBusy`: a rate limit, an outage, a timeout) and one no retry fixes (`TrackerRefused`: a revoked token, a
deleted issue, a form the tracker will not take), which names its fix."""

from dataclasses import dataclass
from typing import Protocol

from bot.ground.models import TrackerIssueState


@dataclass(frozen=True)
class Issue:
    ref: str
    """What the tracker's API calls it (the number, the Jira key, the Linear id)."""
    key: str
    """What people call it (`GH-12`, `ACME-42`, `ENG-7`)."""
    url: str
    title: str
    state: TrackerIssueState
    why: str = ""
    """How the tracker says it was closed (`not_planned`, `Won't Do`, `canceled`), when it was."""


SEARCH_RESULTS = 10


class TrackerError(Exception):
    """A call to a tracker failed; the message says why, without the token or the URL's secrets."""


class TrackerBusy(TrackerError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TrackerRefused(TrackerError):
    def __init__(self, message: str, *, status: int, fix: str = "") -> None:
        super().__init__(message)
        self.status, self.fix = status, fix

    @property
    def gone(self) -> bool:
        """The issue was deleted, moved (a 301: transferred to another repository), or out of the token's sight."""
        return self.status in (301, 404, 410)


class Tracker(Protocol):
    """One configured tracker. Bodies are Markdown (GitHub and Linear take it as it is; Jira Cloud gets it as
    Atlassian Document Format); the evidence section is the part All Ears keeps up to date."""

    name: str

    def ref_of(self, key: str) -> str | None:
        """The API's name for an issue typed in Slack (`GH-12`, `#12`, its link), or None if it is not this one's."""
        ...

    def create(self, *, title: str, body: str, labels: list[str]) -> Issue: ...

    def find(self, marker: str) -> Issue | None:
        """An issue whose body holds `marker`: one an earlier attempt created, though its answer was lost."""
        ...

    def get(self, ref: str) -> Issue: ...

    def search(self, text: str) -> list[Issue]:
        """Open issues whose words match `text`, best first, at most `SEARCH_RESULTS`."""
        ...

    def set_evidence(self, ref: str, section: str) -> bool:
        """Replace the issue's evidence section with `section` (or add it); False when it said that already."""
        ...

    def check(self) -> str:
        """One read-only call that needs the credentials and the project: what it found, in words."""
        ...
