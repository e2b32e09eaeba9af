"""The Bolt app factory: the only place that knows which listeners exist, and which Web API client they use."""

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import httpx
from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.act.reply_drafts import ReplyDrafts
from bot.act.source_replies import SourceReplies
from bot.act.trackers.registry import TrackerSet
from bot.ground import seen
from bot.ground.config import Config, load_config
from bot.ground.db import make_engine
from bot.ground.settings import Settings
from bot.hear.polling import Listener
from bot.slack.client import slack_client
from bot.slack.payloads import EventDelivery
from handlers import Deps, buttons, commands, errors, home, modals, shortcuts, trackers
from handlers.home import HomeTabs

log = logging.getLogger(__name__)


WORK_THREADS = 16


def deps_for(
    settings: Settings,
    *,
    engine: Engine | None = None,
    config: Config | None = None,
    notify: Callable[[], None] = lambda: None,
    work: Executor | None = None,
    http: httpx.Client | None = None,
) -> Deps:
    """The listeners' dependencies from the settings alone; a process passes in what it already holds (its
    engine, config, outbox pump, work pool and HTTP client). Without a `notify`, the outbox waits for its pump."""
    engine = engine or make_engine(settings.database_url)
    config = config or load_config(settings.allears_config)
    http = http or httpx.Client()
    return Deps(
        engine=engine,
        config=config,
        notify=notify,
        work=work or ThreadPoolExecutor(max_workers=WORK_THREADS, thread_name_prefix="work"),
        listener=Listener(config),
        replies=SourceReplies(config.sources, http),
        homes=HomeTabs(engine, config),
        drafts=ReplyDrafts(engine, config, http) if config.llm is not None else None,
        trackers=TrackerSet(config.trackers, http),
    )


def create_app(settings: Settings, deps: Deps | None = None, *, client: WebClient | None = None) -> App:
    """Every listener acks on the request's thread and leaves its work to `deps.work` (see
    `handlers.errors.after_ack`), so Bolt can answer Slack as soon as the listener returns. Without `deps`, they
    are made from the settings (`deps_for`)."""
    deps = deps or deps_for(settings)
    client = client or slack_client(settings)
    # Named, or Bolt names it after its caller's file by `inspect.stack()`, which reads every loaded module's path.
    # Not "allears": Bolt sets the level of the logger its app is named after to the root's at that moment, and
    # `allears` is the bot's own logger (its start-up lines), so an app made before logging was set up hid them.
    app = App(
        client=client, signing_secret=settings.slack_signing_secret, process_before_response=True, name="allears.bolt"
    )

    @app.middleware
    def use_our_client(context: BoltContext, next: Callable[[], None]) -> None:
        """Bolt hands each request a plain client of its own; listeners get ours, which is metered."""
        context["client"] = client
        next()

    @app.middleware
    def once_per_event(body: dict[str, Any], request: BoltRequest, next: Callable[[], None]) -> BoltResponse | None:
        """Slack re-sends an event it thinks was missed (same `event_id`, `X-Slack-Retry-Num`), maybe to another
        process: only the first delivery is handled, the others are acknowledged."""
        delivery = EventDelivery.of(body)
        if delivery and not _first_delivery(deps, delivery.event_id):
            retry = (request.headers.get("x-slack-retry-num") or ["?"])[0]
            log.info("event %s delivered again (retry %s): acknowledged, not handled twice", delivery.event_id, retry)
            return BoltResponse(status=200, body="")
        next()
        return None

    commands.register(app, deps)
    buttons.register(app, deps)
    modals.register(app, deps)
    trackers.register(app, deps)
    shortcuts.register(app, deps)
    home.register(app, deps)
    errors.register(app)
    return app


def _first_delivery(deps: Deps, event_id: str) -> bool:
    try:
        return seen.first_time(deps.engine, f"event:{event_id}")
    except Exception:  # without the database there is no telling: handling it twice beats dropping it
        log.warning("could not check whether event %s was handled before; handling it", event_id, exc_info=True)
        return True
