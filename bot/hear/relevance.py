"""How likely a mention is worth a person's time, by a small model of the workspace's own that learns from
what its team does (`bot.act.learning`): scikit-learn's logistic regression trained by SGD, one label at a
time, over hashed word and character n-grams of the text and the mention's source, author and site.

The model lives in the database (`RelevanceModel`), so every process scores with the same one; a process
looks for a newer one at most every `LOOK_EVERY`. It scores only once the team has given `ENOUGH` labels of
each kind; before that, and whenever its stored copy cannot be read, mentions get no score. The stored copy
is a pickle the bot wrote itself into its own database, read back only by the same scikit-learn version."""

import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from bot.ground.models import MentionStatus, RelevanceModel
from bot.hear.matching import host_of

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import SGDClassifier

ENOUGH = 30
"""Labels of each kind (relevant, not relevant) before the model's scores are used."""
LOOK_EVERY = 10.0
"""Seconds between two looks at the stored model's version."""
KEEP_SCORES = 500
"""The relevant labels' scores kept to set the muting bar: the latest, as the model moves on."""
WORDS, CHARACTERS, FACTS = 2**16, 2**16, 2**12
"""Hashed feature sizes: word 1–2-grams, character 3–5-grams, and source, author and site."""


@dataclass(frozen=True)
class Muting:
    """What storing does with the scores (`bot.hear.batches.Batch`): mutes what scores under the bar, and, with
    an LLM configured, holds back for it what scores between the bar and `UNSURE_BELOW`."""

    miss_at_most: float
    asks_llm: bool = False

    def holds_back(self, score: float, bar: float | None) -> MentionStatus | None:
        """What becomes of a mention with this score instead of a card, if anything."""
        if bar is None or score >= (UNSURE_BELOW if self.asks_llm else bar):
            return None
        return MentionStatus.MUTED if score < bar else MentionStatus.CHECKING


UNSURE_BELOW = 0.5
"""Over the bar but under this, the model is unsure: the LLM, when there is one, decides (`bot.hear.llm`)."""


@dataclass(frozen=True)
class Model:
    """The stored model as a process holds it."""

    version: int
    classifier: "SGDClassifier | None"
    relevant: int = 0
    not_relevant: int = 0
    relevant_scores: tuple[float, ...] = ()

    @property
    def on(self) -> bool:
        return self.classifier is not None and min(self.relevant, self.not_relevant) >= ENOUGH

    def scores(self, rows: Sequence[Mapping[str, Any]]) -> list[float | None]:
        if not rows or not self.on:
            return [None] * len(rows)
        assert self.classifier is not None
        return [round(float(p), 4) for p in self.classifier.predict_proba(features(rows))[:, 1]]

    def mute_below(self, miss_at_most: float) -> float | None:
        """The score under which a mention is muted, or None while the model is off or has scored too few
        relevant labels to say.

        Split-conformal: the scores the model gave relevant mentions before it learned them stand for the scores
        it will give the next relevant ones, so the k-th lowest of n, k = ⌊miss_at_most · (n + 1)⌋, mutes at
        most about that share of them, whatever the scores' calibration. Never above `UNSURE_BELOW`: muting is for
        what the model finds more likely not relevant than relevant."""
        scores = sorted(self.relevant_scores)
        lowest = int(miss_at_most * (len(scores) + 1))
        if not self.on or lowest < 1:
            return None
        return min(scores[lowest - 1], UNSURE_BELOW)


def features(rows: Sequence[Mapping[str, Any]]) -> "csr_matrix":
    """Mentions (a mention's columns by name: title, text, source, source_kind, author, url) as one row each."""
    from scipy.sparse import hstack

    words, characters, facts = _vectorizers()
    texts = [f"{row.get('title') or ''}\n{row.get('text') or ''}" for row in rows]
    return hstack(
        [words.transform(texts), characters.transform(texts), facts.transform([_facts(row) for row in rows])]
    ).tocsr()


def new_classifier() -> "SGDClassifier":
    from sklearn.linear_model import SGDClassifier

    # Averaged SGD: its scores swing far less from one batch of labels to the next (bench/relevance.py).
    return SGDClassifier(loss="log_loss", alpha=1e-4, average=True, random_state=0)


def fitted(classifier: "SGDClassifier") -> bool:
    """Whether it has learned anything yet, and so can score."""
    return hasattr(classifier, "coef_")


def dumps(classifier: "SGDClassifier") -> tuple[bytes, str]:
    return pickle.dumps(classifier, protocol=pickle.HIGHEST_PROTOCOL), _library()


def loads(stored: RelevanceModel) -> "SGDClassifier | None":
    """The stored classifier, or None when there is none or another scikit-learn wrote it."""
    if stored.model is None or stored.library != _library():
        return None
    try:
        classifier = pickle.loads(stored.model)  # noqa: S301 - written by this bot into its own database
    except Exception:
        return None
    return classifier if hasattr(classifier, "predict_proba") else None


def scores(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[float | None]:
    """Each mention's chance of being relevant, or None for all while the model is off."""
    return current(session).scores(rows)


def current(session: Session) -> Model:
    """This process's copy of the stored model, read again when the stored one has a newer version."""
    bind = session.get_bind()
    database = str(bind.engine.url)
    now = time.monotonic()
    held, looked_at = _held.get(database, (_NONE, float("-inf")))
    if now - looked_at < LOOK_EVERY:
        return held
    version = session.exec(select(RelevanceModel.version).where(col(RelevanceModel.id) == 1)).first()
    if version is None:
        held = Model(version=0, classifier=None)
    elif version != held.version:
        stored = session.get(RelevanceModel, 1)
        assert stored is not None
        held = Model(
            stored.version, loads(stored), stored.relevant, stored.not_relevant, tuple(stored.relevant_scores or ())
        )
    with _lock:
        _held[database] = (held, now)
    return held


def forget() -> None:
    """Look at the stored model at the next score, whatever the time: after saving one, and in tests."""
    with _lock:
        _held.clear()


def _facts(row: Mapping[str, Any]) -> list[str]:
    facts = [f"source={row.get('source') or ''}", f"kind={row.get('source_kind') or ''}"]
    if row.get("author"):
        facts.append(f"author={str(row['author']).casefold()}")
    if host := host_of(str(row.get("url") or "")):
        facts.append(f"site={host}")
    return facts


@cache
def _vectorizers() -> tuple[Any, Any, Any]:
    from sklearn.feature_extraction.text import HashingVectorizer

    return (
        HashingVectorizer(n_features=WORDS, ngram_range=(1, 2), alternate_sign=False),
        HashingVectorizer(n_features=CHARACTERS, analyzer="char_wb", ngram_range=(3, 5), alternate_sign=False),
        HashingVectorizer(n_features=FACTS, analyzer=_as_given, alternate_sign=False),
    )


def _as_given(facts: list[str]) -> list[str]:
    return facts


@cache
def _library() -> str:
    import sklearn

    return f"scikit-learn {sklearn.__version__}"


_NONE = Model(version=-1, classifier=None)
_lock = threading.Lock()
_held: dict[str, tuple[Model, float]] = {}
"""By database: a process (or a test) may use several."""
