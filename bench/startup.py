"""What a start of `allears` costs: CPU seconds from spawning `allears run` to its /healthz answering, and of a
whole `allears db upgrade` on a current SQLite database, as medians over several starts.

Half the test suite's CPU is `allears` processes starting (bench/RESULTS.md), and a platform restarts a bot
as it deploys. `--tree DIR` runs the commands from another checkout (a copy of an older commit) in the same run,
interleaved with this one, so the two figures share the machine's load:

    .venv/bin/python bench/startup.py [--starts 5] [--tree /path/to/an/older/checkout]
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.standin.slack import FakeSlack  # noqa: E402
from tests.botprocess import BotProcess, config_toml  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402

HERE = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def one_start(bot: BotProcess) -> float:
    """CPU of one `allears run` until it is healthy (then killed at once, as the kill -9 test does)."""
    before = children_cpu()
    bot.start()
    bot.kill()
    return children_cpu() - before


def one_upgrade(bot: BotProcess) -> float:
    before = children_cpu()
    result = bot.cli("db", "upgrade")
    assert result.returncode == 0, result.stderr
    return children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    trees = [HERE] + ([args.tree.resolve()] if args.tree else [])
    slack = FakeSlack(channels={"C0LISTEN", "C0URGENT", "C0SUPPORT", "C0PRODUCT"}).start()
    feeds = FeedServer().start()
    bots = {}
    for tree in trees:
        workdir = Path(tempfile.mkdtemp(prefix="allears-startup-"))
        bot = BotProcess(
            workdir,
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{workdir / 'allears.db'}",
            config=config_toml(feeds.url("/acme.xml")),
        )
        bot.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), bot.env.get("PYTHONPATH")]))
        bot.start()  # the first start migrates the new database
        bot.kill()
        bots[tree] = bot
    runs: dict[Path, list[float]] = {tree: [] for tree in trees}
    upgrades: dict[Path, list[float]] = {tree: [] for tree in trees}
    started = time.monotonic()
    for _ in range(args.starts):
        for tree, bot in bots.items():
            runs[tree].append(one_start(bot))
            upgrades[tree].append(one_upgrade(bot))
    slack.stop()
    feeds.stop()
    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"{args.starts} starts each, interleaved, in {time.monotonic() - started:.0f} s; load average {load}")
    for tree in trees:
        print(
            f"{tree}: allears run to /healthz {statistics.median(runs[tree]):.3f} s CPU "
            f"(min {min(runs[tree]):.3f}), allears db upgrade {statistics.median(upgrades[tree]):.3f} s CPU "
            f"(min {min(upgrades[tree]):.3f})"
        )
    if args.tree:
        new, old = trees
        print(
            f"new/old: run {statistics.median(runs[new]) / statistics.median(runs[old]):.2f}, "
            f"db upgrade {statistics.median(upgrades[new]) / statistics.median(upgrades[old]):.2f}"
        )


if __name__ == "__main__":
    main()
