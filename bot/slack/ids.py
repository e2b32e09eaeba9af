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
    CREATE_ISSUE = "mention_create_issue"
    """The escalation message's Create issue (the card has it in its menu): the tracker issue form."""
    TELL_CUSTOMER = "mention_tell_customer"
    """In the thread of a mention whose tracker issue shipped: tell the customer, once."""


class ViewId(StrEnum):
    REPLY = "reply_modal"
    ESCALATE = "escalate_modal"
    RESOLVE = "resolve_modal"
    SNOOZE = "snooze_modal"
    CREATE_ISSUE = "create_issue_modal"
    LINK_ISSUE = "link_issue_modal"
    TELL_CUSTOMER = "tell_customer_modal"


class InputId(StrEnum):
    """Block ids of modal inputs; each input's action id is the same string."""

    REPLY_TEXT = "reply_text"
    POST_ON_SOURCE = "reply_post_on_source"
    TEAM = "escalate_team"
    REASON = "escalate_reason"
    OUTCOME = "resolve_outcome"
    NOTE = "resolve_note"
    SNOOZE_UNTIL = "snooze_until"
    ISSUE_TRACKER = "issue_tracker"
    ISSUE_TITLE = "issue_title"
    ISSUE_LABELS = "issue_labels"
    ISSUE_BODY = "issue_body"
    ISSUE_KEY = "issue_key"
    ISSUE_SEARCH = "issue_search"
    """Typed in the Link form, Enter searches the trackers' open issues (a block action, not a submission)."""
    ISSUE_PICK = "issue_pick"
    TOLD_TEXT = "told_text"
    TOLD_ON_SOURCE = "told_on_source"
    TOLD_AT = "told_at"


class BlockId(StrEnum):
    CARD_ACTIONS = "card_actions"
    ALERT_ACTIONS = "alert_actions"
    SHIPPED_ACTIONS = "shipped_actions"


class ShortcutId(StrEnum):
    LOG_MENTION = "log_mention"
