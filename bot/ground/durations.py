"""How a length of time is written, the same way in the summary, the reminders and the Home tab."""

from datetime import timedelta


def format_duration(duration: timedelta | None) -> str:
    """Like "45s", "3m 07s", "20m", "1h 01m", "4h" or "2d 3h"; "n/a" for no duration, never negative.

    A round figure drops its zero part: "unclaimed for 20m" reads better than "20m 00s"."""
    if duration is None:
        return "n/a"
    seconds = max(0, int(duration.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {seconds:02d}s" if seconds else f"{minutes}m"
    return f"{seconds}s"
