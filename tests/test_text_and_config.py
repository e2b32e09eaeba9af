"""Pure functions: escaping, matching, routing, references, durations and reading the config."""

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.act.actions import parse_snooze
from bot.ground.config import Sentiment, SlaTargets, load_config, parse_duration
from bot.ground.errors import ConfigError, UserError
from bot.ground.mentions import parse_reference
from bot.ground.text import (
    _collapsed,
    escape_mrkdwn,
    html_to_text,
    normalize_space,
    safe_mrkdwn,
    standing_alone,
    truncate,
)
from bot.hear.matching import KeywordMatcher
from bot.hear.routing import Router
from bot.hear.topics import TOPIC_TERMS, topic_of
from bot.hear.triage import Category, Triage, Urgency
from bot.slack.kit import plain

_INCOMPLETE_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def test_escaping_leaves_no_way_to_ping_anyone():
    assert escape_mrkdwn("<!channel> & <@U123> say >hi<") == "&lt;!channel&gt; &amp; &lt;@U123&gt; say &gt;hi&lt;"
    assert escape_mrkdwn("&lt; typed by a customer") == "&amp;lt; typed by a customer"
    assert escape_mrkdwn("plain *bold* text") == "plain *bold* text"


def test_characters_that_reorder_or_hide_text_never_reach_slack():
    """`\u202e` shows "oc.knab" as "bank.co"; the zero-width joiner stays, it holds 👩‍💻 together."""
    assert escape_mrkdwn("\u202eoc.knab") == "oc.knab"
    assert escape_mrkdwn("\u202aa\u202bb\u202cc\u202dd \u2066e\u2067f\u2068g\u2069 h\u200bi\ufeffj") == "abcd efg hij"
    assert (
        escape_mrkdwn("<!chan\u200bnel> & \U0001f469\u200d\U0001f4bb")
        == "&lt;!channel&gt; &amp; \U0001f469\u200d\U0001f4bb"
    )
    assert safe_mrkdwn("\u202e" * 10 + "ok", 5) == "ok"
    assert plain("Post it on \u202eoc.knab \U0001f469\u200d\U0001f4bb", limit=75)["text"] == (
        "Post it on oc.knab \U0001f469\u200d\U0001f4bb"
    )


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("a &amp; b", 4, "a …"),
        ("a &amp; b", 7, "a …"),
        ("a &amp; b", 8, "a &amp;…"),
        ("x &lt;y&gt;", 5, "x …"),
        ("hello world", 6, "hello…"),
    ],
)
def test_truncate_marks_the_cut_and_never_splits_an_escape(text, limit, expected):
    assert truncate(text, limit) == expected


@given(st.text(), st.integers(min_value=1, max_value=400))
def test_safe_mrkdwn_is_bounded_and_escaped_for_any_text(text, limit):
    safe = safe_mrkdwn(text, limit)
    assert len(safe) <= limit
    assert "<" not in safe and ">" not in safe
    assert not _INCOMPLETE_ENTITY.search(safe)
    if len(escape_mrkdwn(text)) <= limit:
        assert safe == escape_mrkdwn(text), "nothing is cut when it fits"


@given(st.text(alphabet="&<>amplgt; x", max_size=60), st.integers(min_value=1, max_value=60))
def test_safe_mrkdwn_survives_text_made_of_escapes(text, limit):
    safe = safe_mrkdwn(text, limit)
    assert len(safe) <= limit and "<" not in safe and ">" not in safe
    assert not _INCOMPLETE_ENTITY.search(safe)


def test_html_becomes_plain_text_with_paragraphs():
    assert html_to_text("<p>Hello <b>world</b></p><p>Second&nbsp;one</p>") == "Hello world\n\nSecond one"
    assert html_to_text("Fish &amp; chips &lt;3") == "Fish & chips <3"
    assert html_to_text("<script>alert(1)</script><style>p{}</style>Visible") == "Visible"
    assert html_to_text("line one<br>line two") == "line one\nline two"
    assert html_to_text("  lots   of\tspace  ") == "lots of space"
    assert html_to_text("<p>unclosed <b>tag") == "unclosed tag"
    assert html_to_text("") == ""


@pytest.mark.parametrize("markup", ["<![sic[ Acme ]]>", "<![endif]>", "<!DOCTYPE", "<a href='", "</", "<!--"])
def test_html_to_text_never_raises_on_broken_markup(markup):
    """Its docstring promises this, and feed parsing relies on it."""
    assert isinstance(html_to_text(markup), str)


_MARKUP_PIECES = [
    "<",
    ">",
    "</",
    "<!",
    "<![",
    "[",
    "]]>",
    "<!--",
    "-->",
    "<?",
    "p",
    "b",
    "a",
    "sic",
    "cdata",
    " ",
    "&",
    "&amp;",
    ";",
    "#",
    "x",
    '"',
    "=",
    "'",
]


@given(st.one_of(st.text(), st.lists(st.sampled_from(_MARKUP_PIECES), max_size=12).map("".join)))
def test_html_to_text_never_raises_on_any_text(markup):
    assert isinstance(html_to_text(markup), str)


@given(st.one_of(st.text(), st.text(alphabet=" \t\n\r\x00\u00a0\u2028\u200bab", max_size=30)))
def test_text_that_needs_no_collapsing_takes_the_short_way_to_the_same_answer(text):
    assert normalize_space(text) == _collapsed(text)


@given(
    st.lists(st.sampled_from(["down", "not working", "log", "login", "é", "#acme", "a.b", "_x"]), min_size=1),
    st.text(alphabet="downtlgiwrk #acmeé_.b\n9", max_size=50),
)
def test_words_standing_alone_are_what_a_lookbehind_finds_and_every_topic_is_found(terms, text):
    alternatives = "|".join(f"(?P<t{n}>{re.escape(term)})" for n, term in enumerate(terms))
    behind = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    ahead = re.compile(rf"(?:{alternatives})(?!\w)", re.IGNORECASE)
    assert [(m.span(), m.lastgroup) for m in standing_alone(ahead, text)] == [
        (m.span(), m.lastgroup) for m in behind.finditer(text)
    ]


@given(
    st.lists(
        st.one_of(
            st.sampled_from(TOPIC_TERMS),
            st.sampled_from(["ſlow", "hacKed", "İnvoice", "bılling", "É", " ", "-", "x", "NOT WORKING"]),
        ),
        max_size=12,
    ).map("".join)
)
def test_the_topic_is_the_most_urgent_term_standing_alone_in_any_case(text):
    named = "|".join(f"(?P<t{rank}>{re.escape(term)})" for rank, term in enumerate(TOPIC_TERMS))
    found = [int(m.lastgroup[1:]) for m in re.finditer(rf"(?<!\w)(?:{named})(?!\w)", text, re.I) if m.lastgroup]
    assert topic_of(text, category="other") == (TOPIC_TERMS[min(found)] if found else "other")


def test_a_keyword_matches_whole_words_in_any_case():
    acme = KeywordMatcher(["acme"])
    assert acme.matches("Acme's status page is wrong")
    assert acme.matches("we moved to ACME cloud")
    assert acme.matches("(acme)")
    assert not acme.matches("the acmeist school")
    assert not acme.matches("megacme")


def test_a_phrase_matches_across_any_whitespace():
    phrase = KeywordMatcher(["acme cloud"])
    assert phrase.matches("acme   cloud is down")
    assert phrase.matches("Acme\ncloud")
    assert not phrase.matches("acme's cloud")
    assert not phrase.matches("acme cloudy")


def test_an_exclusion_wins_over_a_keyword():
    matcher = KeywordMatcher(["acme"], exclude=["acme careers", "hiring"])
    assert matcher.matches("Acme is down")
    assert not matcher.matches("Acme is hiring engineers")
    assert not matcher.matches("see acme careers page")
    assert not KeywordMatcher([]).matches("acme"), "no keyword, no match"
    assert KeywordMatcher(["c++"]).matches("I write C++ daily")


@pytest.mark.parametrize("text", ["M-7", "m-7", "m7", "M7", "#7", "7", " M-7 "])
def test_a_reference_can_be_written_several_ways(text):
    assert parse_reference(text) == 7


@pytest.mark.parametrize("text", ["M-x", "M-", "", "-7", "M--7", "7a", "M 7"])
def test_a_reference_that_is_not_one_is_refused(text):
    with pytest.raises(UserError, match="is not a mention reference"):
        parse_reference(text)


@pytest.mark.parametrize(
    "text, duration",
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),
        ("0s", timedelta(0)),
    ],
)
def test_durations_are_read_from_short_text(text, duration):
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["5 minutes", "", "m5", "5", "1.5h", "-5m", "99999999999d", "9" * 40 + "s"])
def test_a_duration_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text, duration",
    [
        ("2h", timedelta(hours=2)),
        (" 1H30m", timedelta(hours=1, minutes=30)),
        ("off", timedelta(0)),
        ("WAKE", timedelta(0)),
    ],
)
def test_a_snooze_is_read_the_same_from_the_command_and_the_menu(text, duration):
    assert parse_snooze(text) == duration


@pytest.mark.parametrize("text", ["soon", "99999999999d", "1.5h"])
def test_a_snooze_that_is_no_length_of_time_is_refused_in_words(text):
    with pytest.raises(UserError, match="is not a length of time; write it like `30m`"):
        parse_snooze(text)


FULL_CONFIG = """
[listen]
keywords = ["acme", "acme cloud"]
exclude = ["acme careers"]

[channels]
default = "C0LISTEN"

[[routes]]
channel = "C0ANGRY"
sentiment = "negative"

[[routes]]
channel = "C0BILLING"
keywords = ["invoice", "refund"]

[[routes]]
channel = "C0FORUM"
source = "forum"

[[sources]]
kind = "rss"
url = "https://status.example.com/feed.xml"
every = "10m"
name = "status-feed"

[[sources]]
kind = "rss"
url = "https://forum.example.com/latest.rss"

[teams.support]
channel = "C0SUPPORT"
usergroup = "S0SUPPORT"

[teams.billing]
channel = "G0BILLING"

[summary]
channel = "C0SUMMARY"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "allears.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_config_loads(tmp_path):
    config = load_config(write(tmp_path, FULL_CONFIG))
    assert config.listen.keywords == ["acme", "acme cloud"]
    assert config.channels.default == "C0LISTEN"
    assert [route.channel for route in config.routes] == ["C0ANGRY", "C0BILLING", "C0FORUM"]
    assert config.routes[0].sentiment is Sentiment.NEGATIVE
    status, forum = config.sources
    assert (status.key, status.every) == ("status-feed", timedelta(minutes=10))
    assert (forum.key, forum.every) == ("forum.example.com", timedelta(minutes=5)), "named after its host"
    assert config.teams["support"].usergroup == "S0SUPPORT"
    assert config.teams["billing"].usergroup is None
    assert config.summary_channel == "C0SUMMARY"


def test_the_summary_goes_to_the_default_channel_unless_told_otherwise(tmp_path):
    minimal = '[listen]\nkeywords = ["acme"]\n[channels]\ndefault = "C0LISTEN"\n'
    config = load_config(write(tmp_path, minimal))
    assert (config.summary_channel, config.routes, config.sources, config.teams) == ("C0LISTEN", [], [], {})


def test_routes_are_tried_in_order_and_the_first_match_wins(tmp_path):
    router = Router(load_config(write(tmp_path, FULL_CONFIG)))

    def channel(text, sentiment=Sentiment.NEUTRAL, source="status-feed"):
        return router.channel_for(source=source, source_kind="rss", triaged=triaged_as(sentiment), text=text)

    assert channel("my invoice is wrong", Sentiment.NEGATIVE) == "C0ANGRY"
    assert channel("my invoice is wrong") == "C0BILLING"
    assert channel("invoice question", source="forum") == "C0BILLING"
    assert channel("love it", source="forum") == "C0FORUM"
    assert channel("love it", Sentiment.POSITIVE) == "C0LISTEN"
    assert channel("invoices are fine") == "C0LISTEN", "keywords are whole words"


def test_a_route_can_name_the_source_kind(tmp_path):
    text = (
        '[listen]\nkeywords = ["acme"]\n[channels]\ndefault = "C0LISTEN"\n'
        '[[routes]]\nchannel = "C0RSS"\nsource = "rss"\n'
    )
    router = Router(load_config(write(tmp_path, text)))
    assert router.channel_for(source="anything", source_kind="rss", triaged=triaged_as(), text="x") == "C0RSS"


def triaged_as(sentiment=Sentiment.NEUTRAL, category=Category.OTHER, urgency=Urgency.NORMAL):
    return Triage(0.0, sentiment, sentiment is Sentiment.NEGATIVE, urgency, category, ())


def test_routes_send_complaints_to_support_feature_requests_to_product_and_praise_to_kudos(tmp_path):
    text = (
        '[listen]\nkeywords = ["acme"]\n[channels]\ndefault = "C0LISTEN"\n'
        '[[routes]]\nchannel = "C0ONCALL"\ncategory = "complaint"\nurgency = "high"\n'
        '[[routes]]\nchannel = "C0SUPPORT"\ncategory = "complaint"\n'
        '[[routes]]\nchannel = "C0PRODUCT"\ncategory = "feature request"\n'
        '[[routes]]\nchannel = "C0KUDOS"\ncategory = "praise"\n'
    )
    router = Router(load_config(write(tmp_path, text)))

    def channel(category, urgency=Urgency.NORMAL):
        return router.channel_for(
            source="x", source_kind="rss", triaged=triaged_as(category=category, urgency=urgency), text=""
        )

    assert channel(Category.COMPLAINT, Urgency.HIGH) == "C0ONCALL"
    assert channel(Category.COMPLAINT) == "C0SUPPORT"
    assert channel(Category.FEATURE_REQUEST) == "C0PRODUCT"
    assert channel(Category.PRAISE) == "C0KUDOS"
    assert channel(Category.QUESTION) == "C0LISTEN"


WEBHOOK = '[[webhooks]]\nurl = "https://crm.example.com/hooks/allears"\nevents = {events}\nsecret_env = "PATH"\n'


def replace(old: str, new: str) -> str:
    assert old in FULL_CONFIG
    return FULL_CONFIG.replace(old, new, 1)


@pytest.mark.parametrize(
    "text, expected",
    [
        (replace("exclude =", "exclud ="), ["listen.exclud: unknown setting — did you mean exclude?"]),
        (replace("", 'colour = "blue"\n'), ["colour: unknown setting (check its spelling)"]),
        (replace("[channels]", "[chanels]"), ["chanels: unknown setting — did you mean channels?"]),
        (replace('every = "10m"', 'evry = "10m"'), ["sources[0].evry: unknown setting — did you mean every?"]),
        (
            replace("", '[[sources]]\nkind = "reddit"\nquery = "acme"\nsubredit = "acme"\n'),
            ["sources[0].subredit: unknown setting — did you mean subreddit?"],
        ),
        (
            replace('channel = "C0BILLING"', 'chanel = "C0BILLING"'),
            ["routes[1].chanel: unknown setting — did you mean channel?"],
        ),
        (
            replace('usergroup = "S0SUPPORT"', 'usergroups = "S0SUPPORT"'),
            ["teams.support.usergroups: unknown setting — did you mean usergroup?"],
        ),
        (
            replace("", '[sla]\nclaim_withn = "30m"\n'),
            ["sla.claim_withn: unknown setting — did you mean claim_within?"],
        ),
        (
            replace("", '[sla.high]\nreply_witin = "1h"\n'),
            ["sla.high.reply_witin: unknown setting — did you mean reply_within?"],
        ),
        (
            replace("", '[sla.business_hours]\nstrat = "08:00"\n'),
            ["sla.business_hours.strat: unknown setting — did you mean start?"],
        ),
        (replace("", '[admins]\nuser = ["U0ANA"]\n'), ["admins.user: unknown setting — did you mean users?"]),
        (
            replace('default = "C0LISTEN"', 'default = "#general"'),
            ['channels.default: "#general" is not a Slack channel ID'],
        ),
        (
            replace('channel = "C0SUPPORT"', 'channel = "c0support"'),
            ["teams.support.channel:", "not a Slack channel ID"],
        ),
        (
            replace('usergroup = "S0SUPPORT"', 'usergroup = "U0SUPPORT"'),
            ["teams.support.usergroup:", "not a Slack user group ID"],
        ),
        (replace('sentiment = "negative"', 'sentiment = "angry"'), ["routes[0].sentiment:", "negative"]),
        (
            replace('sentiment = "negative"', ""),
            ["routes[0]: a route needs at least one of sentiment, source, keywords, query, category or urgency"],
        ),
        (replace('every = "10m"', 'every = "5 minutes"'), ['sources[0].every: "5 minutes" is not a duration']),
        (replace('every = "10m"', 'every = "0s"'), ["sources[0].every: must be at least 1s"]),
        (replace('every = "10m"', "every = 10"), ["sources[0].every: write durations as text"]),
        (replace('kind = "rss"', 'kind = "atom"'), ["sources[0].kind:"]),
        (replace("https://status.example.com", "ftp://status.example.com"), ["sources[0].url:"]),
        (
            replace('name = "status-feed"', 'name = "forum.example.com"'),
            ['sources: two sources are both named "forum.example.com"', "give them distinct `name`s"],
        ),
        (replace('name = "status-feed"\n', "").replace("status.example.com", "forum.example.com"), ["distinct"]),
        (replace("https://status.example.com", "https://:8080"), ["sources[0].url: names no host"]),
        (replace('keywords = ["acme", "acme cloud"]', "keywords = []"), ["listen.keywords:"]),
        (replace('[channels]\ndefault = "C0LISTEN"', ""), ["channels: required but missing"]),
        (
            replace('channel = "C0SUMMARY"', 'channel = "C0SUMMARY"\ntimezone = "Paris"'),
            ['summary.timezone: "Paris" is not a time zone; write it like "Europe/Paris"'],
        ),
        (
            replace('channel = "C0SUMMARY"', 'channel = "C0SUMMARY"\ntime = "9am"'),
            ['summary.time: "9am" is not a time of day; write it like "09:00"'],
        ),
        (replace('channel = "C0SUMMARY"', 'channel = "C0SUMMARY"\nweekday = "mon"'), ["summary.weekday:", "monday"]),
        (
            replace("", '\n[sla.business_hours]\nstart = "18:00"\nend = "09:00"\n'),
            ["sla.business_hours: `end` must be later in the day than `start`"],
        ),
        (replace("", '\n[sla.high]\nclaim_within = "soon"\n'), ['sla.high.claim_within: "soon" is not a duration']),
        (replace("", '\n[sla]\nclaim_within = "soon"\n'), ['sla.claim_within: "soon" is not a duration']),
        (replace("", '\n[people]\nana = "support"\n'), ['people.ana: "ana" is not a Slack user ID']),
        (replace("", "\n[sla]\ngroup_after = 1\n"), ["sla.group_after: must be a number above 1: it multiplies"]),
        (replace("", '\n[sla]\nlead_after = "soon"\n'), ["sla.lead_after:", "number"]),
        (replace("", "\n[sla]\nlead_after = nan\n"), ["sla.lead_after: must be a number above 1"]),
        (
            replace("", "\n[sla]\ngroup_after = 2.5\nlead_after = 2\n"),
            ["sla: `lead_after` (2) must be larger than `group_after` (2.5): the lead is pinged after the user group"],
        ),
        (
            replace('channel = "C0FORUM"', 'channel = "C0FORUM"\nusergroup = "support"'),
            ["routes[2].usergroup:", "not a Slack user group ID"],
        ),
        (
            replace("", WEBHOOK.format(events='["mention.created", "mention.claim"]')),
            [
                'webhooks[0].events[1]: "mention.claim" is not a webhook event; did you mean mention.claimed? '
                "the events are mention.created, mention.claimed, mention.replied, mention.escalated, "
                "mention.resolved, mention.reopened, spike.started"
            ],
        ),
        (replace("", WEBHOOK.format(events="[]")), ["webhooks[0].events: List should have at least 1 item"]),
        (
            replace("", WEBHOOK.format(events='["spike.started"]').replace("PATH", "ALLEARS_NO_SUCH_SECRET")),
            ["webhooks[0].secret_env: the environment variable ALLEARS_NO_SUCH_SECRET is not set"],
        ),
        (
            replace("", WEBHOOK.format(events='["spike.started"]') * 2),
            ["webhooks: two entries have the same `url`"],
        ),
    ],
)
def test_a_config_error_names_the_key_and_the_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message, message


def test_sla_targets_written_in_sla_itself_hold_for_every_urgency_and_a_level_overrides_them_key_by_key(tmp_path):
    text = replace("", '[sla]\nclaim_within = "30m"\nresolve_within = "1d"\n[sla.high]\nreply_within = "1h"\n')
    sla = load_config(write(tmp_path, text)).sla
    high = sla.targets("high")
    assert (high.claim_within, high.reply_within, high.resolve_within) == (
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(days=1),
    )
    assert sla.targets("normal") == sla.targets("low") == SlaTargets(claim_within="30m", resolve_within="1d")

    text = replace("", '[sla]\nclaim_within = "30m"\n[sla.high]\nclaim_within = "5m"\n')
    sla = load_config(write(tmp_path, text)).sla
    assert (sla.targets("high").claim_within, sla.targets("normal").claim_within) == (
        timedelta(minutes=5),
        timedelta(minutes=30),
    )


def test_without_sla_targets_a_mention_must_be_claimed_in_twenty_minutes_and_nothing_else_is_timed(tmp_path):
    sla = load_config(write(tmp_path, FULL_CONFIG)).sla
    for urgency in ("low", "normal", "high"):
        targets = sla.targets(urgency)
        assert (targets.claim_within, targets.reply_within, targets.resolve_within) == (
            timedelta(minutes=20),
            None,
            None,
        )


def test_a_wrong_sla_target_in_sla_itself_is_reported_once_not_once_per_urgency(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, replace("", '[sla]\nreply_within = "soon"\n')))
    assert str(error.value).splitlines() == [
        f'{tmp_path / "allears.toml"}: sla.reply_within: "soon" is not a duration; write it like "30s", "5m", '
        '"1h30m" or "1d"'
    ]


def test_an_unnamed_source_never_shows_its_url_path_or_query(tmp_path):
    """The key is on every card; a feed's path or query can be a secret, like a Google Alerts feed's."""
    url = "https://user:password@www.google.com:443/alerts/feeds/0123/4567?token=SECRET"
    text = replace('url = "https://forum.example.com/latest.rss"', f'url = "{url}"')
    [_, alerts] = load_config(write(tmp_path, text)).sources
    assert (alerts.key, alerts.url) == ("www.google.com", url)


def test_two_wrong_keys_are_both_reported(tmp_path):
    text = replace("exclude =", "exclud =").replace('every = "10m"', 'every = "soon"')
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert len(str(error.value).splitlines()) == 2


def test_the_example_config_is_valid_and_sets_every_accountability_setting():
    config = load_config(Path(__file__).resolve().parents[1] / "allears.example.toml")
    assert config.sla.targets("high").claim_within == timedelta(minutes=10)
    assert config.sla.targets("normal").claim_within == timedelta(minutes=20), "the default"
    assert config.sla.business_hours and config.sla.business_hours.end == time(18)
    assert (config.sla.group_after, config.sla.lead_after) == (2.0, 3.0), "commented out: the defaults"
    assert (config.summary.weekday.number, config.summary.time, config.summary.timezone) == (0, time(9), "Europe/Paris")
    assert config.people["U0ANA"] == "support"


def test_a_missing_config_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="no such file; copy allears.example.toml"):
        load_config(tmp_path / "nowhere.toml")


def test_a_config_that_is_not_toml_says_so(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[listen\nkeywords = acme"))


def test_feedback_goes_to_the_feedback_channel_else_to_the_product_team(tmp_path):
    base = '[listen]\nkeywords = ["acme"]\n[channels]\ndefault = "C0LISTEN"\n'
    path = tmp_path / "allears.toml"
    path.write_text(base)
    assert load_config(path).feedback_channel is None
    path.write_text(base + '[teams.product]\nchannel = "C0PRODUCT"\n')
    assert load_config(path).feedback_channel == "C0PRODUCT"
    path.write_text(base.replace('default = "C0LISTEN"\n', 'default = "C0LISTEN"\nfeedback = "C0IDEAS"\n'))
    assert load_config(path).feedback_channel == "C0IDEAS"
