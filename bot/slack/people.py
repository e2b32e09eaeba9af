"""Which team a person is in, for the summary's "who listened": `[people]` in the config, else their Slack title."""

import logging
from collections.abc import Mapping

from slack_sdk import WebClient

log = logging.getLogger(__name__)


class TeamDirectory:
    """`team_of` for the domain; each person is looked up in Slack at most once per directory (one summary)."""

    def __init__(self, people: Mapping[str, str], client: WebClient | None) -> None:
        self._teams: dict[str, str | None] = dict(people)
        self._client = client

    def __call__(self, user_id: str) -> str | None:
        if user_id not in self._teams:
            self._teams[user_id] = self._title(user_id)
        return self._teams[user_id]

    def _title(self, user_id: str) -> str | None:
        """The profile's title ("Support engineer"), or None: a person without one still counts as a person."""
        if self._client is None:
            return None
        try:
            profile = self._client.users_info(user=user_id)["user"].get("profile") or {}
        except Exception as error:  # a missing `users:read` scope or an outage must not stop the summary
            log.warning("users.info for %s failed (%s); counting them without a team", user_id, error)
            return None
        return str(profile.get("title") or "").strip() or None
