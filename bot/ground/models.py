"""Tables. Events are append-only and every figure is computed from them; the mention row holds
the current state that must be changed atomically (who owns it, whether it is open), and when it was
first claimed, answered and resolved, written with those changes so a week's waits need no event."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.ground.clock import utcnow
from bot.ground.db import UTCDateTime


class MentionStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    JOINED = "joined"
    """The same post heard through a second source; it lives on in the first mention's thread."""
    MUTED = "muted"
    """The relevance model found it very likely not worth a person's time: no card, but a line in its channel's
    daily digest, where one click posts its card after all."""
    CHECKING = "checking"
    """The relevance model was unsure: the LLM (`[llm]`) is asked, and its card waits for the answer."""


class EventKind(StrEnum):
    POSTED = "posted"
    CLAIMED = "claimed"
    UNCLAIMED = "unclaimed"
    REPLIED = "replied"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SENT_TO_SOURCE = "sent_to_source"
    """A reply went out through the source's API (or failed to: the event says which)."""
    ALSO_HEARD = "also_heard"
    """The same post came in through another source; the event sits on the mention heard first."""
    FOLLOWED_UP = "followed_up"
    """The customer wrote again in the same conversation; the new post is joined to this mention."""
    SNOOZED = "snoozed"
    UNSNOOZED = "unsnoozed"
    """The snooze was ended early by someone (an actor) or ran out (no actor)."""
    CLAIM_EXPIRED = "claim_expired"
    """The owner did nothing for `[sla] claim_expires`, so the mention went back to the pool."""
    NUDGED = "nudged"
    """An SLA step: the bot asked in the thread (or the team alert's thread) for someone to act."""
    MUTED = "muted"
    """The relevance model held its card back (no actor); the data has its score and the bar it was under."""
    UNMUTED = "unmuted"
    """Someone said a muted mention was relevant after all: its card is posted, and the model learns it."""
    LLM_CHECKED = "llm_checked"
    """The LLM was asked whether a mention the model was unsure of is relevant (no actor); the data has its
    `verdict` (`relevant`, `not relevant`, or none when it could not say: then the card is posted)."""
    LLM_DRAFTED = "llm_drafted"
    """The LLM was asked to suggest a reply, for the person who opened the Reply form (the actor)."""
    ISSUE_REQUESTED = "issue_requested"
    """Someone asked for a tracker issue from this mention; the data has the form (tracker, title, labels, body)."""
    ISSUE_CREATED = "issue_created"
    """The tracker issue asked for exists (no actor: the tracker answered); the data has its key and link."""
    ISSUE_LINKED = "issue_linked"
    """Someone made this mention evidence on an existing tracker issue."""
    ISSUE_SHIPPED = "issue_shipped"
    """The linked tracker issue was closed as done (no actor); the thread offers Tell the customer."""
    ISSUE_REOPENED = "issue_reopened"
    """The linked tracker issue was open again after it had been closed."""
    ISSUE_CLOSED = "issue_closed"
    """The linked tracker issue was closed, but not as done (won't do, duplicate): nobody is told it shipped."""
    ISSUE_TROUBLE = "issue_trouble"
    """The tracker refused a call about the linked issue (deleted, a revoked token, a form it would not take)."""
    CUSTOMER_TOLD = "customer_told"
    """Someone told the customer that what they asked for shipped: on the source, or recorded as told elsewhere."""


class Outcome(StrEnum):
    ANSWERED = "answered"
    FIXED = "fixed"
    FEEDBACK = "feedback"
    THANKED = "thanked"
    NO_ACTION = "no-action"
    SPAM = "spam"
    NOT_RELEVANT = "not-relevant"
    """Real, but not for us: another company's Acme, a job ad, news that names us in passing. Unlike spam,
    it teaches what the team does not want to hear."""


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


SLA_RECORD = ["sla_judged_at", "sla_judged_for", "sla_claim_met", "sla_reply_met", "sla_resolve_met"]
"""A resolved mention's SLA verdicts as recorded (`bot.act.sla.verdicts`)."""


class Mention(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mention_source_item"),
        # Every new item asks whether its author wrote lately on the same source (a follow-up, a louder customer).
        Index("ix_mention_source_author_heard_at", "source", "author", "heard_at"),
        # Every new item on a topic counts its route's recent mentions on that topic (is a storm starting?).
        Index("ix_mention_channel_topic_heard_at", "channel", "topic", "heard_at"),
        # The open backlog by age and the queues' counts, read from the index alone (bot.remember.counting,
        # bot.act.queues).
        Index("ix_mention_status_owner_channel", "status", "owner_id", "channel", "heard_at", "id"),
        # The read API's pages, in the order mentions were heard (bot.remember.mention_pages): all of them (and
        # every range of heard_at), and those of one owner, product or source, each page one range scan however
        # few of the mentions are theirs. The first also gives a week's mentions by what the summary counts, read
        # from the index alone on PostgreSQL (bot.remember.counting, bot.remember.sla_shares).
        Index(
            "ix_mention_heard_at_id",
            "heard_at",
            "id",
            postgresql_include=[
                "status",
                "source",
                "category",
                "sentiment",
                "product",
                "topic",
                "polarity",
                "urgency",
                "storm_id",
                *SLA_RECORD,
            ],
        ),
        Index("ix_mention_owner_heard_at", "owner_id", "heard_at", "id"),
        Index("ix_mention_product_heard_at", "product", "heard_at", "id", **_where("product IS NOT NULL")),
        Index("ix_mention_source_heard_at", "source", "heard_at", "id"),
        # A week's waits for a first claim, reply and resolve, read from these alone (bot.remember.counting);
        # partial, so a mention nobody has acted on yet (every new one) costs no entry in them.
        *(
            Index(f"ix_mention_{first}", first, "heard_at", **_where(f"{first} IS NOT NULL"))
            for first in ("first_claimed_at", "first_reply_at", "first_resolved_at")
        ),
        # Whether a mention changed since a moment was open then, and its age, read from the index alone for each
        # mention changed since (bot.remember.counting `_open_at`).
        Index("ix_mention_id_heard_at_status", "id", "heard_at", "status"),
        # What a customer said after an answer: the mentions joined to it (bot.remember.counting); partial, so the
        # mentions joined to nothing (nearly all) cost no entry.
        Index("ix_mention_duplicate_of_heard_at", "duplicate_of", "heard_at", **_where("duplicate_of IS NOT NULL")),
        # The resolved mentions whose SLA verdicts are not recorded yet (bot.act.sla.verdicts); partial, so it holds
        # only those the job has still to judge.
        Index("ix_mention_unjudged", "id", **_where("status = 'resolved' AND sla_judged_at IS NULL")),
        # A digest's mentions; partial, so the mentions never muted (nearly all) cost no entry.
        Index("ix_mention_digest_id", "digest_id", "id", **_where("digest_id IS NOT NULL")),
        # The mentions linked to tracker issues, for their evidence and the summary's figures; partial, so the
        # mentions never linked (nearly all) cost no entry, and the summary reads only the linked ones.
        Index(
            "ix_mention_tracker_issue_id",
            "tracker_issue_id",
            "source",
            "author",
            "external_id",
            **_where("tracker_issue_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=500)
    source_kind: str = Field(max_length=40)
    external_id: str = Field(max_length=1000)
    url: str | None = Field(default=None, max_length=2000)
    author: str | None = Field(default=None, max_length=500)
    title: str | None = None
    text: str
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heard_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    polarity: float
    sentiment: str = Field(max_length=20)
    category: str = Field(default="other", max_length=30)
    urgency: str = Field(default="normal", max_length=10)
    needs_human: bool = False
    author_reach: int | None = None
    canonical_url: str | None = Field(default=None, max_length=2000, index=True)
    duplicate_of: int | None = Field(default=None, foreign_key="mention.id")
    storm_id: int | None = Field(default=None, foreign_key="storm.id", index=True)
    forwarded_by: str | None = Field(default=None, max_length=40)
    topic: str | None = Field(default=None, max_length=100)
    product: str | None = Field(default=None, max_length=100)
    """The `[[listen.products]]` entry whose query it matched first, if any."""
    matched: str | None = Field(default=None, max_length=500)
    """The query's words and phrases it contains, comma-separated: why it was kept."""
    lang: str | None = Field(default=None, max_length=10)
    """Its language (ISO 639-1), when the detector was sure."""
    rating: int | None = None
    """A review's stars, 1 to 5 (App Store, Google Play); None where the source has no rating."""
    app_version: str | None = Field(default=None, max_length=50)
    """The version of the app a review was written about, where the store tells it."""
    relevance: float | None = None
    """How likely the relevance model found it worth a person's time (0 to 1), when the model was on."""
    digest_id: int | None = None
    """The daily digest (`Digest`) that listed it, once muted (`MentionStatus.MUTED`)."""
    thread: str | None = Field(default=None, max_length=500, index=True)
    """The conversation the post belongs to on its source (the story, issue or thread it answers), if any."""
    reply_to: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """What the source needs to answer this post through its API (a status id, a comments URL…)."""
    channel: str = Field(max_length=40)
    card_channel: str | None = Field(default=None, max_length=40)
    card_ts: str | None = Field(default=None, max_length=40)
    status: str = Field(default=MentionStatus.OPEN, max_length=20)
    owner_id: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When it was first claimed, whatever happened since: `claimed_at` is the current owner's claim."""
    first_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=20)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When it was first resolved, though reopened since."""
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """SLA timers stand still until then."""
    sla_judged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When its SLA verdicts below were recorded for: its last resolve (`bot.act.sla.verdicts`); None until then,
    and again once reopened."""
    sla_judged_for: str | None = Field(default=None, max_length=16)
    """The `[sla]` they were judged under (`bot.act.sla.verdicts.fingerprint`)."""
    sla_claim_met: bool | None = None
    """Whether it met its claim target: None if that target never came due."""
    sla_reply_met: bool | None = None
    sla_resolve_met: bool | None = None
    tracker_issue_id: int | None = None
    """The `TrackerIssue` this mention is evidence on, created from it or linked to it. (No foreign key: SQLite
    would have to rebuild the mention table to add one, and the issue names its first mention already.)"""

    @property
    def reference(self) -> str:
        return f"M-{self.id}"


class TrackerIssueState(StrEnum):
    OPEN = "open"
    DONE = "done"
    """Closed as done: what the customers asked for shipped."""
    CLOSED = "closed"
    """Closed otherwise (won't do, duplicate)."""
    GONE = "gone"
    """Deleted, or moved where the token cannot see it: no longer watched."""


class TrackerIssue(SQLModel, table=True):
    """An issue in the product team's tracker that mentions are evidence on; its state changes are conditional
    updates, so each shipping is told once, whichever process (a poll, a webhook) notices it first."""

    __table_args__ = (UniqueConstraint("tracker", "key", name="uq_trackerissue_tracker_key"),)

    id: int | None = Field(default=None, primary_key=True)
    tracker: str = Field(max_length=20)
    """The `[trackers.<name>]` it lives in."""
    key: str = Field(max_length=100)
    """What people call it: `GH-123`, `ACME-42`, `ENG-7`."""
    ref: str = Field(max_length=100)
    """What the tracker's API calls it: the number, the Jira key, the Linear id."""
    url: str = Field(max_length=2000)
    title: str = Field(max_length=500)
    state: str = Field(default=TrackerIssueState.OPEN, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    created_from: int | None = Field(default=None, foreign_key="mention.id")
    """The mention it was created from in Slack; None when it existed before it was linked."""
    shipped_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    problem: str | None = None
    """Why the tracker refused the last call about it (told once in the threads, cleared when it answers again)."""


class Storm(SQLModel, table=True):
    """Many mentions about one topic on one route at once: one card counts them, they thread under it."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=40)
    topic: str = Field(max_length=100)
    counted_from: datetime = Field(sa_type=UTCDateTime)
    """The start of the window whose mentions made the storm; they count in it though they kept their cards."""
    started_at: datetime = Field(sa_type=UTCDateTime)
    last_at: datetime = Field(sa_type=UTCDateTime, index=True)
    card_channel: str | None = Field(default=None, max_length=40)
    card_ts: str | None = Field(default=None, max_length=40)
    refresh_queued: bool = False
    """A count update is waiting; set and cleared with conditional updates so none is lost or doubled."""


class SpikeEventKind(StrEnum):
    """What happened to a spike; outbound webhooks name each `spike.<kind>` (`spike.started`)."""

    STARTED = "started"
    GREW = "grew"
    ENDED = "ended"


class Spike(SQLModel, table=True):
    """More mentions in an hour than the same hour of the week usually brings, for one product or for all."""

    __table_args__ = (
        # One open spike per scope, whichever process opens it.
        Index("uq_spike_open_scope", "scope", unique=True, **_where("ended_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=100)
    """The `[[listen.products]]` name it counts, or "" for all mentions."""
    channel: str = Field(max_length=40)
    mention_id: int = Field(foreign_key="mention.id")
    """The latest mention when it started: its outbox rows carry the alert and the updates, in order."""
    started_at: datetime = Field(sa_type=UTCDateTime)
    checked_at: datetime = Field(sa_type=UTCDateTime)
    count: int
    """Mentions in the hour before `checked_at`."""
    peak: int
    told: int
    """The count the team was last told of; an update follows only when the count grows well past it."""
    low: int
    high: int
    """The usual range for the hour at the last check."""
    card_channel: str | None = Field(default=None, max_length=40)
    card_ts: str | None = Field(default=None, max_length=40)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def product(self) -> str | None:
        return self.scope or None


class SpikeEvent(SQLModel, table=True):
    """What the team was told about a spike, with the figures it was told: each alert or update is rendered
    from its event, so an update sent late still says what was true when it was decided."""

    id: int | None = Field(default=None, primary_key=True)
    spike_id: int = Field(foreign_key="spike.id", index=True)
    kind: str = Field(max_length=20)
    at: datetime = Field(sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Digest(SQLModel, table=True):
    """One channel's muted mentions of a day: one quiet message, the mentions listed in its thread."""

    __table_args__ = (UniqueConstraint("channel", "day", name="uq_digest_channel_day"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=40)
    day: str = Field(max_length=10)
    """The day (`YYYY-MM-DD`, in `[relevance] timezone`) it was made: one a channel a day, whoever makes it."""
    muted: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    card_channel: str | None = Field(default=None, max_length=40)
    card_ts: str | None = Field(default=None, max_length=40)


class Event(SQLModel, table=True):
    __table_args__ = (
        # A week's claims, replies and resolves, and who acted, read from the index alone (bot.remember.counting).
        Index("ix_event_kind_at_mention_actor", "kind", "at", "mention_id", "actor"),
        # A mention's events, and whether it had one of a kind before a moment, in one probe.
        Index("ix_event_mention_id_kind_at", "mention_id", "kind", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id")
    kind: str = Field(max_length=20)
    actor: str | None = Field(default=None, max_length=40)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Escalation(SQLModel, table=True):
    """An escalation's current state; acknowledging it is a conditional update, so it happens once."""

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    event_id: int = Field(foreign_key="event.id", unique=True)
    team: str = Field(max_length=100)
    channel: str = Field(max_length=40)
    usergroup: str | None = Field(default=None, max_length=40)
    reason: str | None = None
    escalated_by: str = Field(max_length=40)
    escalated_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=40)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    alert_channel: str | None = Field(default=None, max_length=40)
    alert_ts: str | None = Field(default=None, max_length=40)


class Nudge(SQLModel, table=True):
    """An SLA step taken for a mention; the unique key makes each step happen once, whichever process
    gets there first."""

    __table_args__ = (UniqueConstraint("mention_id", "key", name="uq_nudge_mention_key"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    key: str = Field(max_length=200)
    """The step and the moment its timer started from, so a later cycle (after a reopen) nudges again."""
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WeeklyPost(SQLModel, table=True):
    """One week's summary in one channel: claimed by one process, then each part posted once."""

    __table_args__ = (UniqueConstraint("week", "channel", name="uq_weeklypost_week_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(max_length=10)
    channel: str = Field(max_length=40)
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ts: str | None = Field(default=None, max_length=40)
    file_id: str | None = Field(default=None, max_length=40)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """What the team must be told; the Slack side decides how to render each."""

    CARD = "card"
    CARD_REFRESH = "card_refresh"
    THREAD_NOTE = "thread_note"
    TEAM_ALERT = "team_alert"
    TEAM_ALERT_REFRESH = "team_alert_refresh"
    FEEDBACK = "feedback"
    STORM_CARD = "storm_card"
    STORM_REFRESH = "storm_refresh"
    SOURCE_REPLY = "source_reply"
    """Not a Slack message: a reply posted on the source itself, once."""
    TEAM_ALERT_NOTE = "team_alert_note"
    """A note in the team alert's thread (an escalation re-pinged)."""
    SPIKE_ALERT = "spike_alert"
    SPIKE_NOTE = "spike_note"
    """An update in the spike alert's thread: it grew, or it ended."""
    DIGEST = "digest"
    """A channel's daily digest of muted mentions, queued on its first mention."""
    DIGEST_PAGE = "digest_page"
    """A page of a digest's mentions in its thread, queued on the page's first mention."""
    TRACKER_CREATE = "tracker_create"
    """Not a Slack message: the tracker issue an `issue_requested` event asks for, created once."""
    TRACKER_EVIDENCE = "tracker_evidence"
    """Not a Slack message: the evidence section of the mention's tracker issue, brought up to date."""
    SHIPPED_DM = "shipped_dm"
    """A direct message to someone who handled a mention whose tracker issue shipped (`channel` is their id)."""
    WEBHOOK = "webhook"
    """Not a Slack message: an event POSTed to one `[[webhooks]]` receiver (`bot.remember.webhooks`)."""


class WebhookEvent(StrEnum):
    """What an outbound webhook can be told of; the names are the `events` of `[[webhooks]]` and each body's `type`."""

    MENTION_CREATED = "mention.created"
    MENTION_CLAIMED = "mention.claimed"
    MENTION_REPLIED = "mention.replied"
    MENTION_ESCALATED = "mention.escalated"
    MENTION_RESOLVED = "mention.resolved"
    MENTION_REOPENED = "mention.reopened"
    SPIKE_STARTED = "spike.started"


POSTING_KINDS = {
    OutboxKind.CARD,
    OutboxKind.THREAD_NOTE,
    OutboxKind.TEAM_ALERT,
    OutboxKind.FEEDBACK,
    OutboxKind.STORM_CARD,
    OutboxKind.TEAM_ALERT_NOTE,
    OutboxKind.SPIKE_ALERT,
    OutboxKind.SPIKE_NOTE,
    OutboxKind.DIGEST,
    OutboxKind.DIGEST_PAGE,
    OutboxKind.SHIPPED_DM,
}
"""Kinds that post a new message, which Slack allows about once a second per channel; updates are not paced."""


class Outbox(SQLModel, table=True):
    """A message to deliver, committed with the change it reports so a crash or an outage loses nothing."""

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    spike_event_id: int | None = Field(default=None, foreign_key="spikeevent.id")
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel: str | None = Field(default=None, max_length=40)
    """Where the message goes (known when queued, so delivery can pace each channel), then where it went."""
    ts: str | None = Field(default=None, max_length=40)
    webhook_id: int | None = Field(default=None, foreign_key="webhookreceiver.id")
    """The receiver of a `webhook` row; a mention's rows are in order per receiver, and Slack's among themselves."""
    webhook_event: str | None = Field(default=None, max_length=30)
    """The `WebhookEvent` a `webhook` row tells of."""
    webhook_event_id: str | None = Field(default=None, max_length=40)
    """The event's id, the same for every receiver: the body's `id` and the `Idempotency-Key`."""


class WebhookReceiver(SQLModel, table=True):
    """A `[[webhooks]]` receiver, as the config last said (written at each start) and how it is doing: the
    outbox queues its rows from here in the transaction of the change, and its delivery rests on it."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    """The `WebhookEvent`s it is sent; none once it is no longer in the config (its queued rows then wait)."""
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The first failure since its last success."""
    failures: int = 0
    """Failures in a row; every row of it waits out the backoff they earned, so a receiver that is down is
    asked about once per wait, not once per queued event."""
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When it was paused for staying down; its next attempt is at `retry_at`, and a success resumes it."""


class SourceState(SQLModel, table=True):
    """What a source remembers between polls (conditional GET validators) and how healthy it is."""

    source: str = Field(primary_key=True, max_length=500)
    etag: str | None = Field(default=None, max_length=1000)
    last_modified: str | None = Field(default=None, max_length=200)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    items_seen: int = 0
    """Items the source returned on its last successful poll (re-reads of its overlap included; a 304 keeps it)."""
    cursor: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    last_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    backoff_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set by an admin's `/allears pause`: the scheduler skips the source until `/allears resume`."""
    paused_by: str | None = Field(default=None, max_length=40)


class RelevanceModel(SQLModel, table=True):
    """The workspace's relevance model (`bot.hear.relevance`), one row: every process scores with it."""

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    """Raised at each save, so a process sees at a glance that its copy is old."""
    model: bytes | None = Field(default=None, sa_type=LargeBinary)
    library: str = Field(default="", max_length=40)
    """The scikit-learn version that wrote `model`: another one cannot be trusted to read it."""
    learned_to: int = 0
    """The last event it learned from; the events after it are labels still to learn."""
    relevant: int = 0
    not_relevant: int = 0
    """The team's labels at the last save (`bot.act.labels`): the model scores once it has enough of each."""
    relevant_scores: list[float] = Field(default_factory=list, sa_type=JSON)
    """The scores the model gave the latest relevant labels before it learned them: how low a relevant mention
    may score, which sets the bar below which mentions are muted (`bot.hear.relevance.Model.mute_below`)."""
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SeenRequest(SQLModel, table=True):
    """Signatures of signed requests already handled, so a replayed one is refused."""

    digest: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
