"""Whatever customers write, and whatever colleagues type, can never ping anyone or break a message.

Hypothesis feeds arbitrary text, mixed with the fragments Slack gives a meaning (`<!channel>`,
`<@U…>`, `<#C…>`, `&`, links, zero-width and right-to-left characters), through every Block Kit
builder, and checks that: only the bot's own markup (its actors, channels, user group, dates and
links) is left in mrkdwn, every `<`, `>` and `&` of the text is escaped, mrkdwn is `verbatim` (so a bare
`@here` stays text), and everything is within Slack's limits. 100 KB strings come as explicit examples.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.act.queues import Queues
from bot.app.standin.slack import message_problems, view_problems
from bot.ground.config import Sla
from bot.ground.models import (
    Escalation,
    Event,
    EventKind,
    Mention,
    MentionStatus,
    Spike,
    SpikeEvent,
    SpikeEventKind,
    Storm,
)
from bot.hear.health import SourceHealth
from bot.remember.figures import Quote, TeamEscalations, TopicGroup, Volume, WeeklyFigures
from bot.remember.webhooks import WebhookHealth
from bot.remember.weeks import Week
from bot.slack.answers import figures_blocks, queue_blocks, sources_blocks, webhooks_blocks
from bot.slack.cards import (
    card_fallback,
    feedback_fallback,
    feedback_message,
    mention_card,
    storm_card,
    storm_fallback,
    team_alert,
    team_alert_fallback,
    thread_note,
)
from bot.slack.home import home_view
from bot.slack.kit import link, section
from bot.slack.modals import ModalContext, escalate_modal, reply_modal, resolve_modal
from bot.slack.spike_cards import spike_alert, spike_fallback, spike_note, spike_note_text

pytestmark = pytest.mark.security

# The bot's own pings and references: ids from Slack's payloads and the config, never from customer text.
ACTORS = ("U0ANA", "U0BEN")
CHANNELS = ("C0LISTEN", "C0SUPPORT")
USERGROUP = "S0SUPPORT"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

FRAGMENTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<!subteam^S123|@support>",
    "<@U123>",
    "<@U123|eve>",
    "<@U0ANA>",  # an id the bot itself pings, written by a customer
    "<#C123>",
    "<#C0LISTEN|listen>",
    "<!date^1700000000^{date}|today>",
    "<https://evil.example|click>",
    "<mailto:eve@evil.example|mail>",
    "<!chan\u200bnel>",
    "<\u2060!here>",
    "<!here\ufeff>",
    "\u202e<!channel>\u202c",
    "\u2067<@U123>\u2069",
    "@here",
    "@channel",
    "&amp;",
    "&lt;",
    "&gt;",
    "&lt;!channel&gt;",
    "&#60;!here&#62;",
    "&",
    "<",
    ">",
    "|",
    "*bold*",
    "_italic_",
    "~struck~",
    "`code`",
    "```",
    ">quote",
    "\u200b",
    "\u2060",
    "\ufeff",
    "\u202e",
    "\u2067",
    "e\u0301\u0302\u0303",
    "\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\uff1c!channel\uff1e",
    "https://example.com/a?b=1&c=<2>",
]
URLS = [
    "https://evil.example/|<!channel>",
    "https://evil.example/<!here>",
    "https://x.example/a b\tc",
    'https://x.example/"quoted"',
    "https://x.example/?a=1&b=2&lt;",
    "HTTPS://X.EXAMPLE/Upper",
    "javascript:alert(1)",
    "mailto:eve@evil.example",
    "https://x.example/\u200b<@U123>",
    "https://x.example/" + "a" * 3000,
    "https://[::1",
]

text = st.lists(st.one_of(st.text(max_size=30), st.sampled_from(FRAGMENTS)), max_size=10).map("".join)
url = st.one_of(st.none(), st.sampled_from(URLS), text, text.map(lambda path: "https://forum.example.com/" + path)).map(
    lambda value: value[:2000] if value else value
)  # the column's length


@dataclass(frozen=True)
class Words:
    """What outsiders decide: a post's text, title, author and link, where it was heard, what a
    colleague typed (a reply, a reason, a note), what a source's error said, a topic."""

    text: str
    title: str | None
    author: str | None
    source: str
    url: str | None
    typed: str
    topic: str
    error: str

    @classmethod
    def huge(cls, unit: str) -> "Words":
        """Every field 100 KB of `unit` (cut to the column's length where the database has one)."""
        big = (unit * (100_000 // len(unit) + 1))[:100_000]
        link = ("https://forum.example.com/" + big)[:2000]
        return cls(big, big, big[:500], big[:500], link, big, big[:100], big)


words = st.builds(
    Words,
    text=text.filter(bool),
    title=st.one_of(st.none(), text),
    author=st.one_of(st.none(), text.map(lambda value: value[:500])),
    source=text.map(lambda value: value[:500] or "webhook"),
    url=url,
    typed=text,
    topic=text.map(lambda value: value[:100]),
    error=text,
)
HUGE = [
    "x",
    "<!channel>&\u200b<@U123>",
    "e\u0301\U0001f44d\U0001f3fd\u202e",
    "&amp;<https://evil.example|click>",
]
PROPERTIES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def huge(**others: Any) -> Any:
    """Explicit examples with every outsider-written field 100 KB long (too big for Hypothesis to draw)."""

    def examples(test: Any) -> Any:
        for unit in HUGE:
            test = example(w=Words.huge(unit), **others)(test)
        return test

    return examples


# --- what "safe" means ----------------------------------------------------------------------------------

_OWN_MARKUP = re.compile(
    "|".join(
        [
            # `<@unknown>`: the builders' stand-in for an event without an actor (never one from a person).
            "<@(?:" + "|".join(ACTORS) + "|unknown)>",
            "<#(?:" + "|".join(CHANNELS) + ")>",
            rf"<!subteam\^{USERGROUP}>",
            r"<!date\^\d+\^[^<>|]*\|[^<>|]*>",
        ]
    )
)
_LINK = re.compile(r"<(https?://[^\s<>|\"]+)\|([^<>]*)>", re.IGNORECASE)
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def linked(url: str | None) -> set[str]:
    """The address the builders link `url` under (`bot.slack.kit.link`), if they link it at all."""
    found = _LINK.fullmatch(link(url, "label"))
    return {found.group(1)} if found else set()


def unsafe_in_mrkdwn(value: str, urls: set[str]) -> list[str]:
    """What in a mrkdwn string the bot did not write on purpose: with its own pings, dates and links
    (to the post's own address, `urls`) taken out, any `<` or `>` left, or an `&` that starts no escape."""
    rest = _LINK.sub(
        lambda match: match.group(2) if match.group(1) in urls else match.group(0), _OWN_MARKUP.sub("", value)
    )
    problems = []
    if "<" in rest or ">" in rest:
        at = min(index for index in (rest.find("<"), rest.find(">")) if index >= 0)
        problems.append(f"unescaped angle bracket: …{rest[max(0, at - 30) : at + 30]!r}…")
    if bare := _BARE_AMPERSAND.search(rest):
        problems.append(f"unescaped &: …{rest[max(0, bare.start() - 30) : bare.start() + 30]!r}…")
    return problems


def text_objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") in ("mrkdwn", "plain_text") and "text" in node else []
        return found + [found for value in node.values() for found in text_objects(value)]
    if isinstance(node, list):
        return [found for value in node for found in text_objects(value)]
    return []


def other_strings(node: Any) -> list[str]:
    """Strings outside text objects (ids, values, urls), but `private_metadata`, which no one sees."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
            return []
        return [found for key, value in node.items() if key != "private_metadata" for found in other_strings(value)]
    if isinstance(node, list):
        return [found for value in node for found in other_strings(value)]
    return [node] if isinstance(node, str) else []


REORDERING_OR_HIDING = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff"
"""Bidi embeddings, overrides and isolates, zero-width spaces and BOMs: `\u202eoc.knab` reads "bank.co"."""


def reordering_or_hiding(output: Any, *fallbacks: str) -> list[str]:
    """Those characters, anywhere a reader could see them: text objects, fallbacks, other strings."""
    shown = [found["text"] for found in text_objects(output)] + [*fallbacks, *other_strings(output)]
    return sorted({f"U+{ord(char):04X}" for value in shown for char in value if char in REORDERING_OR_HIDING})


def assert_safe(output: Any, *fallbacks: str, url: str | None) -> None:
    """Blocks or a view, and the fallback texts sent with them; `url` is the post's, which may be linked.
    plain_text is shown as written and never pings, so only its length matters (`message_problems`), and
    what reorders or hides text is in none of it."""
    urls = linked(url)
    assert reordering_or_hiding(output, *fallbacks) == []
    for text_object in text_objects(output):
        if text_object["type"] == "mrkdwn":
            assert text_object.get("verbatim") is True, f"not verbatim, so @here would ping: {text_object}"
            assert unsafe_in_mrkdwn(text_object["text"], urls) == [], text_object["text"][:300]
    for fallback in fallbacks:
        assert unsafe_in_mrkdwn(fallback, urls) == [], fallback[:300]
    for value in other_strings(output):
        assert not re.search(r"<[!@#]", value), f"a ping outside any text: {value[:300]!r}"


# --- what the builders are given ----------------------------------------------------------------------


def a_mention(w: Words, *, mention_id: int = 7, **overrides: Any) -> Mention:
    fields: dict[str, Any] = dict(
        id=mention_id,
        source=w.source,
        source_kind="webhook",
        external_id=f"ext-{mention_id}",
        url=w.url,
        author=w.author,
        title=w.title,
        text=w.text,
        published_at=NOW - timedelta(hours=3),
        heard_at=NOW - timedelta(hours=2),
        polarity=-0.6,
        sentiment="negative",
        category="complaint",
        urgency="high",
        topic=w.topic or None,
        channel=CHANNELS[0],
        card_channel=CHANNELS[0],
        card_ts="1700000000.000100",
    )
    return Mention(**(fields | overrides))


def event_data(kind: EventKind, w: Words, variant: int) -> dict[str, Any]:
    """What each kind of event records, with every outsider-written part hostile."""
    quoted = {"author": w.author, "url": w.url, "text": w.typed, "mention_id": 8, "source": w.source}
    match kind:
        case EventKind.REPLIED:
            return {"text": w.typed}
        case EventKind.ESCALATED:
            return {"team": w.topic or "support", "reason": w.typed, "escalation_id": 1}
        case EventKind.ACKNOWLEDGED:
            return {"team": w.topic or "support", "escalation_id": 1}
        case EventKind.RESOLVED:
            return {"outcome": "feedback", "note": w.typed}
        case EventKind.SENT_TO_SOURCE:
            return {"error": w.error} if variant % 2 else {"url": w.url}
        case EventKind.ALSO_HEARD | EventKind.FOLLOWED_UP:
            return quoted
        case EventKind.REOPENED:
            return quoted if variant % 2 else {}
        case EventKind.SNOOZED:
            return {"until": (NOW + timedelta(hours=4)).isoformat()}
        case EventKind.CLAIM_EXPIRED:
            return {"owner": ACTORS[1], "claimed_at": (NOW - timedelta(hours=5)).isoformat()}
        case EventKind.NUDGED:
            steps = ["claim", "reply", "resolve", "escalation", "acknowledged", "storm", w.typed]
            ping = {"usergroup": USERGROUP} if variant % 2 else {"user": ACTORS[0]}
            return {
                "step": steps[variant % len(steps)],
                "level": variant % 4,
                "after": 3600 * (variant + 1),
                "since": (NOW - timedelta(hours=3)).isoformat(),
                "team": w.topic,
                "topic": w.topic,
                "count": 12,
                **ping,
            }
    return {}


def an_event(kind: EventKind, w: Words, *, variant: int = 0, actor: str | None = ACTORS[0]) -> Event:
    return Event(id=variant + 1, mention_id=7, kind=kind, actor=actor, at=NOW, data=event_data(kind, w, variant))


events = st.lists(
    st.tuples(st.sampled_from(list(EventKind)), st.integers(0, 13), st.sampled_from([*ACTORS, None])), max_size=8
)


# --- the properties -------------------------------------------------------------------------------------


@PROPERTIES
@given(w=words, happened=events, resolved=st.booleans(), owned=st.booleans(), snoozed=st.booleans())
@huge(happened=[(kind, 1, ACTORS[0]) for kind in EventKind], resolved=False, owned=True, snoozed=True)
def test_a_card_and_its_notification_text(w, happened, resolved, owned, snoozed):
    mention = a_mention(
        w,
        status=MentionStatus.RESOLVED if resolved else MentionStatus.OPEN,
        outcome="answered" if resolved else None,
        owner_id=ACTORS[0] if owned else None,
        claimed_at=NOW - timedelta(hours=1) if owned else None,
        snoozed_until=NOW + timedelta(hours=1) if snoozed else None,
    )
    history = [an_event(kind, w, variant=variant, actor=actor) for kind, variant, actor in happened]

    blocks, fallback = mention_card(mention, history), card_fallback(mention)

    assert message_problems(fallback, blocks) == []
    assert_safe(blocks, fallback, url=w.url)


@PROPERTIES
@given(w=words, kind=st.sampled_from(list(EventKind)), variant=st.integers(0, 13), by=st.sampled_from([*ACTORS, None]))
@huge(kind=EventKind.ALSO_HEARD, variant=1, by=ACTORS[0])
def test_every_thread_note_as_it_is_posted(w, kind, variant, by):
    note = thread_note(a_mention(w), an_event(kind, w, variant=variant, actor=by))
    blocks = [section(note)]  # how the outbox posts a note: the same text as fallback and section

    assert len(note) <= 3000, "the section would cut it, maybe through a link"
    assert message_problems(note, blocks) == []
    assert_safe(blocks, note, url=w.url)


@PROPERTIES
@given(w=words, pinged=st.booleans(), acknowledged=st.booleans())
@huge(pinged=True, acknowledged=False)
def test_a_team_alert(w, pinged, acknowledged):
    escalation = Escalation(
        id=3,
        mention_id=7,
        event_id=1,
        team=w.topic or "support",
        channel=CHANNELS[1],
        usergroup=USERGROUP if pinged else None,
        reason=w.typed or None,
        escalated_by=ACTORS[0],
        escalated_at=NOW,
        acknowledged_by=ACTORS[1] if acknowledged else None,
        acknowledged_at=NOW if acknowledged else None,
    )
    mention = a_mention(w)
    blocks, fallback = team_alert(mention, escalation), team_alert_fallback(mention, escalation)

    assert message_problems(fallback, blocks) == []
    assert_safe(blocks, fallback, url=w.url)


@PROPERTIES
@given(w=words)
@huge()
def test_feedback_passed_to_product(w):
    mention = a_mention(w, status=MentionStatus.RESOLVED, outcome="feedback")
    blocks = feedback_message(mention, an_event(EventKind.RESOLVED, w))

    assert message_problems(feedback_fallback(mention), blocks) == []
    assert_safe(blocks, feedback_fallback(mention), url=w.url)


@PROPERTIES
@given(w=words, sources=st.dictionaries(text.map(lambda value: value[:500]), st.integers(1, 500), max_size=12))
@huge(sources={})
def test_a_storm_card(w, sources):
    counts = sources or {w.source: 40, w.text[:500]: 3}
    storm = Storm(
        id=1,
        channel=CHANNELS[0],
        topic=w.topic or "outage",
        counted_from=NOW - timedelta(minutes=20),
        started_at=NOW - timedelta(minutes=15),
        last_at=NOW,
    )
    blocks, fallback = storm_card(storm, counts), storm_fallback(storm, counts)

    assert message_problems(fallback, blocks) == []
    assert_safe(blocks, fallback, url=w.url)


@PROPERTIES
@given(w=words, kind=st.sampled_from(SpikeEventKind), more=st.integers(0, 5000))
@huge(kind=SpikeEventKind.STARTED, more=90)
def test_a_spike_alert_and_its_updates(w, kind, more):
    spike = Spike(
        id=1, scope=w.topic, channel=CHANNELS[0], mention_id=7, started_at=NOW, checked_at=NOW, count=46, peak=80,
        told=46, low=3, high=6, card_channel=CHANNELS[0], card_ts="1700000000.000100",
    )  # fmt: skip
    data = {"count": 80, "low": 3, "high": 6, "was": 46, "peak": 80, "median": 4, "weeks": 8, "more": more}
    data |= {"weekday": "Tuesday", "time": "14:00", "words": [w.text[:40], (w.title or "")[:40], w.typed[:40]]}
    event = SpikeEvent(id=1, spike_id=1, kind=kind, at=NOW, data=data)
    draw = spike_alert if kind == SpikeEventKind.STARTED else spike_note
    blocks = draw(spike, event, _listed(w, 10))
    fallback = spike_fallback(spike, event) if kind == SpikeEventKind.STARTED else spike_note_text(spike, event)

    assert message_problems(fallback, blocks) == []
    assert_safe(blocks, fallback, url=w.url)


@PROPERTIES
@given(w=words, target=st.one_of(st.none(), text), response_url=st.one_of(st.none(), text))
@huge(target="as a comment on GitHub, from the account whose token is in GITHUB_TOKEN", response_url=None)
def test_the_reply_escalate_and_resolve_modals(w, target, response_url):
    mention = a_mention(w)
    context = ModalContext(mention_id=7, response_url=response_url)
    teams = ["support", "product", "billing & payments"]

    for view in (
        reply_modal(mention, context, source_target=target or None),
        escalate_modal(mention, teams, context),
        resolve_modal(mention, context),
    ):
        assert view_problems(view) == []
        assert_safe(view["blocks"], url=w.url)
        assert ModalContext.of_submission({"view": view}).mention_id == 7


def _listed(w: Words, count: int) -> list[Mention]:
    return [
        a_mention(w, mention_id=n, owner_id=ACTORS[n % 2] if n % 3 else None, claimed_at=NOW - timedelta(minutes=n))
        for n in range(1, count + 1)
    ]


@PROPERTIES
@given(w=words, mine=st.integers(0, 30), unclaimed=st.integers(0, 30), more=st.integers(0, 1000))
@huge(mine=30, unclaimed=30, more=7)
def test_the_queue(w, mine, unclaimed, more):
    blocks = queue_blocks(
        mine=_listed(w, mine), unclaimed=_listed(w, unclaimed), mine_total=mine + more, unclaimed_total=unclaimed
    )

    assert message_problems("Your queue", blocks) == []
    assert_safe(blocks, url=w.url)


@PROPERTIES
@given(w=words, mine=st.integers(0, 25), unclaimed=st.integers(0, 25), known=st.booleans())
@huge(mine=25, unclaimed=25, known=True)
def test_the_home_tab(w, mine, unclaimed, known):
    queues = Queues(mine=_listed(w, mine), mine_total=mine, unclaimed=_listed(w, unclaimed), unclaimed_total=99)
    figures = WeeklyFigures(week=Week.containing(NOW), until=NOW)

    view = home_view(queues=queues, figures=figures, sla=Sla(), now=NOW, channels_known=known)

    assert view_problems(view) == []
    assert_safe(view, url=w.url)


def _quote(w: Words, n: int) -> Quote:
    return Quote(id=n, text=w.text, source=w.source, url=w.url, polarity=-0.8, note=w.typed or None)


@PROPERTIES
@given(w=words, topics=st.integers(0, 6), chart=st.booleans())
@huge(topics=6, chart=True)
def test_the_weekly_summary(w, topics, chart):
    """Topics, examples, praise and feedback notes come from customers and colleagues; so can a
    source's name (a webhook's `source`) and a team's."""
    groups = [TopicGroup(topic=f"{w.topic}{n}"[-100:], count=9, examples=[_quote(w, n)]) for n in range(topics)]
    figures = WeeklyFigures(
        week=Week.containing(NOW),
        until=NOW,
        volume=Volume(heard=40, by_source={w.source: 30, "rss": 10}, by_category={"complaint": 40}),
        last_week=Volume(heard=10, by_source={w.source[:100]: 10}),
        topics=groups,
        most_negative_open=_quote(w, 90),
        praise=[_quote(w, 91 + n) for n in range(3)],
        by_team=[TeamEscalations(team=w.topic or "support", escalations=3, acknowledged=2, median_to_acknowledge=None)],
        learned=groups,
        handled_by={ACTORS[0]: 3},
    )

    blocks = figures_blocks(figures, chart=chart)

    assert message_problems("This week so far", blocks) == []
    assert_safe(blocks, url=w.url)


@PROPERTIES
@given(w=words, failing=st.booleans())
@huge(failing=True)
def test_the_sources_list(w, failing):
    """A source's error can quote what its service answered."""
    health = [
        SourceHealth(
            key=w.source,
            kind="webhook",
            last_success_at=NOW - timedelta(hours=1),
            last_error=w.error[:2000] or None,
            last_error_at=NOW,
            failing=failing,
            items_seen=3,
            mentions=12,
            next_poll_at=NOW + timedelta(minutes=5),
        )
    ] * 60

    blocks = sources_blocks(health)

    assert message_problems("Sources", blocks) == []
    assert_safe(blocks, url=w.url)


@PROPERTIES
@given(w=words, paused=st.booleans())
@huge(paused=True)
def test_the_webhooks_list(w, paused):
    """A receiver's error can quote what it answered, and its host is whatever the config says."""
    health = [
        WebhookHealth(
            host=w.source,
            events=["mention.created", "mention.claimed", "mention.replied", "mention.escalated", "spike.started"],
            last_success_at=NOW - timedelta(hours=1),
            failing_since=NOW - timedelta(minutes=30),
            last_error=w.error[:2000] or None,
            queued=12_345,
            paused_at=NOW - timedelta(minutes=20) if paused else None,
            retry_at=NOW + timedelta(minutes=20),
        )
    ] * 60

    blocks = webhooks_blocks(health)

    assert message_problems("Webhooks", blocks) == []
    assert_safe(blocks, url=w.url)


def test_a_mention_smuggled_past_a_naive_filter_is_still_escaped():
    """Zero-width and direction characters inside a ping do not stop Slack from reading what is around
    them, so the check cannot be "look for <!channel>, then strip the invisible": it is escaping, of
    the text as it is once the invisible is stripped."""
    sneaky = "<!chan\u200bnel> <\u2060!here> <@U\u200b123> \u202e<!everyone>"
    mention = a_mention(Words(sneaky, None, sneaky, sneaky, None, sneaky, sneaky, sneaky))

    blocks = mention_card(mention, [an_event(EventKind.REPLIED, Words.huge(sneaky))])

    rendered = json.dumps(blocks, ensure_ascii=False)
    assert "&lt;!channel&gt; &lt;\u2060!here&gt; &lt;@U123&gt; &lt;!everyone&gt;" in rendered
    assert_safe(blocks, card_fallback(mention), url=None)


hiding = st.lists(
    st.one_of(st.sampled_from(REORDERING_OR_HIDING), st.sampled_from(["oc.knab", "<!here>", "acme", " ", "&"])),
    min_size=1,
    max_size=20,
).map("".join)


@PROPERTIES
@given(said=hiding, path=hiding, kinds=st.lists(st.sampled_from(list(EventKind)), max_size=6))
@example(said="\u202eoc.knab \U0001f469\u200d\U0001f4bb", path="\u200b", kinds=list(EventKind))
def test_nothing_the_bot_shows_reorders_or_hides_text_whatever_customers_write(said, path, kinds):
    """An author "\u202eoc.knab" reads "bank.co" in Slack unless the bot drops the character; 👩‍💻 keeps its joiner."""
    w = Words(said, said, said, said, "https://x.example/" + path, said, said[:100], said)
    mention = a_mention(w, owner_id=ACTORS[0], claimed_at=NOW - timedelta(hours=1))
    history = [an_event(kind, w, variant=variant) for variant, kind in enumerate(kinds)]
    escalation = Escalation(
        id=3, mention_id=7, event_id=1, team=said, channel=CHANNELS[1], reason=said, escalated_by=ACTORS[0]
    )
    context = ModalContext(mention_id=7)
    queues = Queues(mine=[mention], mine_total=1, unclaimed=[mention], unclaimed_total=1)
    shown = [
        (mention_card(mention, history), card_fallback(mention)),
        (team_alert(mention, escalation), team_alert_fallback(mention, escalation)),
        (feedback_message(mention, an_event(EventKind.RESOLVED, w)), feedback_fallback(mention)),
        *(([], thread_note(mention, event)) for event in history),
        (reply_modal(mention, context, source_target=said), ""),
        (escalate_modal(mention, ["support"], context), ""),
        (resolve_modal(mention, context), ""),
        (queue_blocks(mine=[mention], unclaimed=[], mine_total=1, unclaimed_total=0), ""),
        (home_view(queues=queues, figures=WeeklyFigures(week=Week.containing(NOW), until=NOW), sla=Sla(), now=NOW), ""),
    ]

    for output, fallback in shown:
        assert reordering_or_hiding(output, fallback) == []
    if "\U0001f469\u200d\U0001f4bb" in said:
        assert "\U0001f469\u200d\U0001f4bb" in json.dumps(shown[0], ensure_ascii=False)


def test_a_text_of_nothing_but_invisible_characters_still_makes_a_card_slack_takes():
    invisible = "\u202e\u200b\ufeff"
    mention = a_mention(Words(invisible, invisible, None, "webhook", None, "", "", ""))

    blocks = mention_card(mention, [])

    assert message_problems(card_fallback(mention), blocks) == []
    assert blocks[0]["text"]["text"] == "_(only invisible characters)_"
