"""Waiting longer after each failure, up to a ceiling: how the outbox, the weekly summary and the
sources all retry, so a long outage costs few calls and recovery is quick once it ends."""

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    first: timedelta
    """The wait after the first failure; each further failure doubles it."""
    most: timedelta
    """The ceiling: however many failures, never longer than this."""

    def after(self, failures: int) -> timedelta:
        """The wait after `failures` failures in a row (none or one both wait `first`)."""
        wait = self.first
        for _ in range(failures - 1):
            if wait >= self.most:
                break
            wait *= 2
        return min(wait, self.most)
