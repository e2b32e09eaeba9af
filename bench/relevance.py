"""How well the relevance model (`bot.hear.relevance`) tells mentions worth a person's time from the rest,
as a team teaching it one label at a time would, on data it was not tuned on.

    .venv/bin/python bench/relevance.py

No public set labels mentions relevant or not for a brand, so this one is built from real texts in
../shared/data: relevant are customers' tweets to airlines, the airline renamed Acme (what a support team
claims); not relevant are sentences about films and general tweets, each given an "Acme" (another company's
Acme, chatter that names the brand in passing: what the team puts away). Tuning: tweets to United, US
Airways, American and Southwest, the first half of the film sentences and of TweetEval. Held out: tweets to
Delta and Virgin America, the other halves. The labels arrive in a shuffled order, ten at a time (a busy
minute), and the model is measured on the held-out set after 30, 100, 300 and 1,000 of each kind.

Baselines: keeping everything (what the bot did before: every mention a card), and TF-IDF with a logistic
regression trained on all the tuning labels at once (what a batch model could reach with the same labels).
"""

import csv
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from bot.hear import relevance  # noqa: E402

_AIRLINES = re.compile(r"@?(VirginAmerica|united|SouthwestAir|JetBlue|USAirways|AmericanAir|Delta)\b", re.I)
HELD_OUT_AIRLINES = {"Delta", "Virgin America"}
CHECKPOINTS = (30, 100, 300, 1000)
MUTE_BELOW = 0.2
CANDIDATES = [{"alpha": alpha, "average": average} for alpha in (1e-5, 1e-4, 1e-3) for average in (False, True)]
SHIPPED = {"alpha": 1e-4, "average": True}
"""What `bot.hear.relevance.new_classifier` uses: the settings this bench chose on validation (2026-12-07)."""


def data() -> tuple[list[tuple[dict[str, str], int]], list[tuple[dict[str, str], int]]]:
    tuning: list[tuple[dict[str, str], int]] = []
    held_out: list[tuple[dict[str, str], int]] = []
    with (SHARED / "customer-tweets" / "airline-tweets.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            if not _AIRLINES.search(row["text"]):
                continue
            mention = _row(_AIRLINES.sub("Acme", row["text"]), row["name"])
            (held_out if row["airline"] in HELD_OUT_AIRLINES else tuning).append((mention, 1))
    films = (SHARED / "sentiment-extra" / "uci-imdb_labelled.txt").read_text(encoding="utf-8").splitlines()
    chatter = (SHARED / "sentiment-extra" / "tweeteval-sentiment-val_text.txt").read_text(encoding="utf-8")
    for texts in ([line.split("\t")[0] for line in films], chatter.splitlines()):
        half = len(texts) // 2
        for n, text in enumerate(texts):
            mention = _row(_with_acme(text, n), f"person{n}")
            (tuning if n < half else held_out).append((mention, 0))
    return tuning, held_out


def _row(text: str, author: str) -> dict[str, str]:
    return {"text": text, "source": "social", "source_kind": "rss", "author": author}


def _with_acme(text: str, n: int) -> str:
    words = text.split()
    at = n % (len(words) + 1)
    return " ".join([*words[:at], "Acme", *words[at:]])


def measure(scores: list[float], labels: list[int]) -> str:
    from sklearn.metrics import roc_auc_score

    right = sum((score >= 0.5) == bool(label) for score, label in zip(scores, labels, strict=True))
    relevant = [score for score, label in zip(scores, labels, strict=True) if label]
    other = [score for score, label in zip(scores, labels, strict=True) if not label]
    muted_right = sum(score < MUTE_BELOW for score in other) / len(other)
    muted_wrong = sum(score < MUTE_BELOW for score in relevant) / len(relevant)
    return f"{roc_auc_score(labels, scores):.3f} | {right / len(labels):.1%} | {muted_right:.1%} | {muted_wrong:.2%}"


def learning(relevant, other, rng_seed: int, rows, labels, **settings: object) -> list[list[float]]:
    """Scores of `rows` after each checkpoint, the labels arriving shuffled, ten at a time."""
    from sklearn.linear_model import SGDClassifier

    rng = random.Random(rng_seed)
    classifier = SGDClassifier(loss="log_loss", random_state=0, **settings)  # type: ignore[arg-type]
    features = relevance.features(rows)
    taught, scores = 0, []
    for checkpoint in CHECKPOINTS:
        arriving = relevant[taught:checkpoint] + other[taught:checkpoint]
        rng.shuffle(arriving)
        for start in range(0, len(arriving), 10):
            batch = arriving[start : start + 10]
            classifier.partial_fit(
                relevance.features([row for row, _ in batch]), [label for _, label in batch], classes=[0, 1]
            )
        taught = checkpoint
        scores.append(list(classifier.predict_proba(features)[:, 1]))
    return scores


def main() -> None:
    from sklearn.metrics import log_loss

    tuning, held_out = data()
    rng = random.Random(7)
    relevant = [example for example in tuning if example[1]]
    other = [example for example in tuning if not example[1]]
    rng.shuffle(relevant)
    rng.shuffle(other)
    # The settings are chosen on a validation part of the tuning data, never on the held-out set.
    validation = relevant[-500:] + other[-500:]
    teach_relevant, teach_other = relevant[:-500], other[:-500]
    valid_rows, valid_labels = [row for row, _ in validation], [label for _, label in validation]
    print("| settings (validation, mean log loss over the checkpoints) | log loss |")
    print("|---|---|")
    tried = {}
    for settings in CANDIDATES:
        runs = learning(teach_relevant, teach_other, 7, valid_rows, valid_labels, **settings)
        tried[tuple(settings.items())] = sum(log_loss(valid_labels, run) for run in runs) / len(runs)
        print(f"| {settings} | {tried[tuple(settings.items())]:.3f} |")
    chosen = dict(min(tried, key=tried.__getitem__))
    print()
    test_rows, test_labels = [row for row, _ in held_out], [label for _, label in held_out]
    print(f"held out: {sum(test_labels):,} relevant, {len(test_labels) - sum(test_labels):,} not; chosen {chosen}")
    print(f"(All Ears ships {SHIPPED}). Muted: scored below {MUTE_BELOW}.")
    print()
    print("| model | labels of each kind | ROC AUC | right at 0.5 | not relevant muted | relevant muted |")
    print("|---|---|---|---|---|---|")
    share = sum(test_labels) / len(test_labels)
    print(f"| keep everything (before) | 0 | 0.500 | {share:.1%} | 0.0% | 0.00% |")
    for name, settings in [("shipped", SHIPPED)] + ([("chosen", chosen)] if chosen != SHIPPED else []):
        runs = learning(teach_relevant, teach_other, 7, test_rows, test_labels, **settings)
        for checkpoint, scores in zip(CHECKPOINTS, runs, strict=True):
            print(f"| SGD, ten at a time, {name} | {checkpoint:,} | {measure(scores, test_labels)} |")
    last = CHECKPOINTS[-1]
    batch = _batch(teach_relevant, teach_other, last, held_out)
    print(f"| TF-IDF + logistic regression, all at once | {last:,} | {batch} |")


def _batch(relevant, other, count, held_out) -> str:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = relevant[:count] + other[:count]
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    model = LogisticRegression(max_iter=1000).fit(
        vectorizer.fit_transform([row["text"] for row, _ in examples]), [label for _, label in examples]
    )
    scores = list(model.predict_proba(vectorizer.transform([row["text"] for row, _ in held_out]))[:, 1])
    return measure(scores, [label for _, label in held_out])


if __name__ == "__main__":
    main()
