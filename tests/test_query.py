"""The query language: what a team writes in `[listen] query`, what it keeps, and how a mistake is named."""

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.ground.config import Config, load_config
from bot.ground.errors import ConfigError
from bot.ground.models import Mention
from bot.ground.query import QuerySyntaxError, parse, parse_listening
from bot.hear.matching import Facts, Matcher
from bot.hear.polling import Listener, store
from bot.hear.sources import Item
from bot.slack.cards import mention_card
from tests.feedserver import Entry, rss


def keeps(query: str, text: str, **facts: object) -> bool:
    return Matcher.of(query).matches(Facts(text, **facts))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Acme is down again", True),
        ("ACME support never answers", True),
        ("Acme's status page is green", True),
        ("Acme’s status page is green", True),  # a typographic apostrophe
        ("loving #acme today", True),
        ("@acme why is my bill double?", True),
        ("see acme.io/pricing", True),
        ("the acmeist painters", False),
        ("bacme is a typo", False),
    ],
)
def test_a_word_matches_whole_and_in_any_case(text, kept):
    assert keeps("acme", text) is kept


def test_words_with_accents_hashtags_handles_and_dots_match_as_written():
    assert keeps("café", "Le Café Acme ouvre")
    assert keeps("café", unicodedata.normalize("NFD", "un café Acme")), "é written as e and a combining accent"
    assert keeps("#acme", "hello #Acme!") and not keeps("#acme", "hello acme")
    assert keeps("@acme", "ping @acme") and not keeps("@acme", "ping acme")
    assert keeps("acme.io", "docs at https://acme.io/docs") and not keeps("acme.io", "acme io")
    assert keeps("acme", "𝐀𝐜𝐦𝐞 is great"), "letters in a bold font are letters"


def test_dana_writes_phrases_or_and_exclusions_as_in_a_search_engine():
    query = '"acme cloud" OR (acme -careers -"we are hiring") OR quillo'
    assert keeps(query, "Acme   Cloud is slow")
    assert keeps(query, "acme\ncloud breaks")
    assert keeps(query, "acme careers page for acme cloud"), "the phrase alternative holds on its own"
    assert not keeps(query, "acme careers: apply now")
    assert not keeps(query, "Acme: we are hiring!")
    assert keeps(query, "Quillo crashed")
    assert not keeps(query, "cloud only")
    assert keeps("acme AND billing", "acme billing") and not keeps("acme billing", "acme only")
    assert keeps("acme NOT careers", "acme rocks") and not keeps("acme NOT careers", "acme careers")
    assert keeps("acme or", "acme or not"), "lowercase `or` is a word"
    assert not keeps("acme or", "acme alone")


def test_fields_narrow_by_author_site_source_and_language():
    own_blog = {"urls": ("https://blog.acme.io/post/1", None)}
    assert not keeps("acme -site:acme.io", "acme launches", **own_blog), "subdomains are the site's too"
    assert keeps("acme -site:acme.io", "acme launches", urls=("https://news.example.com/1", None))
    assert keeps("acme site:github.com", "acme bug", urls=(None, "https://github.com/acme/cli/issues/3"))
    assert not keeps("acme site:hub.com", "acme bug", urls=("https://github.com/x", None)), "a host, not a suffix"
    assert keeps("acme -author:acmebot", "acme release", author="Jane") and not keeps(
        "acme -author:acmebot", "acme release", author="@AcmeBot"
    )
    assert keeps('acme author:"Jane Doe"', "acme!", author="jane doe")
    assert keeps("acme author:jane", "acme!", author="jane@mastodon.social"), "a handle's user part"
    assert keeps("acme source:mastodon", "acme", source="fediverse", source_kind="mastodon")
    assert keeps("acme source:fediverse", "acme", source="fediverse", source_kind="mastodon")
    assert not keeps("acme source:reddit", "acme", source="fediverse", source_kind="mastodon")
    assert keeps("acme lang:fr", "acme est en panne", lang="fr")
    assert not keeps("acme lang:fr", "acme is down", lang="en")
    assert not keeps("acme lang:fr", "acme is down"), "a mention of no known language is in none"


def test_a_routes_query_may_be_fields_alone_as_it_only_sorts_what_was_heard():
    assert parse("lang:fr -source:reddit")
    with pytest.raises(QuerySyntaxError, match="nothing to look for"):
        parse_listening("lang:fr -source:reddit")


def test_why_names_the_words_and_phrases_found_as_the_query_writes_them():
    matcher = Matcher.of('"acme cloud" OR acme OR quillo -careers')
    assert matcher.why(Facts("ACME Cloud and Acme")) == ['"acme cloud"', "acme"]
    assert Matcher.of("acme -careers").why(Facts("acme")) == ["acme"], "an exclusion is not a reason"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("acme OR (quillo OR widget", "unclosed parenthesis at column 9"),
        ("acme)", "unmatched closing parenthesis at column 5"),
        ('acme "cloud', "unclosed quote at column 6"),
        ("acme OR", "expected a word or a phrase after OR at column 8"),
        ("OR acme", "expected a word or a phrase before OR at column 1"),
        ("acme - careers", "expected a word, a phrase or a field right after `-` at column 6"),
        ("acme ()", "empty parentheses: expected a word or a phrase at column 7"),
        ('acme ""', "empty phrase: expected words between the quotes at column 6"),
        ("acme sites:acme.io", "unknown field `sites:`"),
        ("acme site:", "expected a value after `site:` at column 11"),
        ("-acme", "nothing to look for"),
        ("site:acme.io", "nothing to look for"),
        ("acme OR -quillo", "nothing to look for"),
        ("", "empty query: expected a word or a phrase at column 1"),
        ("(" * 41 + "acme" + ")" * 41, "parentheses nested more than 40 deep at column 41"),
    ],
)
def test_a_bad_query_is_refused_with_where_and_what_was_expected(query, error):
    with pytest.raises(QuerySyntaxError) as refused:
        parse_listening(query)
    assert error in str(refused.value)


QUERYISH = st.text(alphabet='acme ()"-:OR AND NOT author site source lang é#@.\n', max_size=60)


@settings(max_examples=400, deadline=None)
@given(st.one_of(QUERYISH, st.text(max_size=80)))
def test_any_text_either_parses_or_gets_a_positioned_error_never_an_exception(query):
    try:
        node = parse_listening(query)
    except QuerySyntaxError as error:
        assert 1 <= error.column <= len(query) + 1
        assert str(error).endswith(f"at column {error.column}")
        return
    Matcher(node).matches(Facts(query, author="x", urls=("https://acme.io",), lang="en"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[a-zé]{1,8}", fullmatch=True), min_size=1, max_size=4))
def test_a_query_of_words_keeps_a_text_of_those_words_in_any_case(words):
    query = " ".join(f'"{word}"' for word in words)
    assert keeps(query, " and ".join(words).upper())


WORDISH = st.text(alphabet="acmeACMÉé_#@.' \n9-", max_size=40)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.from_regex(r"[acm#@.é]{1,5}", fullmatch=True), min_size=1, max_size=3), WORDISH)
def test_a_word_is_found_exactly_where_it_stands_alone_as_a_lookbehind_pattern_finds_it(words, text):
    alone = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, words))})(?!\w)", re.IGNORECASE)
    assert keeps(" OR ".join(f'"{word}"' for word in words), text) == (alone.search(text) is not None)


def config(tmp_path: Path, listen: str, rest: str = "") -> Path:
    path = tmp_path / "allears.toml"
    path.write_text(f'[listen]\n{listen}\n\n[channels]\ndefault = "C0LISTEN"\n{rest}', encoding="utf-8")
    return path


def test_a_bad_query_in_the_config_is_named_with_its_key_and_column(tmp_path):
    path = config(tmp_path, "query = 'acme OR (quillo -careers'")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert str(refused.value) == f"{path}: listen.query: unclosed parenthesis at column 9"
    path = config(tmp_path, 'keywords = ["acme"]\n\n[[listen.products]]\nname = "Quillo"\nquery = "quillo OR"')
    with pytest.raises(ConfigError, match=r"listen\.products\[0\]\.query: expected a word or a phrase after OR"):
        load_config(path)
    path = config(tmp_path, 'keywords = ["acme"]', '\n[[routes]]\nchannel = "C0FR"\nquery = "lang:"\n')
    with pytest.raises(ConfigError, match=r"routes\[0\]\.query: expected a value after `lang:` at column 6"):
        load_config(path)


def test_query_and_keywords_together_or_nothing_to_listen_for_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="give `query` or `keywords` and `exclude`, not both"):
        load_config(config(tmp_path, 'query = "acme"\nkeywords = ["acme"]'))
    with pytest.raises(ConfigError, match="say what to listen for"):
        load_config(config(tmp_path, ""))
    twice = '[[listen.products]]\nname = "Quillo"\nquery = "quillo"\n[[listen.products]]\nname = "quillo"\nquery = "q"'
    with pytest.raises(ConfigError, match="two products have the same `name`"):
        load_config(config(tmp_path, twice))


PRODUCTS = Config.model_validate(
    {
        "listen": {
            "query": '"acme cloud" OR (acme -careers)',
            "products": [
                {
                    "name": "Quillo",
                    "query": "quillo -site:quillo.app",
                    "routes": [{"channel": "C0QUILLO", "sentiment": "negative"}],
                },
                {"name": "Inkwell", "query": 'inkwell OR "ink well"'},
            ],
        },
        "channels": {"default": "C0LISTEN"},
        "routes": [
            {"channel": "C0URGENT", "sentiment": "negative"},
            {"channel": "C0FRENCH", "query": "lang:fr OR panne"},
        ],
    }
)


_NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _item(n: int, text: str, url: str | None = None) -> Item:
    return Item(external_id=f"p-{n}", text=text, author=f"author-{n}", url=url or f"https://social.example/{n}")


def test_one_bot_listens_for_a_company_and_its_competitors_each_mention_knowing_its_product(engine):
    items = [
        _item(1, "Quillo deleted my notes, this is terrible and I am furious"),
        _item(2, "Quillo is down, this is awful"),
        _item(3, "Quillo 2.0 is out", url="https://blog.quillo.app/2"),
        _item(4, "Inkwell pricing question"),
        _item(5, "Acme Cloud saved our launch"),
        _item(6, "acme careers: apply"),
        _item(7, "nothing about anyone"),
        _item(8, "acme est en panne"),
    ]
    listener = Listener(PRODUCTS)
    with Session(engine) as session:
        matched, new = store(session, listener, items, source="fediverse", source_kind="mastodon", now=_NOW)
        session.commit()
        stored = {m.external_id: m for m in session.exec(select(Mention))}
    assert (matched, new) == (5, 5)
    assert set(stored) == {"p-1", "p-2", "p-4", "p-5", "p-8"}
    assert stored["p-1"].product == "Quillo" and stored["p-1"].channel == "C0QUILLO", "its product's route first"
    assert stored["p-4"].product == "Inkwell" and stored["p-4"].matched == "inkwell"
    assert stored["p-5"].product is None and stored["p-5"].matched == '"acme cloud", acme'
    assert stored["p-8"].channel == "C0FRENCH", "a route's query"

    card = mention_card(stored["p-1"], [])
    about = " ".join(element["text"] for element in card[1]["elements"])
    assert "about *Quillo*" in about and "matched quillo" in about


def test_keywords_and_exclude_still_work_as_the_simple_form(engine):
    simple = Config.model_validate(
        {"listen": {"keywords": ["acme", "acme cloud"], "exclude": ["acme careers"]}, "channels": {"default": "C0L"}}
    )
    listener = Listener(simple)
    assert listener.mentions_brand(_item(1, "ACME cloud rocks"))
    assert not listener.mentions_brand(_item(2, "acme careers open"))
    heard = listener.hear(_item(3, "acme cloud is slow"), source="s", source_kind="rss")
    assert heard is not None and heard.matched == ("acme", '"acme cloud"') and heard.product is None


def test_dana_tries_a_query_on_the_sources_recent_items_before_it_reaches_a_channel(bot, feeds):
    feeds.publish(
        "/acme.xml",
        rss(
            [
                Entry(guid="1", title="Acme is down", description="Since noon", link="https://x.example/1"),
                Entry(guid="2", title="Acme careers fair", description="Join us", link="https://x.example/2"),
                Entry(guid="3", title="Quillo news", description="Nothing else", link="https://x.example/3"),
            ]
        ),
    )
    tried = bot.cli("try", "acme -careers")
    assert tried.returncode == 0, tried.stderr
    assert tried.stdout.splitlines() == [
        "kept  acme-alerts: Acme is down Since noon  (matched acme)",
        "1 of 3 kept",
    ]
    everything = bot.cli("try", "acme OR quillo", "--source", "ACME-alerts", "--all")
    assert "kept  acme-alerts: Quillo news Nothing else  (matched quillo)" in everything.stdout
    assert "      acme-alerts: Acme careers fair" not in everything.stdout, "acme is kept: careers is not excluded"
    assert everything.stdout.endswith("3 of 3 kept\n")

    mistaken = bot.cli("try", '"acme cloud" OR (acme -careers')
    assert mistaken.returncode == 2
    assert mistaken.stderr.strip() == "allears: query: unclosed parenthesis at column 17"
    unknown = bot.cli("try", "acme", "--source", "reddit")
    assert unknown.returncode == 2 and "There is no source `reddit`. Sources: `acme-alerts`." in unknown.stderr
    assert not (bot.workdir / "allears.db").exists(), "trying stores nothing, and needs no database"
