"""Finding the message an interrupted attempt may have posted. Every new message from the outbox carries
its row's id in Slack's message metadata, so before a row tried before is posted again, the channel (or
the thread) is asked whether Slack already has it: a crash between Slack accepting a post and the row
being marked sent then costs a look, not a second copy."""

from datetime import timedelta
from typing import Any, cast

from slack_sdk import WebClient

from bot.ground.models import Outbox

EVENT_TYPE = "allears_outbox"
CLOCK_SKEW = timedelta(minutes=1)
"""Looked back this far before the row was written, in case Slack's clock is behind ours."""
_PAGE = 200


def tagged(args: dict[str, Any], row: Outbox) -> dict[str, Any]:
    """A chat.postMessage's arguments with the row's id (and its mention's) as the message's metadata."""
    payload = {"outbox_id": row.id, "mention_id": row.mention_id}
    return args | {"metadata": {"event_type": EVENT_TYPE, "event_payload": payload}}


def find_posted(client: WebClient, row: Outbox, args: dict[str, Any]) -> str | None:
    """The ts of the message carrying `row`'s id where `args` posts (a channel, or a thread in it); None if absent.

    Only messages since the row was written are read, newest first, page by page."""
    query: dict[str, Any] = {
        "channel": args["channel"],
        "oldest": f"{(row.created_at - CLOCK_SKEW).timestamp():.6f}",
        "include_all_metadata": True,
        "limit": _PAGE,
    }
    cursor = None
    while True:
        if args.get("thread_ts"):  # a reply is not in the channel's history, only in its thread's
            page = client.conversations_replies(ts=args["thread_ts"], cursor=cursor, **query)
        else:
            page = client.conversations_history(cursor=cursor, **query)
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == EVENT_TYPE and _outbox_id(metadata) == row.id:
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def _outbox_id(metadata: dict[str, Any]) -> int | None:
    try:
        return int(cast(Any, (metadata.get("event_payload") or {}).get("outbox_id")))
    except (TypeError, ValueError):
        return None
