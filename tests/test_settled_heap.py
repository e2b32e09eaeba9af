"""Before its first request, a serving process loads what the first mention would load and freezes its heap:
the garbage collector's full passes, which stop every thread and so every ack, then walk only what requests
create, not the ~230,000 objects of the modules and the app (`bot.app.startup.settle_heap`)."""

import gc
import sys

from bot.app.startup import settle_heap


def test_the_web_process_loads_triage_and_freezes_its_heap_before_serving():
    try:
        settle_heap()
        assert "textblob.en" in sys.modules, "the first mention's triage imports nothing mid-serving"
        assert gc.get_freeze_count() > 10 * len(gc.get_objects()), "a full collection walks a small part of it"
    finally:
        gc.unfreeze()  # this is the test process, not a server
