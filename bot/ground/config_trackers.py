"""`[trackers]`: the product team's issue trackers (GitHub Issues, Jira, Linear) that mentions become issues in."""

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from bot.ground.config_types import BaseUrl, Duration, EnvName, Section

TrackerName = Literal["github", "jira", "linear"]


class _Tracker(Section):
    every: Duration = timedelta(minutes=5)
    """How often the issues mentions are linked to are read again, to learn when one ships."""
    timeout: Duration = timedelta(seconds=15)
    """How long one call may take; a slower one is tried again later, through the outbox."""


class GitHubTracker(_Tracker):
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """`owner/name`."""
    token_env: EnvName
    base_url: BaseUrl = "https://api.github.com/"
    webhook_secret_env: EnvName | None = None
    """The secret of the repository's webhook to `/hooks/github` (issues events): a closed issue is heard at once."""


class JiraTracker(_Tracker):
    base_url: BaseUrl
    """The site, like "https://acme.atlassian.net/" (Cloud) or "https://jira.acme.example/" (Server/Data Center)."""
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,49}$")
    """The project key issues are created in (`ACME`)."""
    issue_type: str = Field(default="Task", min_length=1, max_length=100)
    email_env: EnvName | None = None
    """Jira Cloud: the account's email, with an API token in `token_env` (basic auth, REST v3). Without it, the token
    is a Server/Data Center personal access token, sent as a bearer token (REST v2)."""
    token_env: EnvName
    webhook_secret_env: EnvName | None = None
    """The secret of an admin's webhook to `/hooks/jira` (issue updated and deleted): a done issue is heard at once."""

    @property
    def cloud(self) -> bool:
        return self.email_env is not None


class LinearTracker(_Tracker):
    team: str = Field(pattern=r"^[A-Za-z0-9]{1,10}$")
    """The team's key (`ENG`), the prefix of its issues' identifiers."""
    api_key_env: EnvName
    base_url: BaseUrl = "https://api.linear.app/graphql/"
    webhook_secret_env: EnvName | None = None
    """The signing secret of a Linear webhook to `/hooks/linear` (Issues): a finished issue is heard at once."""


class Trackers(Section):
    default: TrackerName | None = None
    """The tracker used when a command names none; the only one configured by default."""
    github: GitHubTracker | None = None
    jira: JiraTracker | None = None
    linear: LinearTracker | None = None

    @model_validator(mode="after")
    def _default_configured(self) -> "Trackers":
        if self.default is not None and self.default not in self.configured:
            raise ValueError(f"`default` names {self.default}, but there is no `[trackers.{self.default}]`")
        if self.default is None and len(self.configured) > 1:
            raise ValueError(
                f"several trackers are configured: say which one is `default` ({', '.join(self.configured)})"
            )
        return self

    @property
    def configured(self) -> dict[str, GitHubTracker | JiraTracker | LinearTracker]:
        found = {"github": self.github, "jira": self.jira, "linear": self.linear}
        return {name: tracker for name, tracker in found.items() if tracker is not None}

    @property
    def default_name(self) -> str | None:
        return self.default or next(iter(self.configured), None)
