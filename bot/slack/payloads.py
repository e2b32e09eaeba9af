"""What Slack sends, parsed once at the edge into typed models, and what the bot's buttons carry back.

Listeners parse their request here and read fields, never a raw dict: a payload Slack changes, or one a test
fakes badly, fails in one place with a clear error instead of a KeyError deep in a handler. Fields the bot
does not read are ignored, so Slack adding some changes nothing.
"""

import json
from typing import Any, ClassVar, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.ground.errors import UserError
from bot.slack.kit import BUTTON_VALUE

OUT_OF_DATE = "This button is out of date; use the latest card."


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- button values --------------------------------------------------------------------------------------


class _Ref(_Model):
    """A button's value: compact, versioned JSON (`{"v":1,"mention":42}`). Cards posted before values were
    versioned carry the bare id (`"42"`), which still reads as the same reference."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)
    v: Literal[1] = 1
    _bare: ClassVar[str]
    """The field a bare integer value stands for."""

    @classmethod
    def of(cls, value: str | None) -> Self:
        """The reference a clicked button carries; anything else is a button from a card the bot no longer reads."""
        try:
            if value is not None and value.isascii() and value.isdigit():
                return cls.model_validate({cls._bare: int(value)})
            return cls.model_validate_json(value or "")
        except ValidationError:
            raise UserError(OUT_OF_DATE) from None

    def value(self) -> str:
        text = self.model_dump_json()
        if len(text) > BUTTON_VALUE:  # a truncated value would be garbage on the way back
            raise ValueError(f"a button value takes at most {BUTTON_VALUE} characters: {text[:100]}…")
        return text


class MentionRef(_Ref):
    """The mention a card's button acts on."""

    _bare = "mention"
    mention: int = Field(ge=0)


class MenuChoice(_Ref):
    """An option of a card's overflow menu: the mention, and what to do with it."""

    _bare = "mention"
    mention: int = Field(ge=0)
    do: Literal["not-relevant", "create-issue", "link-issue"]


class EscalationRef(_Ref):
    """The escalation a team alert's Acknowledge button acknowledges."""

    _bare = "escalation"
    escalation: int = Field(ge=0)


class SnoozeChoice(_Model):
    """An option of a card's snooze menu: the mention, then the choice (`7:4h`, `7:off`, `7:until`). Option
    values take at most 150 characters, so this stays the compact form cards have always carried."""

    mention: int = Field(ge=0)
    choice: str = Field(min_length=1)

    @classmethod
    def of(cls, value: str | None) -> "SnoozeChoice":
        mention, _, choice = (value or "").partition(":")
        if not (mention.isascii() and mention.isdigit()):
            raise UserError("This menu is out of date; use the latest card.")
        try:
            return cls(mention=int(mention), choice=choice)
        except ValidationError:
            raise UserError("This menu is out of date; use the latest card.") from None

    def value(self) -> str:
        return f"{self.mention}:{self.choice}"


# --- who acted, and where to answer them -----------------------------------------------------------------


class Asker(Protocol):
    """Who sent a request and where they can be answered privately, whatever kind of request it is."""

    def actor(self) -> str | None: ...
    def conversation(self) -> str | None: ...
    def reply_url(self) -> str | None: ...
    def kind(self) -> str: ...
    def what(self) -> str: ...
    def in_a_conversation(self) -> bool: ...


class Id(_Model):
    id: str


class Option(_Model):
    value: str


class Container(_Model):
    type: str | None = None


class Origin(_Model):
    """Any request, read leniently for what every one has: who, where, and what it was. Used where the request
    may be of any kind, or malformed (answering an error about it), so it never refuses one."""

    user_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    label: str = "request"
    """Bounded, for the metrics: `command`, the event's type, or the payload's (block_actions, view_submission…)."""
    name: str = "request"
    """For the logs: the command, the button's action id, the view's callback id, or the event's type."""
    from_a_conversation: bool = False
    """A slash command is typed in a conversation and a card's button sits in a message."""
    metadata: str | None = None
    """A submitted modal's private_metadata, where its opener's response_url travels."""

    @model_validator(mode="before")
    @classmethod
    def _from_body(cls, body: Any) -> dict[str, Any]:
        def text(value: Any) -> str | None:
            return value if isinstance(value, str) and value else None

        def inner(value: Any, key: str) -> Any:
            return value.get(key) if isinstance(value, dict) else None

        if not isinstance(body, dict):
            return {}
        event, view, actions = body.get("event"), body.get("view"), body.get("actions")
        action = actions[0] if isinstance(actions, list) and actions else None
        command = text(body.get("command"))
        kind = text(body.get("type"))
        label = "command" if command else (text(inner(event, "type")) or "event") if kind == "event_callback" else kind
        return {
            "user_id": text(inner(body.get("user"), "id")) or text(body.get("user_id")),
            "channel_id": text(body.get("channel_id")) or text(inner(body.get("channel"), "id")),
            "response_url": text(body.get("response_url")),
            "label": label or "request",
            "name": command
            or text(inner(action, "action_id"))
            or text(inner(view, "callback_id"))
            or text(inner(event, "type"))
            or kind
            or "request",
            "from_a_conversation": bool(command) or inner(body.get("container"), "type") == "message",
            "metadata": text(inner(view, "private_metadata")) if kind == "view_submission" else None,
        }

    @classmethod
    def of(cls, body: Any) -> "Origin":
        return cls.model_validate(body)

    def actor(self) -> str | None:
        return self.user_id

    def conversation(self) -> str | None:
        return self.channel_id

    def reply_url(self) -> str | None:
        return self.response_url or _opener_url(self.metadata)

    def kind(self) -> str:
        return self.label

    def what(self) -> str:
        return self.name

    def in_a_conversation(self) -> bool:
        return self.from_a_conversation


def _opener_url(metadata: str | None) -> str | None:
    """The response_url of whoever opened a modal, which its private_metadata carries (`ModalContext`)."""
    try:
        url = json.loads(metadata).get("response_url") if metadata else None
    except (ValueError, AttributeError):
        return None
    return url if isinstance(url, str) and url else None


# --- the requests listeners handle -----------------------------------------------------------------------


class _Request(_Model):
    @classmethod
    def of(cls, body: Any) -> Self:
        return cls.model_validate(body)


class CommandPayload(_Request):
    """A slash command, as Slack posts it."""

    command: str
    text: str = ""
    user_id: str
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None

    def actor(self) -> str:
        return self.user_id

    def conversation(self) -> str | None:
        return self.channel_id

    def reply_url(self) -> str | None:
        return self.response_url

    def kind(self) -> str:
        return "command"

    def what(self) -> str:
        return self.command

    def in_a_conversation(self) -> bool:
        return True


class Action(_Model):
    """The button clicked or the menu option chosen."""

    action_id: str
    block_id: str | None = None
    value: str | None = None
    selected_option: Option | None = None

    def choice(self) -> str | None:
        """A button's value, or the value of the option chosen in a menu."""
        return self.selected_option.value if self.selected_option else self.value


class _Interaction(_Request):
    user: Id
    trigger_id: str | None = None
    response_url: str | None = None
    channel: Id | None = None

    def actor(self) -> str:
        return self.user.id

    def conversation(self) -> str | None:
        return self.channel.id if self.channel else None

    def reply_url(self) -> str | None:
        return self.response_url

    def in_a_conversation(self) -> bool:
        return False

    def opened_with(self) -> str:
        """The trigger a modal is opened with; Slack sends one with every interaction that may open one."""
        if not self.trigger_id:
            raise UserError("Slack sent no trigger to open a form with; try again.")
        return self.trigger_id


class BlockActionPayload(_Interaction):
    """A click on a button, or a choice in a menu, in a message or a view."""

    type: Literal["block_actions"]
    actions: list[Action] = Field(min_length=1)
    container: Container | None = None
    view: "View | None" = None
    """The modal or Home tab the action was in, if it was in one."""

    @property
    def action(self) -> Action:
        return self.actions[0]

    def mention(self) -> int:
        return MentionRef.of(self.action.value).mention

    def menu_choice(self) -> MenuChoice:
        return MenuChoice.of(self.action.choice())

    def escalation(self) -> int:
        return EscalationRef.of(self.action.value).escalation

    def kind(self) -> str:
        return self.type

    def what(self) -> str:
        return self.action.action_id

    def in_a_conversation(self) -> bool:
        return self.container is not None and self.container.type == "message"


class InputState(_Model):
    """One input of a submitted form, as its element reports it."""

    type: str | None = None
    value: str | None = None
    selected_option: Option | None = None
    selected_options: list[Option] = []
    selected_date_time: int | None = None

    def typed(self) -> str | None:
        """A typed value, a chosen option's value (ticked ones joined by commas), or a picked moment (unix
        seconds); None when left empty."""
        if self.type in ("static_select", "radio_buttons"):
            return self.selected_option.value if self.selected_option else None
        if self.type == "checkboxes":
            return ",".join(option.value for option in self.selected_options) or None
        if self.type == "datetimepicker":
            return str(self.selected_date_time) if self.selected_date_time is not None else None
        return self.value


class ViewState(_Model):
    values: dict[str, dict[str, InputState]] = {}


class View(_Model):
    id: str | None = None
    hash: str | None = None
    callback_id: str | None = None
    private_metadata: str = ""
    state: ViewState = ViewState()


BlockActionPayload.model_rebuild()  # its `view` is a View, defined after it


class Submitted(_Model):
    """What any submission carries: its view."""

    view: View


class ViewSubmissionPayload(_Interaction):
    """A submitted modal: its inputs, and the metadata the bot put in it."""

    type: Literal["view_submission"]
    view: View

    def input(self, input_id: str) -> str | None:
        """The value of the input whose block id and action id are `input_id`; None when left empty."""
        state = self.view.state.values.get(input_id, {}).get(input_id)
        return state.typed() if state else None

    def reply_url(self) -> str | None:
        return self.response_url or _opener_url(self.view.private_metadata)

    def kind(self) -> str:
        return self.type

    def what(self) -> str:
        return self.view.callback_id or self.type


class Message(_Model):
    ts: str = ""
    text: str | None = None


class ShortcutPayload(_Interaction):
    """A message shortcut: the message it was used on, and the conversation it is in."""

    type: Literal["message_action", "shortcut"]
    callback_id: str
    message: Message = Message()

    def kind(self) -> str:
        return self.type

    def what(self) -> str:
        return self.callback_id


class AppHomeOpened(_Model):
    type: Literal["app_home_opened"]
    user: str | None = None
    tab: str | None = None


class HomeOpenedPayload(_Request):
    """The event Slack sends when someone opens the app's Home (or Messages) tab."""

    type: Literal["event_callback"]
    event_id: str | None = None
    event: AppHomeOpened


class EventDelivery(_Model):
    """What every Events API callback carries, whatever its event: the id a redelivery repeats."""

    type: Literal["event_callback"]
    event_id: str = Field(min_length=1)

    @classmethod
    def of(cls, body: Any) -> "EventDelivery | None":
        """None for a request that is not an event callback (a command, a click…), or one without its id."""
        try:
            return cls.model_validate(body)
        except ValidationError:
            return None
