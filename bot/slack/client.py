"""The Web API client every part of the bot uses: the outbox, the listeners, Home tabs, the summary, checks."""

import ssl
from functools import cache
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.ground import prometheus
from bot.ground.settings import Settings


class MeteredWebClient(WebClient):
    """Every Web API call counted and timed by method, here in one place: each method of the SDK's client goes
    through `api_call`."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        with prometheus.timed_slack_call(api_method):
            return super().api_call(api_method, **kwargs)


@cache
def tls() -> ssl.SSLContext:
    """The one TLS context of every call to Slack, with the system's trusted certificates, as the SDK's default. Without
    it, the SDK's urllib makes a new context for each call's new connection, reading every trusted certificate again:
    26 ms of CPU a call. Read once per process: certificates the system trusts later count from the next start."""
    return ssl.create_default_context()


def slack_client(settings: Settings) -> WebClient:
    """No retry of its own when a connection drops (the SDK's default): the request may have reached Slack, and a
    post sent again blindly shows twice. The outbox looks before posting again; the summary never sends twice."""
    return MeteredWebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10, retry_handlers=[], ssl=tls()
    )
