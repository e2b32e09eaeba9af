"""What people type reaches the thread, the team and the database as they typed it, escaped once on the way out.

Slack escapes `&`, `<` and `>` in a slash command's text before sending it; the stand-in Slack does the same."""

from sqlmodel import Session, select

from bot.app.standin.users import SlackUser
from bot.ground.db import make_engine
from bot.ground.models import Event, EventKind
from tests.feedserver import Entry, rss

POST = Entry(
    guid="post-1",
    title="Acme cloud ate my weekend",
    description="Acme cloud has been down for 3 hours, terrible support, still waiting",
    link="https://forum.example.com/t/1",
)


def _events(bot, kind: EventKind) -> list[Event]:
    engine = make_engine(bot.env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            return list(session.exec(select(Event).where(Event.kind == kind)))
    finally:
        engine.dispose()


def test_anas_reply_escalation_and_note_read_as_she_typed_them(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)

    def thread_text() -> str:
        return "\n".join(message.text for message in fake_slack.thread("C0URGENT", card.ts))

    # Ana sees each note land before she types the next command, as a person does (sent in the same few
    # milliseconds, the resolve could be handled before the escalation, which a resolved mention refuses).
    ana.command("/reply", "M-1 Fixed in our Q&A <today>")
    fake_slack.wait_for(lambda: "replied" in thread_text(), what="the reply's note")
    ana.command("/escalate", "M-1 support R&D says <soon> & not later")
    fake_slack.wait_for(lambda: "R&amp;D says" in thread_text(), what="the escalation's note")
    ana.command("/resolve", "M-1 answered told them 2 > 1 & thanked them")

    fake_slack.wait_for(lambda: "resolved this" in thread_text(), what="the three notes in the card's thread")
    thread = thread_text()
    assert "Fixed in our Q&amp;A &lt;today&gt;" in thread, "escaped once: Slack shows `Q&A <today>`"
    assert "R&amp;D says &lt;soon&gt; &amp; not later" in thread
    assert "told them 2 &gt; 1 &amp; thanked them" in thread
    assert "&amp;amp;" not in thread and "&amp;lt;" not in thread and "&amp;gt;" not in thread

    alert = fake_slack.wait_for(lambda: fake_slack.messages("C0SUPPORT"), what="the support team's alert")[0]
    assert "R&amp;D says &lt;soon&gt; &amp; not later" in alert.all_text()
    assert "&amp;amp;" not in alert.all_text()

    assert [event.data["text"] for event in _events(bot, EventKind.REPLIED)] == ["Fixed in our Q&A <today>"]
    assert [event.data["reason"] for event in _events(bot, EventKind.ESCALATED)] == ["R&D says <soon> & not later"]
    assert [event.data["note"] for event in _events(bot, EventKind.RESOLVED)] == ["told them 2 > 1 & thanked them"]


def test_sam_logs_what_a_customer_said_on_the_phone_as_he_typed_it(bot, feeds, fake_slack):
    feeds.publish("/acme.xml", rss([]))
    bot.start()
    sam = SlackUser("U_SAM", bot.url, fake_slack)

    sam.command("/allears", "log Pat from R&D at Acme: invoices <empty> since Monday")

    card = fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT") or fake_slack.cards("C0LISTEN"), what="a card")[0]
    assert "Pat from R&amp;D at Acme: invoices &lt;empty&gt; since Monday" in card.all_text()
    assert "&amp;amp;" not in card.all_text() and "&amp;lt;" not in card.all_text()


def test_someone_typing_an_entity_keeps_it(bot, feeds, fake_slack):
    """`&lt;` typed reaches the thread as `&lt;`: only what Slack itself escaped is undone."""
    feeds.publish("/acme.xml", rss([POST]))
    bot.start()
    fake_slack.wait_for(lambda: fake_slack.cards("C0URGENT"), what="the card")
    ana = SlackUser("U_ANA", bot.url, fake_slack)

    ana.command("/reply", "M-1 In HTML write &lt; for <")

    fake_slack.wait_for(lambda: _events(bot, EventKind.REPLIED), what="the reply recorded")
    assert [event.data["text"] for event in _events(bot, EventKind.REPLIED)] == ["In HTML write &lt; for <"]
