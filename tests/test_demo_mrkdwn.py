"""The demo page's mrkdwn: shown as a Slack client shows it, and never a way for a customer's text to
become markup on the page."""

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app.demo.mrkdwn import Names, render_blocks, to_html
from bot.ground.text import escape_mrkdwn, without_reordering_or_hiding

NAMES = Names({"U0ANA": "Ana"}, {"C0SUPPORT": "support"}, {"S0SUPPORT": "support-team"})
TAGS = {"b", "i", "s", "code", "pre", "blockquote", "br", "a", "span"}


class _Markup(HTMLParser):
    """The tags and attributes of a fragment, and its text as a browser would show it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def _read(fragment: str) -> _Markup:
    markup = _Markup()
    markup.feed(fragment)
    markup.close()
    return markup


@pytest.mark.parametrize(
    ("mrkdwn", "html"),
    [
        ("*M-3* is _new_ and ~old~", "<b>M-3</b> is <i>new</i> and <s>old</s>"),
        ("Claimed by <@U0ANA>", 'Claimed by <span class="mention">@Ana</span>'),
        (
            "<!subteam^S0SUPPORT> see <#C0SUPPORT>",
            '<span class="mention">@support-team</span> see <span class="mention">#support</span>',
        ),
        (
            "<https://example.com/a?b=1&amp;c=2|the post>",
            '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the post</a>',
        ),
        ("use `/claim M-3`", "use <code>/claim M-3</code>"),
        ("&gt; quoted\nafter", "<blockquote>quoted</blockquote>after"),
        (":speech_balloon: 2*3*4", "💬 2*3*4"),
        ("a &lt;b&gt; &amp;amp; tag", "a &lt;b&gt; &amp;amp; tag"),
    ],
)
def test_slack_formatting_becomes_html(mrkdwn, html):
    assert to_html(mrkdwn, NAMES) == html


def test_a_link_that_is_not_to_a_web_page_stays_text():
    assert to_html("<javascript:alert(1)|click>", NAMES) == "&lt;javascript:alert(1)|click&gt;"


def test_blocks_get_html_for_mrkdwn_and_plain_text_keeps_its_text():
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*hi* <b>"}},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "<Claim> :zzz:"}}]},
    ]
    rendered = render_blocks(blocks, NAMES)
    assert rendered[0]["text"] == {"type": "mrkdwn", "html": "<b>hi</b> &lt;b&gt;"}
    assert rendered[1]["elements"][0]["text"] == {"type": "plain_text", "text": "<Claim> 💤"}


@pytest.mark.security
@given(st.text())
def test_customer_text_escaped_by_the_bot_is_shown_as_written_and_makes_no_markup(text):
    """What the bot sends is `escape_mrkdwn(text)`; the page must show the same characters, as text."""
    shown = _read(to_html(escape_mrkdwn(text), NAMES))
    assert all(tag in TAGS and set(attrs) <= {"class", "href", "target", "rel"} for tag, attrs in shown.tags)
    assert all(tag != "a" for tag, _ in shown.tags)


@pytest.mark.security
@given(st.text(alphabet=st.characters(blacklist_characters="*_~`:>", blacklist_categories=("Cc", "Cs"))))
def test_customer_text_without_formatting_characters_reads_exactly_as_written(text):
    """Exactly, but for the characters that reorder or hide text (`\u202e`, `\u200b`…), which are dropped."""
    assert _read(to_html(escape_mrkdwn(text), NAMES)).text == without_reordering_or_hiding(text)


@pytest.mark.security
@given(st.text(alphabet=st.sampled_from("<>&|@!#^*_~`:\"' \nabUC0/.=()"), max_size=60))
def test_any_mrkdwn_gives_only_the_known_tags_and_safe_links(text):
    for tag, attrs in _read(to_html(text, NAMES)).tags:
        assert tag in TAGS
        assert set(attrs) <= {"class", "href", "target", "rel"}
        assert (attrs.get("href") or "https://").startswith(("https://", "http://", "mailto:"))
