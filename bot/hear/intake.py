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
from typing import Any, Literal, Self, overload

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
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
            mention_id = record(session, heard, storm=listener.storm, miss_at_most=listener.mutes_below_share)
            if mention_id is None:
                mention_id = _existing(session, source, item.external_id)
                return WebhookAnswer(200, {"ok": True, "mention": f"M-{mention_id}", "duplicate": True})
    except IntegrityError:
        return _refuse(409, "this exact body was received before (replay)")
    return WebhookAnswer(201, {"ok": True, "mention": f"M-{mention_id}"})


class WebhookBody(BaseModel):
    """What a tool posts to the inbound webhook, checked field by field in this order; the first problem is the
    answer (`the body must be …`, `text is required`, `url must not contain control characters`…)."""

    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)
    text: str = ""
    url: str | None = None
    source: str = "webhook"
    timestamp: int | float | None = None
    id: str | None = None
    title: str | None = None
    author: str | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _string("text", value, required=True)

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> str | None:
        url = _clean("url", value)
        if url and not url.lower().startswith(("http://", "https://")):
            raise _problem("url must start with http:// or https://")
        return url

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any) -> str:
        return normalize_space(_string("source", value) or "webhook")[:100] or "webhook"

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> int | float | None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e11
        ):
            raise _problem("timestamp must be a number of seconds since 1970 (UTC)")
        return value

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str | None:
        return _clean("id", value)

    @field_validator("title", "author", mode="before")
    @classmethod
    def _optional(cls, value: Any, info: ValidationInfo) -> str | None:
        return _string(info.field_name or "?", value)

    @model_validator(mode="after")
    def _something_said(self) -> Self:
        if not normalize_space(self.text)[:MAX_TEXT]:
            raise _problem("text is empty")
        return self

    @classmethod
    def of(cls, body: bytes) -> "WebhookBody":
        """The posted body, or a UserError saying what is wrong with it."""
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UserError(f"the body is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise UserError("the body must be a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise UserError(error.errors()[0]["msg"]) from None

    def item(self) -> Item:
        text = normalize_space(self.text)[:MAX_TEXT]
        external_id = self.id or "sha256:" + hashlib.sha256(f"{self.url}\n{self.text}".encode()).hexdigest()
        return Item(
            external_id=external_id[:1000],
            text=text,
            title=normalize_space(self.title or "")[:500] or None,
            url=self.url,
            author=normalize_space(self.author or "")[:500] or None,
        )

    def sent_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.timestamp, UTC) if self.timestamp is not None else None


def _parse(body: bytes) -> tuple[Item, str, datetime | None]:
    posted = WebhookBody.of(body)
    return posted.item(), posted.source, posted.sent_at()


def _problem(message: str) -> PydanticCustomError:
    """A refusal worded exactly as the sender is told it (pydantic would prefix `Value error, `)."""
    return PydanticCustomError("webhook_body", message)


@overload
def _string(key: str, value: Any, *, required: Literal[True]) -> str: ...
@overload
def _string(key: str, value: Any, *, required: bool = False) -> str | None: ...
def _string(key: str, value: Any, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise _problem(f"{key} is required")
        return None
    if not isinstance(value, str | int):
        raise _problem(f"{key} must be a string")
    return str(value)


def _clean(key: str, value: Any) -> str | None:
    """A link or an id: stored and compared as sent, so a control character in it is refused, not dropped
    (PostgreSQL refuses NUL in text, and the rest can hide in what a reader sees)."""
    text = _string(key, value)
    if text and _CONTROL_CHARACTERS.search(text):
        raise _problem(f"{key} must not contain control characters")
    return text


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
        mention_id = record(session, heard, storm=listener.storm, miss_at_most=listener.mutes_below_share)
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
