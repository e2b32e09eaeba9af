"""What a tracker issue says about its customers: the first mention's words when it is created, and an evidence
section (distinct customers, mentions by source, the latest quotes, first and last seen) kept up to date between
two marker lines, replaced in place each time, so a retried or repeated update never adds a second one."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.ground.models import Event, EventKind, Mention
from bot.ground.text import truncate

START = "### What customers said (kept up to date by All Ears)"
END = "_End of what customers said._"
LATEST_QUOTES = 3
_QUOTE = 280
_HANDLED = (EventKind.CLAIMED, EventKind.REPLIED, EventKind.ESCALATED, EventKind.RESOLVED)


@dataclass(frozen=True)
class Evidence:
    customers: int
    by_source: list[tuple[str, int]]
    latest: list[Mention]
    first_seen: datetime
    last_seen: datetime


def customer_of(mention: Mention) -> tuple[str, str]:
    """Who said it: the author on their source, or the post itself when the source names nobody."""
    return mention.source, (mention.author or mention.external_id).casefold()


def evidence_of(session: Session, issue_id: int) -> Evidence | None:
    mentions = list(
        session.exec(select(Mention).where(col(Mention.tracker_issue_id) == issue_id).order_by(col(Mention.heard_at)))
    )
    return evidence_from(mentions) if mentions else None


def evidence_from(mentions: list[Mention]) -> Evidence:
    """From mentions oldest first."""
    return Evidence(
        customers=len({customer_of(mention) for mention in mentions}),
        by_source=Counter(mention.source for mention in mentions).most_common(),
        latest=mentions[-LATEST_QUOTES:][::-1],
        first_seen=mentions[0].heard_at,
        last_seen=mentions[-1].heard_at,
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def inert(text: str) -> str:
    """Customer words that notify nobody in the tracker: `@name` would mention (and email) one of its users."""
    return text.replace("@", "@\u200b")


def quoted(mention: Mention, limit: int = _QUOTE) -> list[str]:
    """The customer's words as a Markdown quote, then who, where, when and the link."""
    words = inert(truncate(" ".join((mention.text or mention.title or "").split()), limit))
    by = f"{inert(mention.author)} on {mention.source}" if mention.author else mention.source
    link = f": {mention.url}" if mention.url else ""
    return [f"> {words}", f"— {by}, {_when(mention.published_at or mention.heard_at)}{link}"]


def section(evidence: Evidence) -> str:
    sources = ", ".join(f"{source} {count}" for source, count in evidence.by_source)
    lines = [
        START,
        f"**{evidence.customers} customer{'s' if evidence.customers != 1 else ''}**, "
        f"{sum(count for _, count in evidence.by_source)} mention(s): {sources}.",
        f"First seen {_when(evidence.first_seen)}, last seen {_when(evidence.last_seen)}.",
        "",
        "Latest:",
    ]
    for mention in evidence.latest:
        lines += ["", *quoted(mention)]
    return "\n".join([*lines, "", END])


def with_section(body: str, new: str) -> str:
    """`body` with its evidence section replaced by `new`, or `new` added at its end when it has none."""
    start = body.find(START)
    end = body.find(END, start) if start >= 0 else -1
    if start < 0 or end < 0:
        return (body.rstrip() + "\n\n" + new) if body.strip() else new
    return body[:start] + new + body[end + len(END) :]


def handled_by(session: Session, mention_id: int) -> list[tuple[str, list[str]]]:
    """Who in the company acted on the mention, and what each did, in the order they first did."""
    done: dict[str, list[str]] = {}
    events = session.exec(
        select(Event)
        .where(col(Event.mention_id) == mention_id, col(Event.kind).in_(list(_HANDLED)), col(Event.actor).is_not(None))
        .order_by(col(Event.id))
    )
    for event in events:
        kinds = done.setdefault(event.actor or "", [])
        if event.kind not in kinds:
            kinds.append(event.kind)
    return list(done.items())


def first_body(session: Session, mention: Mention) -> str:
    """What the Create issue form proposes: the customer's words, the triage, and who has handled it."""
    assert mention.id is not None
    triage = f"{mention.sentiment}, {mention.category}, urgency {mention.urgency}"
    if mention.topic:
        triage += f", topic “{mention.topic}”"
    if mention.product:
        triage += f", about {mention.product}"
    lines = [*quoted(mention, 1500), "", f"**Triage:** {triage}."]
    people = handled_by(session, mention.id)
    if people:
        lines.append("**Handled in Slack by:** " + "; ".join(f"{who} ({', '.join(did)})" for who, did in people) + ".")
    return "\n".join(lines)


def marker(request_event_id: int) -> str:
    """Written in the issue's last line: how a retried creation finds the issue an earlier attempt made."""
    return f"allears-request-{request_event_id}"


def footer(mention: Mention, request_event_id: int) -> str:
    return f"Opened from All Ears ({mention.reference}) · {marker(request_event_id)}"
