"""The configured trackers by name, and which one a key typed in Slack belongs to."""

import httpx

from bot.act.trackers import Tracker
from bot.act.trackers.github import GitHubIssues
from bot.act.trackers.jira import JiraIssues
from bot.act.trackers.linear import LinearIssues
from bot.ground.config_trackers import GitHubTracker, JiraTracker, Trackers
from bot.ground.errors import UserError

NONE_CONFIGURED = (
    "No issue tracker is configured; add a `[trackers.github]`, `[trackers.jira]` or `[trackers.linear]` section "
    "to allears.toml."
)


class TrackerSet:
    def __init__(self, config: Trackers, http: httpx.Client) -> None:
        self._default = config.default_name
        self.by_name: dict[str, Tracker] = {}
        for name, settings in config.configured.items():
            if isinstance(settings, GitHubTracker):
                self.by_name[name] = GitHubIssues(settings, http)
            elif isinstance(settings, JiraTracker):
                self.by_name[name] = JiraIssues(settings, http)
            else:
                self.by_name[name] = LinearIssues(settings, http)

    def named(self, name: str | None) -> Tracker:
        """The tracker called `name`, or the default one when no name is given."""
        if not self.by_name:
            raise UserError(NONE_CONFIGURED)
        wanted = (name or self._default or "").strip().lower()
        if wanted not in self.by_name:
            raise UserError(f"There is no tracker `{wanted}`. Trackers: {', '.join(f'`{n}`' for n in self.by_name)}.")
        return self.by_name[wanted]

    def is_tracker(self, word: str) -> bool:
        return word.strip().lower() in self.by_name

    def find_key(self, key: str) -> tuple[Tracker, str]:
        """The tracker an issue key belongs to (`GH-12`, `ACME-42`, `ENG-7`, an issue's link), and its API name."""
        if not self.by_name:
            raise UserError(NONE_CONFIGURED)
        for tracker in self.by_name.values():
            if (ref := tracker.ref_of(key)) is not None:
                return tracker, ref
        raise UserError(
            f"`{key}` is not an issue of a configured tracker; write it like `GH-123` (GitHub), the Jira key "
            "(`ACME-42`), the Linear identifier (`ENG-7`), or paste the issue's link."
        )
