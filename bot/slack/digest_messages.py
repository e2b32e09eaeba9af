"""The daily digest of muted mentions as Slack shows it, and `/allears muted`: each muted mention on a line of
its own with a button that posts its card after all."""

from collections.abc import Mapping, Sequence

from bot.ground.models import Digest, Mention, MentionStatus
from bot.ground.text import safe_mrkdwn
from bot.slack.answers import mention_line
from bot.slack.ids import ActionId
from bot.slack.kit import MAX_MESSAGE_BLOCKS, Block, button, context, section, user
from bot.slack.payloads import MentionRef

RELEVANT = "This was relevant"
MUTED_LINES = MAX_MESSAGE_BLOCKS - 3
"""`/allears muted` shows this many, with its heading, the why and the "more" line."""


def _why_muted() -> str:
    return (
        "The relevance model, learning from what the team claims, answers and puts away, found each very likely not "
        f"worth a person's time. *{RELEVANT}* posts its card in this channel and teaches the model."
    )


def digest_message(digest: Digest) -> list[Block]:
    many = "mention" if digest.muted == 1 else "mentions"
    return [
        section(f":mute: *{digest.muted} {many} muted* since the last digest; they are in this thread."),
        context(_why_muted()),
    ]


def digest_fallback(digest: Digest) -> str:
    return f"{digest.muted} muted mentions since the last digest"


def muted_entry(mention: Mention, *, unmuted_by: str | None = None) -> Block:
    """A muted mention's line; once it is a card, who made it one instead of the button."""
    line = mention_line(mention)
    if mention.relevance is not None:
        line += f", relevance {mention.relevance:.0%}"
    source = f" ({safe_mrkdwn(mention.source, 100)})"
    if mention.status == MentionStatus.MUTED:
        return section(
            line + source, accessory=button(RELEVANT, ActionId.UNMUTE, MentionRef(mention=_id(mention)).value())
        )
    told = f"posted as a card by {user(unmuted_by)}" if unmuted_by else "no longer muted"
    return section(f"{line}{source}: {told}")


def digest_page(mentions: Sequence[Mention], unmuted_by: Mapping[int, str]) -> list[Block]:
    return [muted_entry(mention, unmuted_by=unmuted_by.get(_id(mention))) for mention in mentions]


def digest_page_fallback(mentions: Sequence[Mention]) -> str:
    return "Muted: " + ", ".join(mention.reference for mention in mentions)


def muted_blocks(mentions: Sequence[Mention], *, total: int, days: int) -> list[Block]:
    """`/allears muted`: the latest muted mentions, newest first."""
    if not mentions:
        return [section(f"Nothing was muted in the last {days} days: every mention heard got its card.")]
    blocks = [section(f":mute: *Muted in the last {days} days ({total})*"), context(_why_muted())]
    blocks += [muted_entry(mention) for mention in mentions]
    if total > len(mentions):
        blocks.append(
            context(f"…and {total - len(mentions)} more, in the channels' daily digests and `allears export`")
        )
    return blocks


def unmuted_confirmation(mention: Mention) -> str:
    return (
        f"{mention.reference} is no longer muted: its card is on its way to <#{mention.channel}>. "
        "The relevance model will learn that it was relevant."
    )


def _id(mention: Mention) -> int:
    assert mention.id is not None
    return mention.id
