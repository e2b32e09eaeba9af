"""Mentions nobody polls for: posted to the inbound webhook by another tool, or forwarded by a
colleague from Slack. The sender already decided they matter, so keywords are not required."""

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, overload

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.ground import prometheus
from bot.ground.clock import utcnow
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.models import Mention, SeenRequest
from bot.ground.text import normalize_space
from bot.hear.batches import record
from bot.hear.polling import Listener
from bot.hear.safe_fetch import FetchRefused, Page
from bot.hear.sources import Item

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 64 * 1024
FRESH_FOR = timedelta(minutes=5)
MAX_TEXT = 40_000
FORWARDED = "forwarded"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0, DEL and C1."""


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, Any]


def _refuse(status: int, error: str) -> WebhookAnswer:
    return WebhookAnswer(status, {"ok": False, "error": error})


def receive_webhook(
    engine: Engine,
    listener: Listener,
    *,
    secret: str | None,
    body: bytes,
    signature: str | None,
    now: datetime | None = None,
) -> WebhookAnswer:
    """Check, parse and store one posted mention; every refusal says why and stores nothing."""
    now = now or utcnow()
    if not secret:
        return _refuse(404, "the webhook is off: set ALLEARS_WEBHOOK_SECRET to turn it on")
    if len(body) > MAX_WEBHOOK_BYTES:
        return _refuse(413, f"the body is over {MAX_WEBHOOK_BYTES // 1024} KB")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(expected.encode(), signature.strip().encode(errors="replace")):
        return _refuse(401, "bad or missing X-Allears-Signature (sha256=<hex HMAC-SHA256 of the body>)")
    try:
        item, source, sent_at = _parse(body)
    except UserError as error:
        return _refuse(400, str(error))
    if sent_at is not None and abs(now - sent_at) > FRESH_FOR:
        return _refuse(400, f"stale: timestamp {sent_at:%Y-%m-%d %H:%M:%S} UTC is more than 5 minutes from now")
    heard = listener.hear(item, source=source, source_kind="webhook", require_keywords=False)
    assert heard is not None
    try:
        with session_scope(engine) as session:
            session.add(SeenRequest(digest=hashlib.sha256(expected.encode()).hexdigest(), seen_at=now))
            session.flush()
            mention_id = record(session, heard, storm=listener.storm)
            if mention_id is None:
                mention_id = _existing(session, source, item.external_id)
                return WebhookAnswer(200, {"ok": True, "mention": f"M-{mention_id}", "duplicate": True})
    except IntegrityError:
        return _refuse(409, "this exact body was received before (replay)")
    return WebhookAnswer(201, {"ok": True, "mention": f"M-{mention_id}"})


def _parse(body: bytes) -> tuple[Item, str, datetime | None]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"the body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise UserError("the body must be a JSON object")
    text = _string(data, "text", required=True)
    url = _clean(data, "url")
    if url and not url.lower().startswith(("http://", "https://")):
        raise UserError("url must start with http:// or https://")
    source = normalize_space(_string(data, "source") or "webhook")[:100] or "webhook"
    timestamp = data.get("timestamp")
    if timestamp is not None and (
        isinstance(timestamp, bool) or not isinstance(timestamp, int | float) or not 0 <= timestamp < 1e11
    ):
        raise UserError("timestamp must be a number of seconds since 1970 (UTC)")
    external_id = _clean(data, "id") or "sha256:" + hashlib.sha256(f"{url}\n{text}".encode()).hexdigest()
    item = Item(
        external_id=external_id[:1000],
        text=normalize_space(text)[:MAX_TEXT],
        title=normalize_space(_string(data, "title") or "")[:500] or None,
        url=url,
        author=normalize_space(_string(data, "author") or "")[:500] or None,
    )
    if not item.text:
        raise UserError("text is empty")
    sent_at = datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None
    return item, source, sent_at


@overload
def _string(data: dict[str, Any], key: str, *, required: Literal[True]) -> str: ...
@overload
def _string(data: dict[str, Any], key: str, *, required: bool = False) -> str | None: ...
def _string(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise UserError(f"{key} is required")
        return None
    if not isinstance(value, str | int):
        raise UserError(f"{key} must be a string")
    return str(value)


def _clean(data: dict[str, Any], key: str) -> str | None:
    """A link or an id: stored and compared as sent, so a control character in it is refused, not dropped
    (PostgreSQL refuses NUL in text, and the rest can hide in what a reader sees)."""
    value = _string(data, key)
    if value and _CONTROL_CHARACTERS.search(value):
        raise UserError(f"{key} must not contain control characters")
    return value


def _existing_id(source: str, external_id: str) -> Any:
    return select(col(Mention.id)).where(col(Mention.source) == source, col(Mention.external_id) == external_id)


def _existing(session: Any, source: str, external_id: str) -> int:
    return session.exec(_existing_id(source, external_id)).one()


@dataclass(frozen=True)
class Logged:
    mention_id: int
    new: bool
    joined_to: int | None = None
    """Set when it is a post already heard through a source: it is noted in that mention's thread."""
    page_title: str | None = None
    """The title of the linked page, when its text was taken from it."""
    not_fetched: str | None = None
    """Why the linked page was not read (the mention keeps the link all the same)."""


def log_forwarded(
    engine: Engine,
    listener: Listener,
    *,
    text: str,
    forwarded_by: str,
    external_id: str,
    url: str | None = None,
    author: str | None = None,
    read_page: Callable[[str], Page] | None = None,
) -> Logged:
    """Record what a colleague heard (a call, an email, a Slack message) as a mention of its own; `text` is the
    words as the person typed or read them (plain text: the Slack handlers undo Slack's markup and escapes).

    A link given without words is read with `read_page` for its title and description; when that is
    refused or fails, the mention is logged with the link alone and `not_fetched` says why.
    """
    text = normalize_space(text)[:MAX_TEXT]
    if not text and not url:
        raise UserError("Nothing to log: give the customer's words or a link, like `/allears log <url or text>`.")
    if url and _CONTROL_CHARACTERS.search(url):
        raise UserError("That link has control characters in it (a NUL, an escape…): paste it as the browser shows it.")
    external_id = external_id[:1000]
    title = not_fetched = None
    if url and not text and read_page is not None:
        with read_scope(engine) as session:
            known = session.exec(_existing_id(FORWARDED, external_id)).first()
        if known is not None:  # nothing to read again
            return Logged(known, new=False)
        try:
            page = read_page(url)
            title, text = page.title, page.text or ""
        except FetchRefused as refused:
            not_fetched = str(refused)
        except Exception:  # the mention matters more than its page: log it without the page's text
            log.exception("reading a logged link failed unexpectedly")
            not_fetched = "reading it failed on our side (the error is in the bot's log)"
    item = Item(external_id=external_id, text=text or title or url or "", title=title, url=url, author=author)
    heard = listener.hear(
        item, source=FORWARDED, source_kind=FORWARDED, forwarded_by=forwarded_by, require_keywords=False
    )
    assert heard is not None
    with session_scope(engine) as session:
        mention_id = record(session, heard, storm=listener.storm)
        if mention_id is None:
            return Logged(_existing(session, FORWARDED, item.external_id), new=False)
        mention = session.get(Mention, mention_id)
        assert mention is not None  # recorded in this transaction
        logged = Logged(
            mention_id,
            new=True,
            joined_to=mention.duplicate_of,
            page_title=title,
            not_fetched=not_fetched,
        )
    prometheus.mentions_ingested.labels(FORWARDED).inc()
    return logged
