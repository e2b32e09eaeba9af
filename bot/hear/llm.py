"""Asking an LLM (`[llm]`, any OpenAI-compatible chat completions endpoint) about the mentions the relevance
model is unsure of (`MentionStatus.CHECKING`), and only those: the others never leave the machine. Its
"relevant" posts the card, its "irrelevant" mutes the mention into the digest. Whenever it cannot say (down,
slow, an answer that is neither, the day's budget spent) the card is posted: an unsure mention is never
hidden on a guess."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from urllib.parse import urljoin

import httpx
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from bot.ground.clock import utcnow
from bot.ground.config import Config, Llm
from bot.ground.config_types import secret
from bot.ground.db import read_scope, rows_changed, session_scope
from bot.ground.mentions import append_event, get_mention
from bot.ground.models import Event, EventKind, Mention, MentionStatus, OutboxKind
from bot.ground.outbox import enqueue

log = logging.getLogger(__name__)

AT_ONCE = 20
"""Mentions asked about in one run; more wait for the next."""
TEXT = 2000
"""Characters of a post sent: enough to judge, and a bounded cost."""
RELEVANT, NOT_RELEVANT = "relevant", "not relevant"
_SAID = re.compile(r"\b(irrelevant|not relevant|relevant)\b")


@dataclass(frozen=True)
class Checked:
    relevant: int = 0
    not_relevant: int = 0
    unanswered: int = 0


def listened_for(config: Config) -> str:
    """What the team listens for, as the question names it: its products, else its words or query."""
    listen = config.listen
    names = [product.name for product in listen.products] + listen.keywords
    return ", ".join(names) or listen.query or "the company's products"


def check_unsure(engine: Engine, http: httpx.Client, config: Config, *, now: datetime | None = None) -> Checked:
    """Ask about the mentions waiting for the LLM's word, each outside any transaction, and settle each."""
    llm = config.llm
    if llm is None:
        return Checked()
    now = now or utcnow()
    with read_scope(engine) as session:
        waiting = list(
            session.exec(
                select(Mention)
                .where(col(Mention.status) == MentionStatus.CHECKING)
                .order_by(col(Mention.id))
                .limit(AT_ONCE)
            )
        )
        asked = asked_today(session, now)
    about, counts = listened_for(config), {RELEVANT: 0, NOT_RELEVANT: 0, None: 0}
    for mention in waiting:
        verdict: str | None = None
        why: str | None = "the day's budget of questions is spent"
        if asked < llm.daily_budget:
            asked += 1
            verdict, why = ask(http, llm, about, mention)
        assert mention.id is not None
        with session_scope(engine) as session:
            if _settle(session, mention.id, verdict, why, now):
                counts[verdict] += 1
    return Checked(counts[RELEVANT], counts[NOT_RELEVANT], counts[None])


def ask(http: httpx.Client, llm: Llm, about: str, mention: Mention) -> tuple[str | None, str | None]:
    """The LLM's verdict on one mention (`RELEVANT`, `NOT_RELEVANT`), or None and why it has none."""
    system = (
        f"A company's team reads public posts that mention {about}, to answer its customers: those who complain,"
        " ask, praise or suggest. Posts about something else with the same name, job ads, spam and news naming it"
        " in passing are not for them. Answer with one word: relevant or irrelevant."
    )
    content, why = complete(http, llm, system, post_of(mention), max_tokens=5)
    if content is None:
        return None, why
    said = _SAID.search(content.casefold())
    if said is None:
        return None, "the answer was neither relevant nor irrelevant"
    return (RELEVANT if said.group(1) == RELEVANT else NOT_RELEVANT), None


def complete(http: httpx.Client, llm: Llm, system: str, user: str, *, max_tokens: int) -> tuple[str | None, str | None]:
    """One chat completion's text, or None and why there is none."""
    key = secret(llm.api_key_env)
    question: dict[str, Any] = {
        "model": llm.model,
        "temperature": 0,
        "max_tokens": max_tokens,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }
    try:
        response = http.post(
            urljoin(llm.base_url, "chat/completions"),
            json=question,
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=llm.timeout.total_seconds(),
        )
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
    except httpx.TimeoutException:
        return None, f"no answer within {llm.timeout.total_seconds():g}s"
    except httpx.HTTPStatusError as error:
        return None, f"the endpoint answered {error.response.status_code}"
    except httpx.HTTPError as error:
        return None, f"the endpoint could not be reached ({type(error).__name__})"
    except (ValueError, KeyError, IndexError, TypeError):
        return None, "the endpoint's answer was not a chat completion"
    if not isinstance(content, str) or not content.strip():
        return None, "the endpoint answered nothing"
    return content.strip(), None


def post_of(mention: Mention) -> str:
    """What the LLM is shown of a post: where, who, and its first `TEXT` characters."""
    parts = (f"Source: {mention.source}", f"Author: {mention.author or 'unknown'}", mention.title, mention.text[:TEXT])
    return "\n".join(part for part in parts if part)


def asked_today(session: Session, now: datetime) -> int:
    """Questions asked since midnight UTC, relevance checks and reply drafts alike: `[llm] daily_budget`."""
    midnight = datetime.combine(now.date(), time(), now.tzinfo)
    return session.exec(
        select(func.count())
        .select_from(Event)
        .where(col(Event.kind).in_([EventKind.LLM_CHECKED, EventKind.LLM_DRAFTED]), col(Event.at) >= midnight)
    ).one()


def _settle(session: Session, mention_id: int, verdict: str | None, why: str | None, now: datetime) -> bool:
    """Post the card, or mute the mention; False when someone settled it meanwhile."""
    status = MentionStatus.MUTED if verdict == NOT_RELEVANT else MentionStatus.OPEN
    changed = session.execute(
        update(Mention)
        .where(col(Mention.id) == mention_id, col(Mention.status) == MentionStatus.CHECKING)
        .values(status=status)
    )
    if not rows_changed(changed):
        return False
    append_event(session, mention_id, EventKind.LLM_CHECKED, None, now, refresh=False, verdict=verdict, why=why)
    mention = get_mention(session, mention_id)
    if status == MentionStatus.MUTED:
        append_event(session, mention_id, EventKind.MUTED, None, now, refresh=False, relevance=mention.relevance)
    else:
        enqueue(session, OutboxKind.CARD, mention_id=mention_id, channel=mention.channel)
    if verdict is None:
        log.info("M-%s: the LLM could not say (%s); its card is posted", mention_id, why)
    return True
