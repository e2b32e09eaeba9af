"""The relevance model learns from what the team does: Ana claims the customers' complaints, Ben puts away
what is about some other Acme, and once it has seen enough of both, every new mention gets a score, the
same in every process, shown on its card."""

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.act.learning import learn
from bot.ground.db import session_scope
from bot.ground.models import Mention, RelevanceModel
from bot.hear import relevance
from bot.slack.cards import mention_card
from tests.teaching import about_another_acme, complaints, hear, teach


def _scores(engine: Engine, ids: list[int]) -> list[float | None]:
    with Session(engine) as session:
        return [session.get(Mention, mention_id).relevance for mention_id in ids]


def test_after_thirty_labels_of_each_kind_new_mentions_are_scored_and_the_card_says_so(engine, shared_data):
    relevance.forget()
    teach(engine, shared_data, 40)
    learned = learn(engine)
    assert learned.labels == 80 and not learned.relearned

    held_out_complaints = complaints(shared_data, 60)[40:]
    held_out_films = about_another_acme(shared_data, 60)[40:]
    complaint_ids = hear(engine, held_out_complaints, 100, "support-feed")
    film_ids = hear(engine, held_out_films, 100, "elsewhere")
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
    teach(engine, shared_data, 29)
    assert learn(engine).labels == 58
    [later] = hear(engine, complaints(shared_data, 30)[29:], 200, "support-feed")
    assert _scores(engine, [later]) == [None]
    with Session(engine) as session:
        mention = session.get(Mention, later)
        assert "relevance" not in str(mention_card(mention, []))


def test_another_process_scores_with_the_same_stored_model(engine, shared_data):
    relevance.forget()
    teach(engine, shared_data, 35)
    learn(engine)
    text = complaints(shared_data, 36)[35]
    row = {"title": None, "text": text, "source": "support-feed", "source_kind": "rss", "author": "z", "url": None}
    with Session(engine) as session:
        here = relevance.scores(session, [row])
    program = (
        "import json, sys; from sqlmodel import Session; from bot.ground.db import make_engine; "
        "from bot.hear import relevance; engine = make_engine(sys.argv[1]); "
        "print(json.dumps(relevance.scores(Session(engine), [json.loads(sys.argv[2])])))"
    )
    there = subprocess.run(
        [sys.executable, "-c", program, engine.url.render_as_string(hide_password=False), json.dumps(row)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert json.loads(there.stdout) == here and here[0] is not None


def test_a_stored_model_another_version_wrote_is_learned_again_from_every_label(engine, shared_data):
    relevance.forget()
    teach(engine, shared_data, 30)
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
