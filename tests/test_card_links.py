"""A sender chooses what a link says, not where it goes: beside a label they chose, the card shows the link's host."""

from bot.ground.models import Event, EventKind, Mention
from bot.slack.cards import mention_card, thread_note
from bot.slack.kit import link, link_with_host


def a_mention(*, title: str | None, url: str | None) -> Mention:
    return Mention(
        id=7,
        source="webhook",
        source_kind="webhook",
        external_id="t-1",
        url=url,
        title=title,
        text="Your account is locked: log in to keep it",
        polarity=-0.5,
        sentiment="negative",
        channel="C0LISTEN",
    )


def body(mention: Mention) -> str:
    return mention_card(mention, [])[0]["text"]["text"]


def test_a_title_naming_one_site_shows_the_host_its_link_really_goes_to():
    mention = a_mention(title="bank.com", url="https://Evil.Example/x")

    assert body(mention).startswith("*<https://Evil.Example/x|bank.com>* (evil.example)\n")


def test_the_host_is_shown_as_the_link_spells_it_escaped_and_without_who_or_which_port():
    assert link_with_host("https://bank.com@xn--bnk-sna.example:8443/x", "bank.com") == (
        "<https://bank.com@xn--bnk-sna.example:8443/x|bank.com> (xn--bnk-sna.example)"
    )
    assert link_with_host("https://a&b.example/", "a") == "<https://a&b.example/|a> (a&amp;b.example)"


def test_a_link_typed_with_spaces_or_controls_before_it_goes_where_a_browser_would_take_it():
    assert link(" https://example.com/a?c=<2>", "post") == "<https://example.com/a?c=%3C2%3E|post>"
    assert link("\x01\thttp://example.com", "post") == "<http://example.com|post>"
    assert link("   ", "post") == "post"


def test_what_is_not_linked_needs_no_host():
    assert body(a_mention(title="bank.com", url="javascript:alert(1)")).startswith("*bank.com*\n")
    assert body(a_mention(title="bank.com", url=None)).startswith("*bank.com*\n")
    assert link_with_host("https://x.example/" + "a" * 3000, "bank.com") == "bank.com", "too long to link"


def test_the_bots_own_label_is_not_followed_by_a_host():
    about = mention_card(a_mention(title=None, url="https://forum.example.com/t/1"), [])[1]
    assert any(
        element["text"].endswith("<https://forum.example.com/t/1|open the original>") for element in about["elements"]
    )


def test_a_post_also_heard_elsewhere_shows_where_its_link_goes():
    event = Event(
        id=1,
        mention_id=7,
        kind=EventKind.ALSO_HEARD,
        data={"url": "https://evil.example/p", "text": "bank.com", "source": "rss", "mention_id": 8},
    )

    note = thread_note(a_mention(title="bank.com", url="https://bank.com/"), event)

    assert note.endswith(": <https://evil.example/p|bank.com> (evil.example)")
