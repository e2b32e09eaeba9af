"""The relevance model learns from what the team does: Ana claims the customers' complaints, Ben puts away
what is about some other Acme, and once it has seen enough of both, every new mention gets a score, the
same in every process, shown on its card."""

import csv
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.act import actions
from bot.act.learning import learn
from bot.ground.config import Config
from bot.ground.db import session_scope
from bot.ground.models import Mention, Outcome, RelevanceModel
from bot.hear import relevance
from bot.hear.polling import Listener, store
from bot.hear.sources import Item
from bot.slack.cards import mention_card

_NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
_AIRLINES = re.compile(r"@?(VirginAmerica|united|SouthwestAir|JetBlue|USAirways|AmericanAir|Delta)\b", re.I)
LISTENER = Listener(Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0L"}}))


def complaints(shared_data: Path, count: int) -> list[str]:
    """Real customers' complaints, to an airline renamed Acme."""
    with (shared_data / "customer-tweets" / "airline-tweets.csv").open(encoding="utf-8", newline="") as file:
        rows = [row["text"] for row in csv.DictReader(file) if row["airline_sentiment"] == "negative"]
    return [_AIRLINES.sub("Acme", text) for text in rows if _AIRLINES.search(text)][:count]


def about_another_acme(shared_data: Path, count: int) -> list[str]:
    """Real sentences about films, as if a film studio were called Acme too."""
    lines = (shared_data / "sentiment-extra" / "uci-imdb_labelled.txt").read_text(encoding="utf-8").splitlines()
    return [f"{line.split(chr(9))[0]} (Acme Pictures)" for line in lines[:count]]


def _heard(engine: Engine, texts: list[str], first: int, source: str) -> list[int]:
    items = [
        Item(external_id=f"{source}-{first + n}", text=text, author=f"a{first + n}") for n, text in enumerate(texts)
    ]
    with session_scope(engine) as session:
        store(session, LISTENER, items, source=source, source_kind="rss", now=_NOW)
    with Session(engine) as session:
        ids = {m.external_id: m.id for m in session.exec(select(Mention).where(Mention.source == source))}
    return [ids[item.external_id] for item in items]


def _teach(engine: Engine, shared_data: Path, each: int) -> None:
    relevant = _heard(engine, complaints(shared_data, each), 0, "support-feed")
    not_relevant = _heard(engine, about_another_acme(shared_data, each), 0, "news-feed")
    with session_scope(engine) as session:
        for mention_id in relevant:
            actions.claim(session, mention_id=mention_id, user_id="U_ANA")
        for mention_id in not_relevant:
            actions.resolve(session, mention_id=mention_id, user_id="U_BEN", outcome=Outcome.NOT_RELEVANT)


def _scores(engine: Engine, ids: list[int]) -> list[float | None]:
    with Session(engine) as session:
        return [session.get(Mention, mention_id).relevance for mention_id in ids]


def test_after_thirty_labels_of_each_kind_new_mentions_are_scored_and_the_card_says_so(engine, shared_data):
    relevance.forget()
    _teach(engine, shared_data, 40)
    learned = learn(engine)
    assert learned.labels == 80 and not learned.relearned

    held_out_complaints = complaints(shared_data, 60)[40:]
    held_out_films = about_another_acme(shared_data, 60)[40:]
    complaint_ids = _heard(engine, held_out_complaints, 100, "support-feed")
    film_ids = _heard(engine, held_out_films, 100, "elsewhere")
    complaint_scores, film_scores = _scores(engine, complaint_ids), _scores(engine, film_ids)

    assert all(score is not None for score in complaint_scores + film_scores)
    right = sum(score > 0.5 for score in complaint_scores) + sum(score < 0.5 for score in film_scores)
    assert right >= 36, f"{right} of 40 held-out mentions on the right side"
    with Session(engine) as session:
        mention = session.get(Mention, complaint_ids[0])
        about = " ".join(element["text"] for element in mention_card(mention, [])[1]["elements"])
    assert f"relevance {round(100 * complaint_scores[0])}%" in about

    assert learn(engine).labels == 0, "nothing new to learn"


def test_with_fewer_than_thirty_of_a_kind_no_mention_gets_a_score(engine, shared_data):
    relevance.forget()
    _teach(engine, shared_data, 29)
    assert learn(engine).labels == 58
    [later] = _heard(engine, complaints(shared_data, 30)[29:], 200, "support-feed")
    assert _scores(engine, [later]) == [None]
    with Session(engine) as session:
        mention = session.get(Mention, later)
        assert "relevance" not in str(mention_card(mention, []))


def test_another_process_scores_with_the_same_stored_model(sqlite_engine, shared_data):
    relevance.forget()
    _teach(sqlite_engine, shared_data, 35)
    learn(sqlite_engine)
    text = complaints(shared_data, 36)[35]
    row = {"title": None, "text": text, "source": "support-feed", "source_kind": "rss", "author": "z", "url": None}
    with Session(sqlite_engine) as session:
        here = relevance.scores(session, [row])
    program = (
        "import json, sys; from sqlmodel import Session; from bot.ground.db import make_engine; "
        "from bot.hear import relevance; engine = make_engine(sys.argv[1]); "
        "print(json.dumps(relevance.scores(Session(engine), [json.loads(sys.argv[2])])))"
    )
    there = subprocess.run(
        [sys.executable, "-c", program, str(sqlite_engine.url), json.dumps(row)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert json.loads(there.stdout) == here and here[0] is not None


def test_a_stored_model_another_version_wrote_is_learned_again_from_every_label(engine, shared_data):
    relevance.forget()
    _teach(engine, shared_data, 30)
    learn(engine)
    with session_scope(engine) as session:
        stored = session.get(RelevanceModel, 1)
        assert stored is not None and stored.relevant == 30 and stored.not_relevant == 30
        stored.library = "scikit-learn 0.1"
        session.add(stored)

    again = learn(engine)
    assert again.relearned and again.labels == 60
    with Session(engine) as session:
        assert relevance.current(session).on


def test_a_workspace_nobody_has_labelled_in_never_loads_scikit_learn(sqlite_engine):
    """Its import costs a second of CPU and tens of MB, beside the first poll of a bot just started."""
    program = (
        "import sys; from sqlmodel import Session; from bot.ground.db import make_engine; "
        "from bot.act.learning import learn; from bot.hear import relevance; engine = make_engine(sys.argv[1]); "
        "print(learn(engine).labels, relevance.scores(Session(engine), [{'text': 'Acme'}]), 'sklearn' in sys.modules)"
    )
    there = subprocess.run(
        [sys.executable, "-c", program, str(sqlite_engine.url)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert there.stdout.split() == ["0", "[None]", "False"]
