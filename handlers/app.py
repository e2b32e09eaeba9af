"""The Bolt app factory: the only place that knows which listeners exist."""

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.settings import Settings
from handlers import Deps, buttons, commands, errors, modals

LISTENER_THREADS = 16


def slack_client(settings: Settings) -> WebClient:
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)


def create_app(settings: Settings, deps: Deps, *, client: WebClient | None = None) -> App:
    """Listeners run after `ack()` on a thread pool, so Slack always gets its answer within 3 seconds."""
    app = App(
        client=client or slack_client(settings),
        signing_secret=settings.slack_signing_secret,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
    )
    commands.register(app, deps)
    buttons.register(app, deps)
    modals.register(app, deps)
    errors.register(app)
    return app
