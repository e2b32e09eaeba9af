"""The Bolt app factory: the only place that knows which listeners exist."""

from slack_bolt import App
from slack_sdk import WebClient

from bot.settings import Settings
from handlers import Deps, buttons, commands, errors, home, modals, shortcuts


def slack_client(settings: Settings) -> WebClient:
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)


def create_app(settings: Settings, deps: Deps, *, client: WebClient | None = None) -> App:
    """Every listener acks on the request's thread and leaves its work to `deps.work` (see
    `handlers.errors.after_ack`), so Bolt can answer Slack as soon as the listener returns."""
    app = App(
        client=client or slack_client(settings),
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
    )
    commands.register(app, deps)
    buttons.register(app, deps)
    modals.register(app, deps)
    shortcuts.register(app, deps)
    home.register(app, deps)
    errors.register(app)
    return app
