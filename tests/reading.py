"""Reading what the bot sent to Slack, as the stories check it."""

from typing import Any

from bot.app.standin.slack import FakeSlack
from bot.app.standin.users import SlackUser


def label(element: dict[str, Any]) -> str:
    """A button's text, a menu's placeholder, or an overflow menu's options."""
    if element["type"] == "overflow":
        return "⋯ " + ", ".join(option["text"]["text"] for option in element["options"])
    return (element.get("text") or element["placeholder"])["text"]


def answer(fake_slack: FakeSlack, person: SlackUser) -> dict[str, Any]:
    """The latest private answer to the person's latest command or click, once it has come."""
    return fake_slack.wait_for(
        lambda: fake_slack.responses(person.last_response_key), what=f"an answer to {person.name}"
    )[-1]
