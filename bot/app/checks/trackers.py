"""Each configured tracker asked once, read-only, with its credentials: the repository, project or team is there
and the token may see it. A failure names its fix."""

import httpx

from bot.act.trackers import TrackerBusy, TrackerRefused
from bot.act.trackers.registry import TrackerSet
from bot.ground.checklist import Result
from bot.ground.config_trackers import Trackers


def check_trackers(config: Trackers, http: httpx.Client) -> list[Result]:
    results = []
    for name, tracker in TrackerSet(config, http).by_name.items():
        label = f"tracker {name}"
        try:
            results.append(Result(label, ok=True, detail=tracker.check()))
        except TrackerRefused as refused:
            results.append(Result(label, ok=False, detail=str(refused), fix=refused.fix or f"check [trackers.{name}]"))
        except TrackerBusy as busy:
            fix = f"the tracker is slow, limited or down: check `base_url` of [trackers.{name}] and the network"
            results.append(Result(label, ok=False, detail=str(busy), fix=fix))
    return results
