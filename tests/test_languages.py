"""Languages: each mention knows the language it is written in, its card says it, routes and queries ask
for it, and a team that reads only some languages hears only those."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.ground.config import Config, load_config
from bot.ground.errors import ConfigError
from bot.ground.models import Mention
from bot.hear.languages import language_of
from bot.hear.polling import Listener, store
from bot.hear.sources import Item
from bot.slack.cards import mention_card

_NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FRENCH = "Acme est en panne depuis ce matin et personne ne répond au téléphone, c'est inadmissible"
GERMAN = "Acme funktioniert seit gestern nicht mehr und der Kundendienst antwortet einfach nicht"
ENGLISH = "Acme has been down since this morning and nobody answers the phone, unacceptable"


def _config(**listen: object) -> Config:
    return Config.model_validate(
        {
            "listen": {"keywords": ["acme"], **listen},
            "channels": {"default": "C0LISTEN"},
            "routes": [{"channel": "C0FRENCH", "query": "lang:fr"}],
        }
    )


def _store(engine, config: Config, *texts: str) -> dict[str, Mention]:
    items = [Item(external_id=f"p-{n}", text=text, author=f"author-{n}") for n, text in enumerate(texts)]
    with Session(engine) as session:
        store(session, Listener(config), items, source="fediverse", source_kind="mastodon", now=_NOW)
        session.commit()
        return {mention.text: mention for mention in session.exec(select(Mention))}


def test_a_french_complaint_goes_to_the_french_team_and_its_card_says_french(engine):
    stored = _store(engine, _config(), FRENCH, ENGLISH)

    assert stored[FRENCH].lang == "fr" and stored[FRENCH].channel == "C0FRENCH"
    assert stored[ENGLISH].lang == "en" and stored[ENGLISH].channel == "C0LISTEN"
    about = " ".join(element["text"] for element in mention_card(stored[FRENCH], [])[1]["elements"])
    assert "in French" in about


def test_a_team_that_reads_english_and_french_hears_no_german_but_keeps_what_the_detector_is_unsure_of(engine):
    stored = _store(engine, _config(languages=["en", "FR"]), FRENCH, GERMAN, ENGLISH, "acme!!! 😡")

    assert set(stored) == {FRENCH, ENGLISH, "acme!!! 😡"}
    assert stored["acme!!! 😡"].lang is None, "too little to tell: kept, and its card names no language"
    about = " ".join(element["text"] for element in mention_card(stored["acme!!! 😡"], [])[1]["elements"])
    assert " in " not in about


def test_the_detector_names_a_language_only_when_it_is_fairly_sure():
    assert language_of(GERMAN) == "de"
    assert language_of("Acme n'a pas répondu à ma demande de remboursement") == "fr"
    assert language_of("12345 :) https://acme.io") is None
    assert language_of("") is None


@pytest.mark.parametrize("code", ["english", "e", "f-r", "12"])
def test_a_language_that_is_not_a_code_is_refused_at_load_with_what_to_write(tmp_path: Path, code: str):
    path = tmp_path / "allears.toml"
    path.write_text(f'[listen]\nkeywords = ["acme"]\nlanguages = ["{code}"]\n[channels]\ndefault = "C0LISTEN"\n')
    with pytest.raises(ConfigError, match=rf"listen\.languages.*'{code}' is not a language code: use ISO 639-1"):
        load_config(path)


def test_languages_are_detected_only_when_the_config_asks_about_them_or_says_so(engine):
    plain = Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}})
    assert not plain.detects_languages, "the detector's model costs 75 MB: not loaded for nothing"
    assert _store(engine, plain, FRENCH)[FRENCH].lang is None

    told = Config.model_validate(
        {"listen": {"keywords": ["acme"], "detect_languages": True}, "channels": {"default": "C0LISTEN"}}
    )
    assert told.detects_languages and _store(engine, told, FRENCH, GERMAN)[GERMAN].lang == "de"
    product_route = {"name": "Quillo", "query": "quillo", "routes": [{"channel": "C0FR", "query": "-lang:fr"}]}
    assert Config.model_validate(
        {"listen": {"keywords": ["acme"], "products": [product_route]}, "channels": {"default": "C0L"}}
    ).detects_languages
