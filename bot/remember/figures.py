"""What a week's figures are: the data the summary shows, kept apart from how it is computed and drawn."""

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.remember.weeks import Week

BACKLOG_AGES = ("under 1 h", "1–24 h", "1–7 days", "over 7 days")


def median(waits: Sequence[timedelta]) -> timedelta:
    """`statistics.median` of durations (its types admit only numbers)."""
    ordered = sorted(waits)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Quote:
    """A mention worth showing: what the customer said, where, and (for feedback) the note it was closed with."""

    id: int
    text: str
    source: str
    url: str | None
    polarity: float
    note: str | None = None

    @property
    def reference(self) -> str:
        return f"M-{self.id}"


@dataclass(frozen=True)
class TopicGroup:
    topic: str
    count: int
    examples: list[Quote]


@dataclass(frozen=True)
class Volume:
    heard: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_sentiment: dict[str, int] = field(default_factory=dict)
    by_product: dict[str, int] = field(default_factory=dict)
    """Of the mentions that matched a `[[listen.products]]` query: share of voice between the products."""


@dataclass(frozen=True)
class Waits:
    """Time from hearing a mention to a first action, over the mentions whose first such action fell in the week."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None
    """Nearest rank: the shortest wait that at least 90% of the waits do not exceed."""


@dataclass(frozen=True)
class Share:
    met: int
    of: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.met / self.of) if self.of else None


@dataclass(frozen=True)
class TeamEscalations:
    team: str
    escalations: int
    acknowledged: int
    median_to_acknowledge: timedelta | None


@dataclass(frozen=True)
class Recovery:
    """Negative mentions answered on their source, and how they ended: whether the customer wrote again in the
    conversation afterwards, and whether their last words were neutral or positive (triaged as every post is)."""

    answered: int = 0
    wrote_again: int = 0
    recovered: int = 0

    def __add__(self, other: "Recovery") -> "Recovery":
        return Recovery(
            self.answered + other.answered, self.wrote_again + other.wrote_again, self.recovered + other.recovered
        )


def ranked_recoveries(recoveries: dict[str, Recovery]) -> dict[str, Recovery]:
    """Most recovered first, then most answered, then by name, so the order never depends on the database."""
    return dict(sorted(recoveries.items(), key=lambda item: (-item[1].recovered, -item[1].answered, item[0])))


NO_TEAM = ""
"""The team of answers by people without a known team (and by nobody the bot could name)."""


@dataclass(frozen=True)
class Day:
    day: date
    by_sentiment: dict[str, int]
    median_to_claim: timedelta | None
    median_to_first_reply: timedelta | None


@dataclass(frozen=True)
class LinkedIssue:
    """A tracker issue and the customers whose mentions are evidence on it."""

    key: str
    title: str
    url: str
    customers: int
    state: str


@dataclass(frozen=True)
class ProductLoop:
    """From customers to product: the tracker issues mentions became, and the customers told when they shipped."""

    opened: int = 0
    """Tracker issues created from mentions this week."""
    top: list[LinkedIssue] = field(default_factory=list)
    """The linked issues with the most distinct customers, shipped or not (deleted ones aside)."""
    shipped: list[LinkedIssue] = field(default_factory=list)
    """Linked issues closed as done this week."""
    to_tell: int = 0
    """Distinct customers of the issues shipped this week."""
    told: int = 0
    """Customers told this week that what they asked for shipped."""
    to_told: Waits = Waits()
    """From shipping to telling, over the customers told this week."""


class WeekNumbers(Protocol):
    """The few numbers the Home tab shows; both `WeeklyFigures` and the cheaper `WeekSoFar` have them."""

    @property
    def week(self) -> Week: ...
    @property
    def heard(self) -> int: ...
    @property
    def claimed(self) -> int: ...
    @property
    def median_to_claim(self) -> timedelta | None: ...
    @property
    def open_backlog(self) -> int: ...


@dataclass(frozen=True)
class WeekSoFar:
    """`WeeklyFigures`' numbers that the Home tab shows, counted the same way, and nothing else."""

    week: Week
    heard: int
    claimed: int
    median_to_claim: timedelta | None
    open_backlog: int


@dataclass
class WeeklyFigures:
    week: Week
    until: datetime
    """The end of the week, or now if the week is not over: figures are "so far"."""
    # What customers said
    volume: Volume = Volume()
    last_week: Volume = Volume()
    """The week before, over as much of it as has passed of this one, so a week in progress compares fairly."""
    topics: list[TopicGroup] = field(default_factory=list)
    most_negative_open: Quote | None = None
    praise: list[Quote] = field(default_factory=list)
    # How we answered
    claimed: int = 0
    replied: int = 0
    resolved: int = 0
    to_claim: Waits = Waits()
    to_first_reply: Waits = Waits()
    to_resolution: Waits = Waits()
    within_sla: dict[str, Share] = field(default_factory=dict)
    """Of the mentions heard this week whose target has come due, counted as the reminders count:
    "claim", "reply", "resolution"."""
    backlog: dict[str, int] = field(default_factory=dict)
    """Open at `until`, by age (`BACKLOG_AGES`)."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """Each resolved mention once, by its last resolve in the week, so the outcomes add up to `resolved`."""
    escalated: int = 0
    """Mentions escalated at least once; `escalations` counts every escalation, as `by_team` does."""
    escalations: int = 0
    acknowledged: int = 0
    by_team: list[TeamEscalations] = field(default_factory=list)
    recovered_by_source: dict[str, Recovery] = field(default_factory=dict)
    """Of the negative mentions heard this week and answered on their source, by source (`Recovery`)."""
    recovered_by_answerer: dict[str | None, Recovery] = field(default_factory=dict)
    """The same, by who sent the mention's first answer on the source; `count_teams` adds them up by team."""
    recovered_by_team: dict[str, Recovery] = field(default_factory=dict)
    # Who listened
    handled_by: dict[str, int] = field(default_factory=dict)
    """Each person who claimed or replied, and how many mentions they did it for."""
    handled: int = 0
    """How many mentions someone claimed or replied to: a mention two people handled counts once."""
    teams: dict[str, int] = field(default_factory=dict)
    """How many of those people each team has (set by `count_teams`)."""
    without_team: int = 0
    # What we learned
    learned: list[TopicGroup] = field(default_factory=list)
    """Mentions resolved as `feedback` this week, by topic, for the product team."""
    to_product: ProductLoop = ProductLoop()
    days: list[Day] = field(default_factory=list)

    @property
    def heard(self) -> int:
        return self.volume.heard

    @property
    def open_backlog(self) -> int:
        return sum(self.backlog.values())

    @property
    def median_to_claim(self) -> timedelta | None:
        return self.to_claim.median

    @property
    def recovered(self) -> Recovery:
        return sum(self.recovered_by_source.values(), Recovery())

    @property
    def people(self) -> int:
        return len(self.handled_by)

    @property
    def busiest(self) -> Share | None:
        """Of the mentions someone claimed or replied to, how many the busiest person did."""
        if not self.handled_by:
            return None
        return Share(max(self.handled_by.values()), self.handled)

    def count_teams(self, team_of: Callable[[str], str | None]) -> None:
        """Kept apart from the queries, so asking Slack for people's titles never holds a transaction open."""
        teams = [team_of(person) for person in sorted(self.handled_by)]
        counts = Counter(team for team in teams if team)
        self.teams = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        self.without_team = teams.count(None)
        by_team: defaultdict[str, Recovery] = defaultdict(Recovery)
        for person, recovery in self.recovered_by_answerer.items():
            by_team[(team_of(person) if person else None) or NO_TEAM] += recovery
        self.recovered_by_team = ranked_recoveries(by_team)
