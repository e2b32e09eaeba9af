"""Triage of "needs a human" on real airline tweets: mine and freeze on four airlines, measure on two.

    .venv/bin/python bench/triage.py            # verify the frozen lexicon, then the held-out figures
    .venv/bin/python bench/triage.py --cv       # leave-one-airline-out on the tuning airlines only
    .venv/bin/python bench/triage.py --freeze   # print the mined weights as the literal for bot/hear/triage_lexicon.py

Every word list, weight and threshold is chosen on United, US Airways, American and Southwest.
Delta and Virgin America are read only to print the final figures.
"""

import argparse
import csv
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.hear import triage as runtime  # noqa: E402
from bot.hear.triage import Category  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "customer-tweets" / "airline-tweets.csv"
TUNING = ("United", "US Airways", "American", "Southwest")
HELD_OUT = ("Delta", "Virgin America")

# --- The data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tweet:
    id: str
    airline: str
    gold: str  # negative / neutral / positive
    text: str

    @property
    def negative(self) -> bool:
        return self.gold == "negative"


# The published texts had "late", "cancel" and "booking" replaced by complaint-reason labels
# ("Cancelled Flightled" for "cancelled", "Late Flightr" for "later"), for every tweet whatever its
# label. Undone here so that what is mined is how customers write.
_LABEL_DAMAGE = (("Cancelled Flight", "cancel"), ("Late Flight", "late"), ("Flight Booking Problems", "booking"))


def repair(text: str) -> str:
    for damaged, word in _LABEL_DAMAGE:
        text = text.replace(damaged, word)
    return text


def load(airlines: Iterable[str], path: Path = DATA) -> list[Tweet]:
    """The tweets to these airlines, once per tweet id (the file repeats 155), in file order."""
    wanted, seen, tweets = set(airlines), set(), []
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            if row["airline"] in wanted and row["tweet_id"] not in seen:
                seen.add(row["tweet_id"])
                tweets.append(Tweet(row["tweet_id"], row["airline"], row["airline_sentiment"], repair(row["text"])))
    return tweets


# --- Features, exactly as the runtime reads them ---------------------------------------------------


@dataclass(frozen=True)
class Read:
    terms: tuple[str, ...]  # sorted, so that fitting is deterministic whatever the hash seed
    textblob: float
    complaints: int  # hand-written complaint phrases found, at most 3
    praise: int  # hand-written praise words found, at most 3
    question: bool


def read(text: str) -> Read:
    cleaned = runtime.clean(text)
    words, found = runtime._read(cleaned)
    return Read(
        terms=tuple(sorted(found)),
        textblob=runtime.textblob_polarity(cleaned),
        complaints=min(len(runtime.complaint_phrases(words, found)), 3),
        praise=min(len(runtime.praise_words(words, found)), 3),
        question=runtime.is_question(cleaned),
    )


# --- Mining the complaint lexicon ------------------------------------------------------------------

# Names that tell which airline a tweet is about, not what the customer needs: airline names and
# handles split into words, their brands, loyalty programmes and flight-number prefixes.
AIRLINE_WORDS = frozenset(
    "united unitedairlines ua usairways usair airways american americanair americanairlines aa southwest"
    " southwestair swa wn delta deltaassist dl virgin virginamerica vx jetblue alaska alaskaair spirit frontier"
    " hawaiian allegiant aircanada westjet aadvantage mileageplus skymiles dividend rapid rewards companion"
    " trueblue elevate premier 1k".split()
)
# Capitalised abbreviations that are not places or names.
_NOT_NAMES = frozenset("i i'd i'll i'm i've dm bs wtf omg lol smh tsa faa fyi btw imo ok tv usa".split())
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def names(tweets: Sequence[Tweet]) -> set[str]:
    """Words mostly written as names mid-sentence (Denver, ORD, Nicole): places and people tie a word
    to one airline's hubs and staff, so they are never mined."""
    title, caps, seen = Counter(), Counter(), Counter()
    for tweet in tweets:
        text = runtime._NOISE.sub(" ", tweet.text.replace("\u2019", "'"))
        letters = [c for c in text if c.isalpha()]
        if not letters or sum(c.isupper() for c in letters) > len(letters) / 2:
            continue  # a shouted tweet says nothing about names
        for match in _WORD.finditer(text):
            before = text[: match.start()].rstrip()
            if not before or before[-1] in ".!?:#\n":
                continue  # sentence starts are capitalised anyway
            word, lower = match.group(0), match.group(0).lower()
            seen[lower] += 1
            title[lower] += word[0].isupper() and word[1:].islower()
            caps[lower] += len(word) == 3 and word.isupper()
    return {
        word
        for word, n in seen.items()
        if n >= 3 and word not in _NOT_NAMES and (title[word] >= 0.6 * n or caps[word] >= 0.6 * n)
    }


MIN_COUNT = 3  # a term seen fewer times in the tuning tweets is not mined
MIN_SHARE = 2  # occurrences for a term to count as present at one airline
LEXICON_SIZE = 1000  # terms kept: the most informative by |weight| x occurrences


def candidates(tweets: Sequence[Tweet], reads: Sequence[Read]) -> set[str]:
    """Terms seen at least MIN_COUNT times, at two airlines or more, leaning the same way (more frequent
    in negative tweets, or less) at every airline where they occur, naming no airline, place or person.
    Terms made of the hand-written complaint phrases are left to that input of their own."""
    excluded = names(tweets) | AIRLINE_WORDS | runtime._COMPLAINT_WORDS
    by_airline: dict[str, list[Counter]] = defaultdict(lambda: [Counter(), Counter()])
    sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tweet, features in zip(tweets, reads, strict=True):
        by_airline[tweet.airline][tweet.negative].update(features.terms)
        sizes[tweet.airline][tweet.negative] += 1
    total = Counter()
    for rest, negative in by_airline.values():
        total.update(rest)
        total.update(negative)
    chosen = set()
    for term, n in total.items():
        if (
            n < MIN_COUNT
            or term in runtime._COMPLAINT_PAIRS
            or any(w.removeprefix("not_") in excluded for w in term.split())
        ):
            continue
        leanings = set()
        for airline, (rest, negative) in by_airline.items():
            if rest[term] + negative[term] >= MIN_SHARE:
                n_rest, n_negative = sizes[airline]
                leanings.add((negative[term] + 1) / (n_negative + 2) > (rest[term] + 1) / (n_rest + 2))
        if (
            len(leanings) == 1
            and sum(by_airline[a][0][term] + by_airline[a][1][term] >= MIN_SHARE for a in by_airline) >= 2
        ):
            chosen.add(term)
    return chosen


@dataclass
class Fit:
    intercept: float
    dense: list[float]
    terms: dict[str, float]


def logistic(
    rows: Sequence[tuple[Sequence[str], Sequence[float]]],
    labels: Sequence[bool],
    vocabulary: set[str],
    *,
    epochs: int = 5,
    rate: float = 0.1,
    seed: int = 0,
) -> Fit:
    """Class-balanced logistic regression by AdaGrad over binary terms plus dense inputs.

    Balanced, because the tuning airlines are 72% negative and a deployment's share of complaints is
    unknown: the decision is made at even odds, not at the tuning set's prior."""
    n_dense = len(rows[0][1])
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    dense, dense_squares = [0.0] * n_dense, [1e-8] * n_dense
    intercept, intercept_square = 0.0, 1e-8
    positives = sum(labels)
    class_weight = {True: len(labels) / (2 * positives), False: len(labels) / (2 * (len(labels) - positives))}
    kept = [[t for t in terms if t in vocabulary] for terms, _ in rows]
    order = list(range(len(rows)))
    shuffle = random.Random(seed).shuffle
    for _ in range(epochs):
        shuffle(order)
        for i in order:
            values, terms = rows[i][1], kept[i]
            z = (
                intercept
                + sum(weights.get(t, 0.0) for t in terms)
                + sum(w * v for w, v in zip(dense, values, strict=True))
            )
            gradient = class_weight[labels[i]] * (1 / (1 + math.exp(-max(-30.0, min(30.0, z)))) - labels[i])
            for t in terms:
                squares[t] = squares.get(t, 1e-8) + gradient * gradient
                weights[t] = weights.get(t, 0.0) - rate * gradient / math.sqrt(squares[t])
            for k, v in enumerate(values):
                dense_squares[k] += (gradient * v) ** 2
                dense[k] -= rate * gradient * v / math.sqrt(dense_squares[k])
            intercept_square += gradient * gradient
            intercept -= rate * gradient / math.sqrt(intercept_square)
    return Fit(intercept, dense, weights)


def complaint_inputs(features: Read) -> tuple[float, float]:
    return (features.textblob, features.complaints)


def mine(tweets: Sequence[Tweet], reads: Sequence[Read], *, size: int = LEXICON_SIZE) -> Fit:
    """Candidates, a first fit over all of them, the `size` most informative kept, refitted alone."""
    labels = [t.negative for t in tweets]
    rows = [(r.terms, complaint_inputs(r)) for r in reads]
    first = logistic(rows, labels, candidates(tweets, reads))
    seen = Counter(t for r in reads for t in r.terms if t in first.terms)
    kept = set(sorted(first.terms, key=lambda t: (-abs(first.terms[t]) * seen[t], t))[:size])
    fit = logistic(rows, labels, kept)
    return Fit(
        round(fit.intercept, 2), [round(w, 2) for w in fit.dense], {t: round(w, 2) for t, w in fit.terms.items()}
    )


def complaint_logit(fit: Fit, features: Read) -> float:
    return (
        fit.intercept
        + sum(w * v for w, v in zip(fit.dense, complaint_inputs(features), strict=True))
        + math.fsum(fit.terms.get(t, 0.0) for t in features.terms)
    )


def out_of_fold_logits(tweets: Sequence[Tweet], reads: Sequence[Read]) -> list[float]:
    """Each tuning tweet's complaint logit from a lexicon mined on the three other airlines."""
    logits = [0.0] * len(tweets)
    for airline in TUNING:
        train = [i for i, t in enumerate(tweets) if t.airline != airline]
        fit = mine([tweets[i] for i in train], [reads[i] for i in train])
        for i, tweet in enumerate(tweets):
            if tweet.airline == airline:
                logits[i] = complaint_logit(fit, reads[i])
    return logits


def praise_inputs(features: Read, complaint: float) -> tuple[float, ...]:
    return (features.textblob, complaint, features.praise, float(features.question), float("!" in features.terms))


def fit_praise(tweets: Sequence[Tweet], reads: Sequence[Read], complaint: Sequence[float]) -> tuple[Fit, float]:
    """Positive against the rest from a few inputs, stacked on out-of-fold complaint logits; the cut is
    the one with the best mean F1 of "positive" over the tuning airlines, each scored by a fit on the
    other three."""
    rows = [((), praise_inputs(r, z)) for r, z in zip(reads, complaint, strict=True)]
    labels = [t.gold == "positive" for t in tweets]
    held_logits = [0.0] * len(tweets)
    for airline in TUNING:
        train = [i for i, t in enumerate(tweets) if t.airline != airline]
        fit = logistic([rows[i] for i in train], [labels[i] for i in train], set())
        for i, tweet in enumerate(tweets):
            if tweet.airline == airline:
                held_logits[i] = fit.intercept + sum(w * v for w, v in zip(fit.dense, rows[i][1], strict=True))

    def mean_f1(cut: float) -> float:
        per_airline = []
        for airline in TUNING:
            theirs = [i for i, t in enumerate(tweets) if t.airline == airline]
            per_airline.append(scores([held_logits[i] > cut for i in theirs], [labels[i] for i in theirs]).f1)
        return sum(per_airline) / len(per_airline)

    cut = max((c / 10 for c in range(-30, 31)), key=lambda c: (round(mean_f1(c), 4), -abs(c)))
    fit = logistic(rows, labels, set())
    return Fit(round(fit.intercept - cut, 2), [round(w, 2) for w in fit.dense], {}), cut


def freeze_literal(complaint: Fit, praise: Fit) -> str:
    """The Python source frozen into bot/hear/triage.py: terms sorted by weight, most complaining first."""
    entries = [f"{t} {w:+.2f}" for t, w in sorted(complaint.terms.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines, line = [], ""
    for entry in entries:
        if line and len(line) + len(entry) + 1 > 115:
            lines.append(line)
            line = ""
        line = f"{line}|{entry}" if line else entry
    lines.append(line)
    body = "\n".join(lines)
    return (
        "# inputs: TextBlob polarity, complaint phrases found (at most 3)\n"
        f"_COMPLAINT_MODEL = _Linear(intercept={complaint.intercept}, weights={tuple(complaint.dense)})\n"
        '# inputs: TextBlob polarity, complaint logit, praise words (at most 3), question, "!"\n'
        f"_PRAISE_MODEL = _Linear(intercept={praise.intercept}, weights={tuple(praise.dense)})\n"
        "# A term's weight is added to the complaint logit when the term occurs (see terms()). Positive: heard\n"
        "# more from customers who need a human. Sorted from the most complaining to the least.\n"
        f'LEXICON = """\n{body}\n"""\n'
    )


# --- Measuring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def __str__(self) -> str:
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"


def scores(predicted: Sequence[bool], gold: Sequence[bool]) -> Scores:
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    precision = tp / max(1, sum(predicted))
    recall = tp / max(1, sum(gold))
    return Scores(precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0)


def auc(values: Sequence[float], gold: Sequence[bool]) -> float:
    """Area under the ROC curve: threshold-free, so it compares scorers whatever the cut."""
    ranked = sorted(zip(values, gold, strict=True))
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        rank_sum += (i + j + 1) / 2 * sum(g for _, g in ranked[i:j])
        i = j
    positives = sum(gold)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * (len(gold) - positives))


def cross_validate(tweets: Sequence[Tweet], reads: Sequence[Read]) -> None:
    """Leave one tuning airline out: mine on three, score the fourth. The only loop we iterate on."""
    print("Leave-one-airline-out on the tuning airlines (mined on the other three each time):")
    f1s = []
    for airline in TUNING:
        train = [i for i, t in enumerate(tweets) if t.airline != airline]
        test = [i for i, t in enumerate(tweets) if t.airline == airline]
        fit = mine([tweets[i] for i in train], [reads[i] for i in train])
        logits = [complaint_logit(fit, reads[i]) for i in test]
        gold = [tweets[i].negative for i in test]
        result = scores([z > 0 for z in logits], gold)
        f1s.append(result.f1)
        share = sum(gold) / len(gold)
        print(f"  {airline:<11} n={len(test):>5}  negative {share:.0%}  {result}  AUC {auc(logits, gold):.3f}")
    print(f"  mean F1 {sum(f1s) / len(f1s):.3f}")


def show_mining(tweets: Sequence[Tweet], reads: Sequence[Read], complaint: Fit, praise: Fit, cut: float) -> None:
    found = candidates(tweets, reads)
    named = names(tweets)
    ranked = sorted(complaint.terms.items(), key=lambda kv: (-kv[1], kv[0]))
    print(
        f"Mined on {len(tweets)} tuning tweets: {len(found)} candidate terms, each seen >= {MIN_COUNT} times, at two"
        " airlines or more, leaning the same way (towards negative or not) at every airline where it occurs."
    )
    print(
        f"  Never mined: {len(AIRLINE_WORDS)} airline words and {len(named)} names found in the tuning tweets"
        f" ({', '.join(sorted(named - AIRLINE_WORDS)[:10])}, ...)."
    )
    print(
        "  Weighted by a class-balanced logistic regression over the candidates plus TextBlob polarity and the"
        f" hand-written complaint phrases; the {len(complaint.terms)} most informative (|weight| x occurrences) kept"
        " and refitted."
    )
    print("  most complaining:", ", ".join(f"{t} {w:+.2f}" for t, w in ranked[:12]))
    print("  least complaining:", ", ".join(f"{t} {w:+.2f}" for t, w in ranked[-8:]))
    print(
        f"  intercept {complaint.intercept:+.2f}, TextBlob polarity {complaint.dense[0]:+.2f}, per complaint phrase"
        f" {complaint.dense[1]:+.2f}; needs a human when the logit > 0 (even odds)"
    )
    print(f"  praise against the rest: weights {praise.dense}, cut {cut:+.1f} on its out-of-fold logit")


def verify_frozen(tweets: Sequence[Tweet], reads: Sequence[Read], complaint: Fit, praise: Fit) -> bool:
    """The literal in bot/hear/triage.py is what this script mines today, and triage() decides as the fit does."""
    frozen = runtime._LEXICON
    differing = {
        t for t in set(frozen) | set(complaint.terms) if abs(frozen.get(t, 0.0) - complaint.terms.get(t, 0.0)) > 0.011
    }
    same_model = (
        runtime._COMPLAINT_MODEL.intercept == complaint.intercept
        and list(runtime._COMPLAINT_MODEL.weights) == complaint.dense
        and runtime._PRAISE_MODEL.intercept == praise.intercept
        and list(runtime._PRAISE_MODEL.weights) == praise.dense
    )
    decided = sum(
        runtime.triage(t.text).needs_human == (complaint_logit(complaint, r) > 0)
        for t, r in zip(tweets, reads, strict=True)
    )
    print(
        f"Frozen lexicon in bot/hear/triage_lexicon.py: {len(frozen) - len(differing & set(frozen))}/{len(frozen)}"
        " terms as mined,"
        f" {'same' if same_model else 'DIFFERENT'} intercepts and weights; triage() agrees with the fit on"
        f" {decided}/{len(tweets)} tuning tweets"
    )
    if differing:
        print("  differing terms:", ", ".join(sorted(differing)[:20]), "- run --freeze and paste the literal")
    return not differing and same_model and decided == len(tweets)


def textblob_agreement(tweets: Sequence[Tweet]) -> None:
    from textblob import TextBlob

    cleaned = [runtime.clean(t.text) for t in tweets]
    same = sum(abs(TextBlob(c).sentiment.polarity - runtime.textblob_polarity(c)) < 1e-9 for c in cleaned)
    print(f"TextBlob polarity re-implemented: equal to TextBlob's on {same / len(cleaned):.1%} of tuning tweets")


def sklearn_rows(tuning: Sequence[Tweet], held_out: Sequence[Tweet]) -> list[tuple[str, list[bool]]]:
    """A TF-IDF logistic regression trained on the tuning airlines, for comparison only."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        print("(scikit-learn not installed: no TF-IDF comparison row)")
        return []
    vectorizer = TfidfVectorizer(preprocessor=runtime.clean, ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    train = vectorizer.fit_transform([t.text for t in tuning])
    test = vectorizer.transform([t.text for t in held_out])
    rows = []
    for name, weight in (("TF-IDF 1-2 grams + logistic regression", None), ("  same, class-balanced", "balanced")):
        model = LogisticRegression(C=4.0, max_iter=2000, class_weight=weight).fit(train, [t.negative for t in tuning])
        rows.append((name, [bool(p) for p in model.predict(test)]))
    return rows


GOLD_CATEGORY = {"negative": Category.COMPLAINT, "positive": Category.PRAISE}


def gold_category(tweet: Tweet) -> Category:
    if tweet.gold in GOLD_CATEGORY:
        return GOLD_CATEGORY[tweet.gold]
    return Category.QUESTION if "?" in tweet.text else Category.OTHER


def evaluate(tuning: Sequence[Tweet], held_out: Sequence[Tweet]) -> None:
    from textblob import TextBlob

    gold = [t.negative for t in held_out]
    results = [runtime.triage(t.text) for t in held_out]
    share = sum(gold) / len(gold)
    print(f"\nHeld out: {', '.join(HELD_OUT)}: {len(held_out)} tweets, {share:.0%} negative (gold needs a human)")
    rows = [
        ("TextBlob polarity <= 0 (baseline)", [TextBlob(t.text).sentiment.polarity <= 0 for t in held_out]),
        *sklearn_rows(tuning, held_out),
        ("triage() needs_human", [r.needs_human for r in results]),
    ]
    for name, predicted in rows:
        by_airline = []
        for airline in HELD_OUT:
            pairs = [(p, t.negative) for p, t in zip(predicted, held_out, strict=True) if t.airline == airline]
            by_airline.append(f"{airline} {scores(*zip(*pairs, strict=True)).f1:.3f}")
        print(f"  {name:<40} {scores(predicted, gold)}   (F1 {', '.join(by_airline)})")

    print("\nCategory, gold mapping: negative -> complaint; positive -> praise; neutral with '?' -> question;")
    print("other neutral -> other (the data has no feature-request label). Rows gold, columns triage():")
    order = list(Category)
    confusion = Counter((gold_category(t), r.category) for t, r in zip(held_out, results, strict=True))
    print("  " + " " * 16 + "".join(f"{c.value:>17}" for c in order) + "   recall")
    for g in order:
        total = sum(confusion[(g, c)] for c in order)
        if total:
            print(
                f"  {g.value:<16}"
                + "".join(f"{confusion[(g, c)]:>17}" for c in order)
                + f"   {confusion[(g, g)] / total:.3f}"
            )
    agree = sum(confusion[(c, c)] for c in order)
    print(f"  agreement {agree / len(held_out):.3f}")
    sentiment_agree = sum(r.sentiment.value == t.gold for t, r in zip(held_out, results, strict=True))
    print(f"  sentiment (negative/neutral/positive) equal to gold on {sentiment_agree / len(held_out):.3f}")
    urgency = Counter(r.urgency.value for r in results)
    print(f"  urgency: {dict(sorted(urgency.items()))}")


def throughput(texts: Sequence[str]) -> None:
    from textblob import TextBlob

    runtime.triage("warm up")
    best = min(_timed(lambda: [runtime.triage(t) for t in texts]) for _ in range(3))
    textblob = min(_timed(lambda: [TextBlob(t).sentiment.polarity for t in texts]) for _ in range(2))
    print(
        f"\nThroughput on one core: triage() {len(texts) / best:,.0f} texts/s"
        f" (TextBlob(text).sentiment alone: {len(texts) / textblob:,.0f} texts/s), over {len(texts)} tweets"
    )


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cv", action="store_true", help="leave-one-airline-out on the tuning airlines")
    parser.add_argument("--freeze", action="store_true", help="print the mined lexicon as a Python literal")
    args = parser.parse_args()
    tuning = load(TUNING)
    reads = [read(t.text) for t in tuning]
    if args.cv:
        cross_validate(tuning, reads)
        return
    complaint = mine(tuning, reads)
    praise, cut = fit_praise(tuning, reads, out_of_fold_logits(tuning, reads))
    if args.freeze:
        print(freeze_literal(complaint, praise), end="")
        return
    show_mining(tuning, reads, complaint, praise, cut)
    frozen = verify_frozen(tuning, reads, complaint, praise)
    textblob_agreement(tuning)
    held_out = load(HELD_OUT)
    evaluate(tuning, held_out)
    throughput([t.text for t in held_out])
    if not frozen:
        sys.exit(
            "the frozen lexicon is not what the tuning data mines: run --freeze and update bot/hear/triage_lexicon.py"
        )


if __name__ == "__main__":
    main()
