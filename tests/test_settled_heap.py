"""Before its first request, a serving process loads what the first mention would load and freezes its heap:
the garbage collector's full passes, which stop every thread and so every ack, then walk only what requests
create, not the ~230,000 objects of the modules and the app (`bot.app.startup.settle_heap`)."""

import gc

from bot.app.startup import settle_heap
from bot.hear import triage


def test_the_web_process_loads_triage_and_freezes_its_heap_before_serving():
    try:
        settle_heap()
        assert triage._textblob_lexicon.cache_info().currsize == 1, (
            "the first mention's triage loads nothing mid-serving"
        )
        assert gc.get_freeze_count() > 10 * len(gc.get_objects()), "a full collection walks a small part of it"
    finally:
        gc.unfreeze()  # this is the test process, not a server
