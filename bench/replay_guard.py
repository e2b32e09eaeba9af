"""The replay guard's cost per Slack request (`bot.app.web.Replays.first_time`) with 1,000 and 100,000 signatures
remembered: the guard before issue 14 (a dict rebuilt on every request once it held more than 1,000) beside
today's TTL cache, in one run, and what recording each signature in PostgreSQL adds where several workers serve.

    .venv/bin/python bench/replay_guard.py
    .venv/bin/python bench/replay_guard.py --no-postgres
"""

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app.web import Replays  # noqa: E402
from bot.ground import migrate  # noqa: E402
from bot.ground.db import make_engine  # noqa: E402
from tests.databases import new_postgres_database  # noqa: E402


class OldReplays:
    """`bot.app.web.Replays` as it was at 278b68c, for the comparison."""

    def __init__(self, *, remember: float = 600.0) -> None:
        self._remember = remember
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._until) > 1000:
                self._until = {seen: until for seen, until in self._until.items() if until > now}
            if self._until.get(signature, 0.0) > now:
                return False
            self._until[signature] = now + self._remember
            return True


def per_request(
    first_time: Callable[[str], bool],
    *,
    remembered: int,
    requests: int,
    repeat: int = 5,
    fill: Callable[[list[str]], None] | None = None,
) -> float:
    """Median µs for one new signature, once `remembered` signatures are held (all still fresh); `fill` holds them
    without a request each (the old guard took minutes to be filled one request at a time)."""
    held = [f"v0={number:064x}" for number in range(remembered)]
    if fill is not None:
        fill(held)
    else:
        for signature in held:
            first_time(signature)
    runs = []
    for run in range(repeat):
        fresh = [f"v0={remembered + run * requests + number:064x}" for number in range(requests)]
        started = time.perf_counter()
        for signature in fresh:
            first_time(signature)
        runs.append((time.perf_counter() - started) / requests * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true", help="leave out the shared-database guard")
    args = parser.parse_args()
    print("| remembered | before (dict) | now (TTL cache) | before / now |")
    print("|---|---|---|---|")
    for remembered, old_requests in ((1_000, 2_000), (100_000, 50)):
        before = OldReplays()
        until = time.monotonic() + 600

        def fill(held: list[str], before: OldReplays = before, until: float = until) -> None:
            before._until.update(dict.fromkeys(held, until))

        old = per_request(before.first_time, remembered=remembered, requests=old_requests, fill=fill)
        new = per_request(Replays().first_time, remembered=remembered, requests=20_000)
        print(f"| {remembered:,} | {old:,.2f} µs | {new:,.2f} µs | {old / new:,.0f} |")
    if args.no_postgres:
        return
    with new_postgres_database() as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        shared = per_request(Replays(engine).first_time, remembered=1_000, requests=500)
        engine.dispose()
    print(f"\nOn PostgreSQL, shared by the workers (an insert per new signature): {shared:,.0f} µs a request")


if __name__ == "__main__":
    main()
