"""Modals for Reply, Escalate, Resolve, Snooze and the tracker issues. Each carries the mention and where to answer
the clicker in `private_metadata`, so the submission handler needs nothing else."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.act.reply_drafts import Suggestion
from bot.act.trackers import Issue
from bot.ground.errors import UserError
from bot.ground.models import Mention, Outcome
from bot.ground.text import safe_mrkdwn
from bot.hear.sources.reply_limits import ReplyLimit
from bot.slack.ids import InputId, ViewId
from bot.slack.kit import (
    INPUT_LABEL,
    INPUT_MAX_LENGTH,
    MODAL_TITLE,
    OPTION_TEXT,
    OPTION_VALUE,
    PRIVATE_METADATA,
    Block,
    context,
    link,
    plain,
    section,
)
from bot.slack.payloads import Submitted, ViewSubmissionPayload

OUTCOME_DESCRIPTIONS = {
    Outcome.ANSWERED: "We answered the customer",
    Outcome.FIXED: "The problem was fixed",
    Outcome.FEEDBACK: "Feedback, sent to product",
    Outcome.THANKED: "Praise; we thanked them",
    Outcome.NO_ACTION: "Nothing to do",
    Outcome.SPAM: "Spam",
    Outcome.NOT_RELEVANT: "Not relevant (not about us)",
}
_QUOTE = 1500
POST_ON_SOURCE = "post_on_source"


class ModalContext(BaseModel):
    """Which mention a modal is about, the clicker's response_url for answering them privately, and, for a reply
    that can go to the source, how long a reply the source takes (so the modal can refuse a longer one).

    Versioned (`v`); metadata from modals opened before it was (no `v`) reads as version 1."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    v: Literal[1] = 1
    mention_id: int
    response_url: str | None = None
    reply_limit: ReplyLimit | None = None

    def dump(self) -> str:
        text = self.model_dump_json()
        if len(text) <= PRIVATE_METADATA:
            return text
        return self.model_copy(update={"response_url": None}).model_dump_json()

    @classmethod
    def of_metadata(cls, metadata: str) -> "ModalContext":
        try:
            return cls.model_validate_json(metadata)
        except ValidationError:
            raise UserError("This form is out of date; open it again from the card.") from None

    @classmethod
    def of_submission(cls, submission: ViewSubmissionPayload | dict[str, Any]) -> "ModalContext":
        """The context of a submitted modal, parsed or as Slack sent it (only its view is read)."""
        if isinstance(submission, dict):
            try:
                return cls.of_metadata(Submitted.model_validate(submission).view.private_metadata)
            except ValidationError:
                raise UserError("This form is out of date; open it again from the card.") from None
        return cls.of_metadata(submission.view.private_metadata)


def _modal(view_id: ViewId, title: str, submit: str, blocks: list[Block], modal_context: ModalContext) -> Block:
    return {
        "type": "modal",
        "callback_id": view_id,
        "title": plain(title, limit=MODAL_TITLE),
        "submit": plain(submit, limit=MODAL_TITLE),
        "close": plain("Cancel", limit=MODAL_TITLE),
        "private_metadata": modal_context.dump(),
        "blocks": blocks,
    }


def _quote(mention: Mention) -> Block:
    return section(f"*{mention.reference}*: {safe_mrkdwn(mention.title or mention.text, _QUOTE)}")


def _option(value: str, text: str, description: str | None = None) -> Block:
    option: Block = {"text": plain(text, limit=OPTION_TEXT), "value": value[:OPTION_VALUE]}
    if description:
        option["description"] = plain(description, limit=OPTION_TEXT)
    return option


def _input(block_id: InputId, label: str, element: Block, *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, limit=INPUT_LABEL),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }


def _text_input(*, multiline: bool, placeholder: str) -> Block:
    return {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": INPUT_MAX_LENGTH,
        "placeholder": plain(placeholder, limit=150),
    }


def reply_modal(
    mention: Mention,
    modal_context: ModalContext,
    *,
    source_target: str | None = None,
    suggesting: bool = False,
    suggestion: Suggestion | None = None,
) -> Block:
    """`source_target` says where the reply can be posted on the source; ticking the box confirms it. With
    `suggesting` (an `[llm]` is configured), the LLM's suggestion is shown under the reply, or that it is coming."""
    where = link(mention.url, "the original post") if mention.url else "the source"
    blocks = [
        _quote(mention),
        _input(InputId.REPLY_TEXT, "Your reply", _text_input(multiline=True, placeholder="Hi! Sorry about that…")),
    ]
    if suggesting:
        blocks.append(_suggested(suggestion))
    if source_target:
        confirm = {
            "type": "checkboxes",
            "options": [_option(POST_ON_SOURCE, f"Post it on {mention.source} too", source_target)],
        }
        blocks.append(_input(InputId.POST_ON_SOURCE, "On the source", confirm, optional=True))
        blocks.append(context("Recorded and posted in the card's thread either way; ticked, it is sent once."))
        return _modal(ViewId.REPLY, f"Reply to {mention.reference}", "Reply", blocks, modal_context)
    blocks.insert(1, context(f"Write what you answered on {where}; it is recorded and posted in the card's thread."))
    return _modal(ViewId.REPLY, f"Reply to {mention.reference}", "Record reply", blocks, modal_context)


def _suggested(suggestion: Suggestion | None) -> Block:
    """What the LLM wrote may repeat the customer's words: escaped like them."""
    if suggestion is None:
        return context("The LLM is suggesting a reply…")
    if suggestion.text is None:
        return context(f"No suggested reply: {safe_mrkdwn(suggestion.why_none or 'none came', 300)}.")
    quoted = "\n>".join(safe_mrkdwn(suggestion.text, 2000).splitlines())
    return section(f"*Suggested by the LLM* (check it, then copy what you keep):\n>{quoted}")


def escalate_modal(mention: Mention, teams: Sequence[str], modal_context: ModalContext) -> Block:
    select = {"type": "static_select", "options": [_option(team, team) for team in teams[:100]]}
    blocks = [
        _quote(mention),
        _input(InputId.TEAM, "Team", select),
        _input(
            InputId.REASON, "Why", _text_input(multiline=True, placeholder="What the team should know"), optional=True
        ),
    ]
    return _modal(ViewId.ESCALATE, f"Escalate {mention.reference}", "Escalate", blocks, modal_context)


def resolve_modal(mention: Mention, modal_context: ModalContext) -> Block:
    select = {
        "type": "static_select",
        "options": [_option(outcome.value, outcome.value, OUTCOME_DESCRIPTIONS[outcome]) for outcome in Outcome],
    }
    blocks = [
        _quote(mention),
        _input(InputId.OUTCOME, "Outcome", select),
        _input(
            InputId.NOTE, "Note", _text_input(multiline=True, placeholder="Anything worth remembering"), optional=True
        ),
    ]
    return _modal(ViewId.RESOLVE, f"Resolve {mention.reference}", "Resolve", blocks, modal_context)


def snooze_modal(mention: Mention, modal_context: ModalContext, *, initial: datetime) -> Block:
    """Snooze until a moment the person picks, shown and picked in their own time zone."""
    picker = {"type": "datetimepicker", "initial_date_time": int(initial.timestamp())}
    blocks = [
        _quote(mention),
        _input(InputId.SNOOZE_UNTIL, "Snooze until", picker),
        context("No SLA reminders until then; at most 30 days ahead. The card's menu wakes it earlier."),
    ]
    return _modal(ViewId.SNOOZE, f"Snooze {mention.reference}", "Snooze", blocks, modal_context)


def _prefilled(element: Block, value: str | None) -> Block:
    return {**element, "initial_value": value[:INPUT_MAX_LENGTH]} if value else element


def issue_title(mention: Mention) -> str:
    """The title the Create issue form proposes: the topic, then the start of what the customer said."""
    said = " ".join((mention.title or mention.text).split())
    said = said if len(said) <= 80 else said[:79].rstrip() + "…"
    return f"{mention.topic}: {said}" if mention.topic else said


def create_issue_modal(
    mention: Mention,
    modal_context: ModalContext,
    *,
    trackers: Sequence[str],
    tracker: str,
    title: str,
    body: str,
) -> Block:
    """The tracker issue form: which tracker, the title and labels, and a body that starts with the customer's
    words; the evidence section is added under it and kept up to date."""
    chosen = _option(tracker, tracker)
    select = {"type": "static_select", "options": [_option(name, name) for name in trackers], "initial_option": chosen}
    blocks = [
        _quote(mention),
        _input(InputId.ISSUE_TRACKER, "Tracker", select),
        _input(
            InputId.ISSUE_TITLE, "Title", _prefilled(_text_input(multiline=False, placeholder="What to build"), title)
        ),
        _input(
            InputId.ISSUE_LABELS,
            "Labels",
            _text_input(multiline=False, placeholder="customer-feedback, billing (comma-separated)"),
            optional=True,
        ),
        _input(InputId.ISSUE_BODY, "Description", _prefilled(_text_input(multiline=True, placeholder="Why"), body)),
        context(
            "Under the description, All Ears adds what customers said (how many, where, the latest quotes) and keeps it"
            " up to date as more mentions are linked. When the issue ships, their threads offer *Tell the customer*."
        ),
    ]
    return _modal(ViewId.CREATE_ISSUE, "Create issue", "Create", blocks, modal_context)


def link_issue_modal(
    mention: Mention, modal_context: ModalContext, *, query: str = "", found: Sequence[Issue] | None = None
) -> Block:
    """Search the trackers' open issues (Enter in the search box redraws the form with what matches), pick one,
    or type its key or link."""
    search = _prefilled(_text_input(multiline=False, placeholder="Words of its title, then Enter"), query)
    search["dispatch_action_config"] = {"trigger_actions_on": ["on_enter_pressed"]}
    blocks = [
        _quote(mention),
        {**_input(InputId.ISSUE_SEARCH, "Search open issues", search, optional=True), "dispatch_action": True},
    ]
    if found:
        options = [_option(issue.key, f"{issue.key} {issue.title}") for issue in found]
        blocks.append(
            _input(InputId.ISSUE_PICK, "Matching issues", {"type": "radio_buttons", "options": options}, optional=True)
        )
    elif found is not None:
        blocks.append(context(f"No open issue matches “{safe_mrkdwn(query, 200)}”."))
    key = _text_input(multiline=False, placeholder="GH-123, ACME-42, ENG-7 or the issue's link")
    blocks += [
        _input(InputId.ISSUE_KEY, "Or its key or link", key, optional=True),
        context("The mention becomes evidence on the issue: its description counts it among what customers said."),
    ]
    return _modal(ViewId.LINK_ISSUE, f"Link {mention.reference}", "Link", blocks, modal_context)


def tell_customer_modal(
    mention: Mention, modal_context: ModalContext, *, text: str, source_target: str | None = None
) -> Block:
    """Tell the customer it shipped: posted on the source where it can be (ticked by default), else recorded as
    told where the person says they told them."""
    blocks = [
        _quote(mention),
        _input(
            InputId.TOLD_TEXT, "Your message", _prefilled(_text_input(multiline=True, placeholder="It shipped!"), text)
        ),
    ]
    if source_target:
        option = _option(POST_ON_SOURCE, f"Post it on {mention.source}", source_target)
        confirm = {"type": "checkboxes", "options": [option], "initial_options": [option]}
        blocks.append(_input(InputId.TOLD_ON_SOURCE, "On the source", confirm, optional=True))
        blocks.append(context("Sent once; unticked, it is recorded as told (say where below)."))
    where = _text_input(multiline=False, placeholder="https://… (the message you sent them)")
    blocks.append(_input(InputId.TOLD_AT, "Where you told them", where, optional=True))
    return _modal(ViewId.TELL_CUSTOMER, "Tell the customer", "Tell", blocks, modal_context)
