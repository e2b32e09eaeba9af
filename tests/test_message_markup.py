"""A Slack message forwarded as a customer mention reads as people read it in Slack: names, labels and words,
not `<@W222>` and `&amp;`."""

import pytest
from slack_sdk import WebClient

from bot.app.standin.slack import BOT_TOKEN
from bot.slack.message_markup import Names, message_text

PEOPLE = {"W222": "wendy", "U123": "ana.lookup"}
CHANNELS = {"C123": "general", "C0SUPPORT": "support"}


def read(markup: str) -> str:
    return message_text(markup, person=PEOPLE.__getitem__, channel=CHANNELS.__getitem__)


@pytest.mark.parametrize(
    ("markup", "read_as"),
    [
        ("<@W222> says hi", "@wendy says hi"),
        ("ask <@U123|ana>", "ask @ana"),
        ("in <#C123|general>", "in #general"),
        ("see <#C0SUPPORT>", "see #support"),
        ("read <https://x.example|the docs>", "read the docs (https://x.example)"),
        ("read <https://x.example>", "read https://x.example"),
        ("read <https://x.example|https://x.example>", "read https://x.example"),
        ("go to <http://x.example|x.example>", "go to x.example"),
        ("mail <mailto:a@b.c|a@b.c>", "mail a@b.c"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S123|@support> please", "@support please"),
        ("since <!date^1392734382^{date}|Feb 18, 2014>", "since Feb 18, 2014"),
        ("Q&amp;A &lt;today&gt; 2 &gt; 1", "Q&A <today> 2 > 1"),
    ],
)
def test_each_piece_of_slack_markup_reads_as_slack_shows_it(markup, read_as):
    assert read(markup) == read_as


def test_a_link_with_escapes_in_its_address_and_label_reads_unescaped():
    assert read("<https://x.example/?a=1&amp;b=2|R&amp;D &lt;notes&gt;>") == "R&D <notes> (https://x.example/?a=1&b=2)"


def test_only_slacks_own_three_escapes_are_undone_after_the_markup_is_read():
    """Someone who typed `&lt;@U123&gt;` wrote those characters, not a mention; `&amp;lt;` is them typing `&lt;`."""
    assert read("&lt;@U123&gt; &amp;lt; &quot;x&quot; &#60;") == "<@U123> &lt; &quot;x&quot; &#60;"


def test_a_name_looked_up_is_taken_as_it_is():
    assert message_text("<@U1>", person=lambda _: "Tom &amp; Jerry", channel=CHANNELS.__getitem__) == "@Tom &amp; Jerry"


def test_a_lone_angle_bracket_is_left_as_it_came():
    assert read("a < b and c > d <@W222") == "a < b and c > d <@W222"


def client(fake_slack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url, timeout=5)


def test_names_come_from_slack_and_are_asked_for_once_while_they_are_kept(fake_slack):
    now = [0.0]
    names = Names(keep_for=3600, clock=lambda: now[0])
    slack = client(fake_slack)

    assert names.person(slack, "U_ANA") == "ana"
    assert names.person(slack, "U_ANA") == "ana"
    assert names.channel(slack, "C0SUPPORT") == "c0support"
    assert names.channel(slack, "C0SUPPORT") == "c0support"
    assert len(fake_slack.calls_to("users.info")) == 1 and len(fake_slack.calls_to("conversations.info")) == 1

    now[0] = 3601
    assert names.person(slack, "U_ANA") == "ana"
    assert len(fake_slack.calls_to("users.info")) == 2, "an hour later the name is asked for again"


def test_a_name_slack_will_not_give_is_shown_as_its_id_and_asked_for_again_next_time(fake_slack):
    names = Names()
    slack = client(fake_slack)
    fake_slack.fail("users.info", times=1, error="missing_scope", status=200)

    assert names.person(slack, "U_ANA") == "U_ANA"
    assert names.channel(slack, "C0NOWHERE") == "C0NOWHERE", "conversations.info answers channel_not_found"
    assert names.person(slack, "U_ANA") == "ana"


def test_the_names_kept_are_bounded(fake_slack):
    names = Names(most=2)
    slack = client(fake_slack)
    for person in ("U_ANA", "U_BEN", "U_CAT"):
        names.person(slack, person)

    names.person(slack, "U_CAT")
    names.person(slack, "U_ANA")

    assert [call.args["user"] for call in fake_slack.calls_to("users.info")] == ["U_ANA", "U_BEN", "U_CAT", "U_ANA"]
