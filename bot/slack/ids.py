"""Every action, block and view id the bot uses, in one place so listeners and builders agree."""

from enum import StrEnum


class ActionId(StrEnum):
    CLAIM = "mention_claim"
    REPLY = "mention_reply"
    ESCALATE = "mention_escalate"
    RESOLVE = "mention_resolve"
    REOPEN = "mention_reopen"
    UNCLAIM = "mention_unclaim"
    ACKNOWLEDGE = "escalation_acknowledge"
    SNOOZE = "mention_snooze"
    MORE = "mention_more"
    """The card's overflow menu: what is done more rarely than the buttons."""
    UNMUTE = "mention_unmute"
    """A muted mention's "This was relevant" (in the digest and `/allears muted`): post its card after all."""


class ViewId(StrEnum):
    REPLY = "reply_modal"
    ESCALATE = "escalate_modal"
    RESOLVE = "resolve_modal"
    SNOOZE = "snooze_modal"


class InputId(StrEnum):
    """Block ids of modal inputs; each input's action id is the same string."""

    REPLY_TEXT = "reply_text"
    POST_ON_SOURCE = "reply_post_on_source"
    TEAM = "escalate_team"
    REASON = "escalate_reason"
    OUTCOME = "resolve_outcome"
    NOTE = "resolve_note"
    SNOOZE_UNTIL = "snooze_until"


class BlockId(StrEnum):
    CARD_ACTIONS = "card_actions"
    ALERT_ACTIONS = "alert_actions"


class ShortcutId(StrEnum):
    LOG_MENTION = "log_mention"
