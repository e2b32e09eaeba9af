"""The weekly summary: how it reads, when it is due, and how it is posted to Slack once per week and channel,
whatever crashes, restarts and second processes happen meanwhile."""

import json
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.act import actions
from bot.app.standin.slack import BOT_TOKEN, block_kit_problems
from bot.ground.config import Config
from bot.ground.config_types import Weekday
from bot.ground.db import session_scope
from bot.ground.errors import UserError
from bot.ground.models import WeeklyPost
from bot.remember import summary_due
from bot.remember.figures import Quote, TopicGroup, WeeklyFigures
from bot.remember.summary import summary_text
from bot.remember.summary_due import PostStatus, due_week
from bot.remember.weeks import Week
from bot.slack.answers import figures_blocks
from bot.slack.people import TeamDirectory
from bot.slack.summary_post import SummaryPoster, post_by_hand
from tests.test_metrics import ANA, BEN, PEOPLE, W47, act, at, finished_week, hear, seed_week

MONDAY_9 = at(23, 9)
"""When week 47's summary is due by default."""


def config(**summary: object) -> Config:
    return Config.model_validate(
        {
            "listen": {"keywords": ["acme"]},
            "channels": {"default": "C0LISTEN"},
            "summary": {"channel": "C0LISTEN", **summary},
            "people": PEOPLE,
        }
    )


def rows(text: str) -> dict[str, str]:
    """Each "Label: value" row of the text, by label (quotes under a row are indented)."""
    found = {}
    for line in text.splitlines()[1:]:
        label, colon, value = line.partition(":")
        if colon and not line.startswith(" "):
            found[label.strip()] = value.strip()
    return found


# --- how it reads ---------------------------------------------------------------------------------


def test_the_text_shows_every_figure_of_the_hand_computed_week(engine):
    seed_week(engine)
    text = summary_text(finished_week(engine))
    lines = text.splitlines()
    assert lines[0] == "All Ears weekly summary, 2026-W47: Mon 16 Nov – Sun 22 Nov 2026"
    headings = [line for line in lines if line and ":" not in line and not line.startswith(" ")]
    assert headings == [
        "What customers said",
        "How we answered",
        "Who listened (claimed or replied)",
        "What we learned (feedback for the product team)",
        "From customers to product",
        "Weeks run Monday to Sunday in UTC. Times are from hearing a mention to its first claim, reply or resolve; "
        "every figure is computed from the recorded actions.",
    ]
    assert rows(text) == {
        "Mentions heard": "7",
        "By source": "forum 4, status-feed 3",
        "By category": "complaint 3, praise 2, feature request 1, question 1",
        "By sentiment": "negative 3, neutral 2, positive 2",
        "Change from last week": "+4 mentions (3 last week); sources: forum +4; "
        "categories: praise +2, complaint +1, feature request +1; sentiment: positive +2, negative +1, neutral +1",
        "Top topics": "outage 2, praise 2, billing 1, export 1, login 1",
        "Most negative still open": "",
        "Praise to pass on": "",
        "Claimed": "4",
        "Replied": "4",
        "Resolved": "4",
        "Time to claim": "median 16m, 90th percentile 1h (4 mentions)",
        "Time to first reply": "median 45m, 90th percentile 4d (4 mentions)",
        "Time to resolution": "median 13h, 90th percentile 2d 2h (4 mentions)",
        "Within SLA": "claim 50% (3 of 6), reply 50% (2 of 4), resolution 0% (0 of 1)",
        "Open backlog": "6",
        "Backlog by age": "under 1 h 1, 1–24 h 1, 1–7 days 2, over 7 days 2",
        "Outcomes": "answered 1, feedback 1, fixed 1, thanked 1",
        "Escalated": "2 mentions (2 escalations: billing 1, support 1), acknowledged 1",
        "Acknowledged by team": "billing 0 of 1; support 1 of 1 in median 30m",
        "People who took part": "5",
        "Teams": "support 2, engineering 1, product 1 (1 person without a known team)",
        "Busiest person's share": "40% (handled 2 of 5 mentions someone claimed or answered)",
        "Resolved as feedback": "1",
        "About export": "1",
        "Opened from mentions": "0",
        "Top linked issues": "none",
        "Shipped this week": "none",
        "Customers told": "0",
    }
    assert "Time to claim:            median 16m" in text, "values line up in one column"
    quotes = [line.strip() for line in lines if line.startswith("    ")]
    assert quotes[0] == "outage: M-4 “Acme is down again <!channel>” (status-feed) https://example.com/posts/m1"
    assert "M-8 “Charged twice!” (forum) https://example.com/posts/m4" in quotes, "the most negative still open"
    assert quotes[-1] == (
        'M-9 “Please let me export reports as CSV” (forum) https://example.com/posts/m7 (noted: "Wants CSV export")'
    )


def test_the_busiest_share_counts_each_mention_once_however_many_handled_it(engine):
    """Ana claims all ten mentions and Ben answers all ten: each of them handled every one, not half."""
    for number in range(10):
        mention = hear(engine, f"m{number}", at(16, 9, number))
        act(engine, actions.claim, mention_id=mention, user_id=ANA, now=at(16, 10))
        act(engine, actions.reply, mention_id=mention, user_id=BEN, text="Hello", now=at(16, 11))
    values = rows(summary_text(finished_week(engine)))
    assert values["People who took part"] == "2"
    assert values["Busiest person's share"] == "100% (handled 10 of 10 mentions someone claimed or answered)"


def test_an_empty_week_reads_as_nothing(engine):
    text = summary_text(finished_week(engine))
    values = rows(text)
    assert (values["Mentions heard"], values["Top topics"], values["Most negative still open"]) == ("0", "none", "none")
    assert (values["Time to claim"], values["Within SLA"], values["Teams"]) == ("n/a", "n/a", "none")
    assert values["Change from last week"] == "±0 mentions (0 last week)"
    assert "Busiest person's share" not in values


def test_the_slack_post_escapes_customer_words_and_links_them(engine):
    seed_week(engine)
    blocks = figures_blocks(finished_week(engine), chart=True)
    assert block_kit_problems(blocks) == []
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "All Ears weekly summary, 2026-W47: Mon 16 Nov – Sun 22 Nov 2026",
            "emoji": True,
        },
    }
    text = json.dumps(blocks, ensure_ascii=False)
    assert "<!channel>" not in text
    assert (
        "<https://example.com/posts/m1|M-4 “Acme is down again &lt;!channel&gt;”> (example.com) (status-feed)" in text
    )
    assert "*Busiest person's share:* 40% (handled 2 of 5 mentions someone claimed or answered)" in text
    assert "_noted: Wants CSV export_" in text
    assert "The chart of mentions per day and response times is in the thread." in text
    assert "in the thread" not in json.dumps(figures_blocks(finished_week(engine))), "/allears stats has no chart"


def test_the_slack_post_stays_within_block_kit_limits_however_much_there_is_to_say():
    """Five topics and five feedback topics of three examples, each with the longest words, notes and links."""
    long_url = "https://example.com/" + "a" * 1400

    def quote(n: int) -> Quote:
        return Quote(n, "<@U0BOSS> " + "w" * 290, "forum&co", long_url, -0.5, note="<!here> " + "n" * 2000)

    figures = WeeklyFigures(
        week=W47,
        until=at(23, 0),
        topics=[TopicGroup(f"topic {n} " + "t" * 80, 99, [quote(n)]) for n in range(5)],
        most_negative_open=quote(10),
        praise=[quote(n) for n in range(20, 23)],
        learned=[TopicGroup(f"feedback {n}", 3, [quote(30 + n * 3 + k) for k in range(3)]) for n in range(5)],
    )
    blocks = figures_blocks(figures, chart=True)
    assert block_kit_problems(blocks) == []
    assert len(blocks) <= 50
    text = json.dumps(blocks)
    assert "<@U0BOSS>" not in text and "<!here>" not in text
    for block in blocks:
        if block["type"] == "section":
            section = block["text"]["text"]
            assert section.count("<") == section.count(">"), "no link is cut in half"


# --- who is in which team --------------------------------------------------------------------------


def test_a_persons_team_is_the_config_first_then_their_slack_title_asked_once(fake_slack):
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    fake_slack.set_title("U_DEE", "Engineering")
    fake_slack.set_title("U_ANA", "Never asked")
    teams = TeamDirectory({"U_ANA": "support"}, client)
    assert [teams("U_ANA"), teams("U_DEE"), teams("U_DEE"), teams("U_EVE")] == [
        "support",
        "Engineering",
        "Engineering",
        None,  # no title on their profile
    ]
    assert [call.args["user"] for call in fake_slack.calls_to("users.info")] == ["U_DEE", "U_EVE"]
    fake_slack.fail("users.info", status=200, error="missing_scope", times=1)
    assert TeamDirectory({}, client)("U_DEE") is None, "without users:read a person counts without a team"


# --- when it is due ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, week",
    [
        (at(23, 8, 59), None),  # a minute early: last Monday's moment is a week gone
        (at(23, 9), W47),
        (at(23, 17), W47),
        (at(24, 8, 59), W47),  # the worker was down all Monday: still posted on Tuesday morning
        (at(24, 9), None),  # a day late: left to `allears summary --post`
    ],
)
def test_by_default_the_last_full_week_is_due_on_monday_at_nine_utc_for_a_day(now, week):
    assert due_week(config().summary, now) == week


def test_the_schedule_is_kept_in_its_own_time_zone():
    paris = config(timezone="Europe/Paris").summary
    assert due_week(paris, at(23, 7, 59)) is None, "08:59 in Paris"
    assert due_week(paris, at(23, 8)) == Week(2026, 47, "Europe/Paris")


def test_a_summary_scheduled_before_the_week_ends_covers_the_last_full_week():
    sunday_evening = config(weekday=Weekday.SUNDAY, time=time(18)).summary
    assert due_week(sunday_evening, at(22, 18, 30)) == Week(2026, 46)


def test_a_summary_turned_off_is_never_due():
    assert due_week(config(enabled=False).summary, MONDAY_9) is None


# --- posted once ------------------------------------------------------------------------------------


def poster(engine, fake_slack, now, **summary: object) -> SummaryPoster:
    """One process's poster, with its own Slack client, at a fixed moment."""
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    return SummaryPoster(engine, config(**summary), client, now=lambda: now)


def summaries(fake_slack):
    return [message for message in fake_slack.cards("C0LISTEN") if "weekly summary" in message.text]


def the_post(engine) -> WeeklyPost:
    with session_scope(engine) as session:
        return session.exec(select(WeeklyPost)).one()


def test_two_processes_checking_at_once_post_the_week_once(engine, fake_slack):
    seed_week(engine)
    posters = [poster(engine, fake_slack, MONDAY_9 + timedelta(seconds=n)) for n in range(2)]
    threads = [threading.Thread(target=p.post_due) for p in posters for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [message] = summaries(fake_slack)
    assert "*Mentions heard:* 7" in message.all_text() and "(so far)" not in message.text
    [chart] = fake_slack.uploads
    assert (chart.channel, chart.thread_ts, chart.filename) == ("C0LISTEN", message.ts, "allears-2026-W47.png")
    post = the_post(engine)
    assert (post.week, post.status, post.message_ts, post.file_id) == ("2026-W47", "posted", message.ts, chart.id)
    for late in posters:  # every later check, and a restarted process, finds it done
        late.post_due()
    poster(engine, fake_slack, MONDAY_9 + timedelta(hours=3)).post_due()
    assert len(summaries(fake_slack)) == len(fake_slack.uploads) == 1


def test_a_chart_that_failed_is_posted_alone_at_a_later_check(engine, fake_slack):
    seed_week(engine)
    fake_slack.fail("files.getUploadURLExternal", status=500, times=1)
    poster(engine, fake_slack, MONDAY_9).post_due()
    assert len(summaries(fake_slack)) == 1 and fake_slack.uploads == []
    assert (the_post(engine).status, the_post(engine).last_error) == ("message_sent", "internal_error")

    poster(engine, fake_slack, MONDAY_9 + timedelta(seconds=30)).post_due()  # waits a minute before trying again
    assert fake_slack.uploads == []
    poster(engine, fake_slack, MONDAY_9 + timedelta(minutes=2)).post_due()  # a restarted process picks it up
    [message] = summaries(fake_slack)
    [chart] = fake_slack.uploads
    assert chart.thread_ts == message.ts
    assert (the_post(engine).status, the_post(engine).last_error) == ("posted", None)


def test_a_message_whose_sending_was_cut_short_is_never_sent_again(engine, fake_slack):
    """A process died during chat.postMessage: Slack may have the message or not, so nobody posts it
    again on their own; a person looks and can post it with --again."""
    seed_week(engine)
    with session_scope(engine) as session:
        crashed = summary_due.take(session, W47, "C0LISTEN", now=MONDAY_9)
        assert crashed is not None and summary_due.advance(session, crashed, PostStatus.SENDING_MESSAGE)

    poster(engine, fake_slack, MONDAY_9 + timedelta(minutes=1)).post_due()  # the lease is still the dead one's
    later = poster(engine, fake_slack, MONDAY_9 + timedelta(minutes=6))
    later.post_due()
    assert summaries(fake_slack) == []
    post = the_post(engine)
    assert post.status == "failed" and "may or may not have reached Slack" in post.last_error
    assert "allears summary --week 2026-W47 --post --again" in post.last_error

    with pytest.raises(UserError, match="was not posted: the message may or may not .* Add --again"):
        post_by_hand(later, W47, now=MONDAY_9 + timedelta(minutes=7))
    answer = post_by_hand(later, W47, again=True, now=MONDAY_9 + timedelta(minutes=7))
    assert answer == "posted the 2026-W47 summary's message and chart to C0LISTEN"
    assert len(summaries(fake_slack)) == len(fake_slack.uploads) == 1


def test_a_chart_whose_sending_was_cut_short_leaves_the_post_done(engine, fake_slack):
    seed_week(engine)
    with session_scope(engine) as session:
        crashed = summary_due.take(session, W47, "C0LISTEN", now=MONDAY_9)
        assert crashed is not None
        assert summary_due.advance(session, crashed, PostStatus.SENDING_CHART, message_ts="1.000001")
    poster(engine, fake_slack, MONDAY_9 + timedelta(minutes=6)).post_due()
    assert fake_slack.uploads == [] and summaries(fake_slack) == []
    post = the_post(engine)
    assert (post.status, post.message_ts) == ("posted", "1.000001")
    assert post.last_error.startswith("the chart may or may not have reached Slack")


def test_posting_by_hand_refuses_a_week_already_posted_unless_asked_again(engine, fake_slack):
    seed_week(engine)
    scheduled = poster(engine, fake_slack, MONDAY_9)
    scheduled.post_due()
    by_hand = poster(engine, fake_slack, MONDAY_9 + timedelta(hours=1))
    with pytest.raises(UserError, match="already posted to C0LISTEN on 2026-11-23 at 09:00 UTC; add --again"):
        post_by_hand(by_hand, W47, now=MONDAY_9 + timedelta(hours=1))
    assert post_by_hand(by_hand, W47, again=True, now=MONDAY_9 + timedelta(hours=1)).startswith(
        "posted the 2026-W47 summary's message and chart"
    )
    assert len(summaries(fake_slack)) == len(fake_slack.uploads) == 2
    assert the_post(engine).attempts == 2


def test_a_week_in_progress_is_posted_by_hand_as_a_copy_that_changes_nothing(engine, fake_slack):
    seed_week(engine)
    wednesday = at(18, 12)
    answer = post_by_hand(poster(engine, fake_slack, wednesday), W47, now=wednesday)
    assert answer.startswith("posted the 2026-W47 summary so far to C0LISTEN, with its chart; the week is not over")
    [copy] = summaries(fake_slack)
    assert "(so far)" in copy.text and len(fake_slack.uploads) == 1
    with session_scope(engine) as session:
        assert session.exec(select(WeeklyPost)).all() == []
    poster(engine, fake_slack, MONDAY_9).post_due()
    assert len(summaries(fake_slack)) == 2, "the week's own summary still comes"


def test_a_post_another_process_holds_is_left_alone(engine, fake_slack):
    with session_scope(engine) as session:
        assert summary_due.take(session, W47, "C0LISTEN", now=MONDAY_9) is not None
    other = poster(engine, fake_slack, MONDAY_9 + timedelta(minutes=1))
    other.post_due()
    with pytest.raises(UserError, match="another process is posting the 2026-W47 summary; try again"):
        post_by_hand(other, W47, now=MONDAY_9 + timedelta(minutes=1))
    assert summaries(fake_slack) == []


def test_a_summary_slack_refuses_for_good_is_not_retried(engine, fake_slack):
    fake_slack.fail("chat.postMessage", status=200, error="invalid_blocks", times=1)
    poster(engine, fake_slack, MONDAY_9).post_due()
    post = the_post(engine)
    assert (post.status, post.last_error) == ("failed", "Slack refused it: invalid_blocks")
    poster(engine, fake_slack, MONDAY_9 + timedelta(hours=1)).post_due()
    assert summaries(fake_slack) == [] and the_post(engine).attempts == 1


def test_a_chart_slack_refuses_for_good_leaves_the_message_posted(engine, fake_slack):
    fake_slack.fail("files.getUploadURLExternal", status=200, error="invalid_arguments", times=1)
    poster(engine, fake_slack, MONDAY_9).post_due()
    post = the_post(engine)
    assert (post.status, post.last_error) == ("posted", "Slack refused the chart: invalid_arguments")
    poster(engine, fake_slack, MONDAY_9 + timedelta(hours=1)).post_due()
    assert len(summaries(fake_slack)) == 1 and fake_slack.uploads == []


def test_a_summary_is_kept_per_channel(engine, fake_slack):
    poster(engine, fake_slack, MONDAY_9).post_due()
    poster(engine, fake_slack, MONDAY_9, channel="C0PRODUCT").post_due()
    assert len(summaries(fake_slack)) == 1 and len(fake_slack.cards("C0PRODUCT")) == 1
    with session_scope(engine) as session:
        assert sorted(p.channel for p in session.exec(select(WeeklyPost))) == ["C0LISTEN", "C0PRODUCT"]


def test_the_lease_of_a_crashed_process_runs_out(engine):
    def take(now):
        with session_scope(engine) as session:
            return summary_due.take(session, W47, "C0LISTEN", now=now)

    def advance(post):
        with session_scope(engine) as session:
            return summary_due.advance(session, post, PostStatus.SENDING_MESSAGE)

    first = take(MONDAY_9)
    assert take(MONDAY_9 + summary_due.LEASE - timedelta(seconds=1)) is None
    second = take(MONDAY_9 + summary_due.LEASE + timedelta(seconds=1))
    assert first is not None and second is not None and second.attempts == 2
    assert not advance(first), "the first process's lease is fenced off"
    assert advance(second)


def test_retries_wait_longer_each_time_up_to_half_an_hour():
    assert [summary_due.retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 6, 7, 50)] == [1, 2, 4, 30, 30, 30]


def test_posted_at_is_recorded_in_utc(engine, fake_slack):
    poster(engine, fake_slack, MONDAY_9).post_due()
    assert the_post(engine).posted_at == datetime(2026, 11, 23, 9, tzinfo=UTC)
