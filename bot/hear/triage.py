"""Which mentions need a human now, how urgently, and what kind they are.

One linear score decides "needs a human": a logistic regression over words, negated words and word pairs,
the mean of the words' vectors in a table distilled from a sentence-embedding model (all-MiniLM-L6-v2),
plus TextBlob's polarity, VADER's valence lexicon and hand-written complaint phrases, fitted by
`bench/triage.py` on airline tweets and on half of other labelled tweets and review sentences and shipped as
data in `triage_model/`. A second small score tells praise from the rest. Pure, deterministic, no model
download: the coefficients and both lexicons ship inside the wheels.
"""

import importlib.util
import json
import math
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from bot.ground.config_types import Category, Sentiment, Urgency

__all__ = ["Category", "Triage", "Urgency", "triage"]


@dataclass(frozen=True)
class Triage:
    polarity: float  # -1..1: -1..-0.5 negative, 0.5..1 positive, between them neutral
    sentiment: Sentiment  # negative exactly when a human is needed
    needs_human: bool
    urgency: Urgency
    category: Category
    reasons: tuple[str, ...]  # short, for a card: ("complaint words: refund, still waiting", "question")


# An author this many followers (or karma) away from the public turns a mention up one level.
HIGH_REACH = 10_000
# The same author posting this many times (this one included) turns it up one level too.
REPEAT_POSTS = 2
# A review's stars, added to the complaint score: one or two stars say "unhappy" whatever the words.
LOW_RATING_WEIGHT = {1: 2.0, 2: 1.0}
# The complaint score an unmistakable sarcasm marker ("thanks for nothing") lifts a text to: at least a
# complaint, as sure as a two-star review's nudge, whatever its thanks and praise words say.
SARCASM_FLOOR = 1.0

# --- What the scores read --------------------------------------------------------------------------

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@＠]\w+|&(?:amp|lt|gt|quot|#\d+);")
_ELONGATED = re.compile(r"(.)\1{2,}")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[?!.,;\u2026]|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_EMOTICON = re.compile(r"(?<!\w)(?:[:;=8][-']?[)\]dDpP3]|[:;=][-']?[(\[/\\]|<3)(?!\w)")
_NEGATORS = frozenset(
    "not no never nobody nothing none nowhere without cannot don't dont doesn't doesnt didn't didnt isn't isnt"
    " wasn't wasnt aren't arent weren't werent can't cant couldn't couldnt won't wont wouldn't wouldnt"
    " haven't havent hasn't hasnt hadn't shouldn't".split()
)
_SCOPE_ENDS = frozenset((*"?!.,;\u2026", "but"))  # "DO NOT BUY\u2026 IT SUCKS": the sucking is not negated
_NEGATION_SCOPE = 3  # "not" colours the next three words: "not a single update" -> not_a not_single not_update


def clean(text: str) -> str:
    """Lower-case text without links, @handles and HTML entities; "soooo" becomes "soo"."""
    text = _NOISE.sub(" ", text.replace("\u2019", "'").replace("\u2018", "'"))
    return _ELONGATED.sub(_twice, text.lower())


def _twice(match: re.Match[str]) -> str:
    return match.group(1) * 2


def terms(text: str) -> set[str]:
    """The words, negated words ("not_helpful"), word pairs and emoticons the lexicon is keyed by."""
    return _read(clean(text))[1]


def _read(cleaned: str) -> tuple[list[str], set[str], list[str]]:
    """The words in order (numbers as <num>), the terms, and what the words mean in order: each word, or
    its negation ("not_good") where a negator colours an opinion word, without the negators themselves."""
    words: list[str] = []
    found: set[str] = set()
    meant: list[str] = []
    negated = 0
    for token in _TOKEN.findall(cleaned):
        if token[0].isdigit():
            token = "<num>"
        if token in _SCOPE_ENDS:
            negated = 0
            if token in ",;.\u2026":
                continue
        words.append(token)
        if token in _NEGATORS:  # a bare "not" or "nothing" says nothing yet: only what it negates does
            negated = _NEGATION_SCOPE
            continue
        found.add(token)
        if negated:
            if token in _opinion_words():  # "not good", never "not them": a negated pronoun was an airline's
                found.add("not_" + token)
                meant.append("not_" + token)
            else:
                meant.append(token)
            negated -= 1
        else:
            meant.append(token)
    found.update(map(" ".join, zip(words, words[1:], strict=False)))
    for emoticon in _EMOTICON.findall(cleaned):
        found.add("<frown>" if any(c in emoticon for c in "([/\\") else "<smile>")
    return words, found, meant


# --- TextBlob's polarity, read faster --------------------------------------------------------------
# TextBlob's own pipeline costs ~0.4 ms a text, too slow for a storm. This is its algorithm (average
# of lexicon words; a preceding adverb multiplies, "not" flips and halves, "!" boosts, emoticons count)
# over its own bundled lexicon with a single regex tokenizer; it agrees with TextBlob exactly on ~98%
# of tweets (bench/triage.py checks).

_TB_NEGATIONS = frozenset(("no", "not", "never"))


_TEXTBLOB = os.path.dirname(importlib.util.find_spec("textblob").origin or "")  # type: ignore[union-attr]
"""The installed textblob package's folder, found without importing it."""


@cache
def _textblob_text() -> ModuleType:
    """TextBlob's lexicon loader (`textblob/_text.py`, standard library only), loaded from its file: importing it
    as `textblob._text` runs the package's `__init__`, which imports nltk, numpy, scipy and scikit-learn, some
    1,300 modules and 3-5 s of CPU in every process that triages, for the one XML file read here."""
    spec = importlib.util.spec_from_file_location("allears_textblob_text", os.path.join(_TEXTBLOB, "_text.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _textblob_sentiment() -> dict[str, dict[str | None, list[float]]]:
    """`textblob.en.sentiment` once loaded: its `Sentiment`, then, as its `load` does, each adjective's adverb
    ("terribly" for "terrible") added."""
    text = _textblob_text()
    sentiment = text.Sentiment(
        path=os.path.join(_TEXTBLOB, "en", "en-sentiment.xml"),
        synset="wordnet_id",
        negations=("no", "not", "n't", "never"),
        modifiers=("RB",),
        modifier=lambda word: word.endswith("ly"),
        language="en",
    )
    sentiment.load()
    for word, senses in list(dict.items(sentiment)):
        if "JJ" in senses:
            stem = word[:-1] + "i" if word.endswith("y") else word
            stem = stem[:-2] if stem.endswith("le") else stem
            polarity, subjectivity, intensity = senses["JJ"]
            sentiment.annotate(stem + "ly", "RB", polarity, subjectivity, intensity)
    return sentiment


@cache
def _textblob_lexicon() -> tuple[dict[str, tuple[float, float, bool]], dict[str, float], re.Pattern[str]]:
    sentiment = _textblob_sentiment()
    words = {w: (float(e[None][0]), float(e[None][2]), "RB" in e) for w, e in dict.items(sentiment)}
    emoticons = {e.lower(): float(p) for (_, p), forms in _textblob_text().EMOTICONS.items() for e in forms}
    alternatives = "|".join(sorted(map(re.escape, emoticons), key=len, reverse=True))
    tokenizer = re.compile(rf"[^\W_]+(?:[-*][^\W_]+)*|(?:{alternatives})(?=\s|$)|\(!\)|!|\S")
    return words, emoticons, tokenizer


def textblob_polarity(text: str) -> float:
    """TextBlob's polarity of `text`, -1..1; 0 when no opinion word is known."""
    words, emoticons, tokenizer = _textblob_lexicon()
    assessed: list[list] = []  # [polarity, intensity, negated]
    modifier = negation = False
    for word in tokenizer.findall(text.lower()):
        known = words.get(word)
        if known is not None:
            polarity, intensity, is_modifier = known
            if modifier:  # "really good": the adverb's intensity multiplies the word
                last = assessed[-1]
                last[0], last[1] = max(-1.0, min(polarity * last[1], 1.0)), intensity
            else:
                assessed.append([polarity, intensity, False])
            if negation:
                assessed[-1][1] = 1.0 / assessed[-1][1]
                assessed[-1][2] = True
            modifier, negation = is_modifier, word in _TB_NEGATIONS
            continue
        if word in _TB_NEGATIONS:
            negation = True
        elif negation and len(word.strip("'")) > 1:
            negation = False
        if negation and modifier:  # "really not good"
            assessed[-1][2] = True
            negation = False
        elif modifier and len(word) > 2:
            modifier = False
        if word == "!" and assessed:
            assessed[-1][0] = max(-1.0, min(assessed[-1][0] * 1.25, 1.0))
        elif word == "(!)":
            assessed.append([0.0, 1.0, False])
        elif word in emoticons:
            assessed.append([emoticons[word], 1.0, False])
    if not assessed:
        return 0.0
    return sum(-0.5 * p if negated else p for p, _, negated in assessed) / len(assessed)


# --- VADER's valence lexicon ----------------------------------------------------------------------
# 7,500 words and emoticons rated -4..4 by people for social-media text (vaderSentiment's own file, read
# without running VADER, which costs ~0.2 ms a text): its negative and positive sums carry to domains that
# no tuning text came from.

_VADER = os.path.dirname(importlib.util.find_spec("vaderSentiment").origin or "")  # type: ignore[union-attr]
_VADER_NEGATED = -0.74  # VADER's own scalar for a negated word


@cache
def _vader_lexicon() -> dict[str, float]:
    with open(os.path.join(_VADER, "vader_lexicon.txt"), encoding="utf-8") as file:
        return {word: float(valence) for word, valence, *_ in (line.split("\t") for line in file if "\t" in line)}


@cache
def _opinion_words() -> frozenset[str]:
    """The words either lexicon rates: the only ones whose negation is a term of its own."""
    return frozenset(_vader_lexicon()) | frozenset(_textblob_lexicon()[0])


def vader_valence(words: list[str]) -> tuple[float, float]:
    """The negative and positive valence of the words, a negated word's flipped, each squashed into -1..1."""
    lexicon = _vader_lexicon()
    negative = positive = 0.0
    negated = 0
    for word in words:
        if word in _SCOPE_ENDS:
            negated = 0
        elif word in _NEGATORS:
            negated = _NEGATION_SCOPE
            continue
        valence = lexicon.get(word)
        if valence is not None:
            valence *= _VADER_NEGATED if negated else 1.0
            if valence < 0:
                negative += valence
            else:
                positive += valence
        negated = max(0, negated - 1)
    return negative / math.sqrt(negative * negative + 15), positive / math.sqrt(positive * positive + 15)


# --- Hand-written patterns -------------------------------------------------------------------------
# Complaint language from the issue and from support work in general (not mined: a software product's
# "crash" or "charged twice" hardly occurs in airline tweets). How many a text holds is one input of
# the score, weighted on the tuning airlines; they also make a mention urgent and explain the decision.
# Looked up as words and word pairs: a regex alternation of this size costs more than the whole score.
_COMPLAINT_WORDS = frozenset(
    "refund refunds refunded cancel cancelled canceled cancelling canceling cancellation cancellations lost"
    " outage outages stranded missed broken broke crash crashed crashes crashing bug bugs buggy error errors fail"
    " failed fails failing failure overcharged scam unacceptable terrible horrible horrid horrendous dreadful awful"
    " appalling atrocious abysmal worst useless worthless ridiculous disgusted disgusting disgrace disappointed"
    " disappointing disappointment frustrated frustrating frustration rude delayed stuck wrong slow unusable"
    " deleted nobody waste wasted wasting lacking lacks suck sucks sucked crap crappy garbage trash junk pathetic"
    " incompetent incompetence idiot idiots stupid moron morons clowns furious angry annoyed annoying nightmare"
    " \U0001f621 \U0001f620 \U0001f92c \U0001f624 \U0001f61e \U0001f622 \U0001f62d \U0001f44e \U0001f4a9"
    " \U0001f644 \U0001f612 \U0001f629 \U0001f62b \U0001f92e".split()
)
_COMPLAINT_PAIRS = frozenset(
    (
        "still waiting", "on hold", "not working", "not work", "doesn't work", "won't work", "stopped working",
        "won't load", "doesn't load", "never again", "no one", "no response", "no reply", "no answer",
        "no help", "never replied", "never responded", "never heard", "locked out", "waste of", "money back",
        "for nothing", "double charged", "charged twice", "charged again", "and counting", "hours late",
        "hour delay", "hours delay", "is down", "are down", "was down", "been down", "went down", "still down",
        "goes down", "going down", "can't login", "can't log", "can't access", "cannot login", "cannot access",
        "not buy", "don't buy", "dont buy", "not recommend", "not worth", "rip off", "ripped off",
    )
)  # fmt: skip
_COMPLAINT_TRIPLES = frozenset(("won't be back", "wont be back", "not be back", "never be back", "never going back"))
_PRAISE_WORDS = frozenset(
    "love loved loves loving great awesome amazing thanks thx best excellent fantastic kudos wonderful appreciate"
    " appreciated perfect brilliant superb outstanding impressed props shoutout helpful smooth friendly"
    " \u2764 \U0001f44d \U0001f60d \U0001f64f \U0001f389 \U0001f60a".split()
)
_PRAISE_PAIRS = frozenset(("thank you", "thank u", "shout out", "well done", "good job", "great job", "nice work"))
_THANKS = frozenset(("thanks", "thank", "thx", "ty"))
_QUESTION = re.compile(
    r"\?|^\s*(?:how|what|when|where|why|who|which|whose|is|are|can|could|would|will|do|does|did|should"
    r"|any ?(?:one|body|idea|chance|way))\b"
)
_FEATURE_REQUEST = re.compile(
    r"\b(feature request|please (?:add|support|allow|make|let|bring|consider|give)|pl(?:s|z) add"
    r"|(?:would|it'd|that'd) be (?:great|nice|awesome|cool|amazing|helpful|lovely) if|i wish|wish (?:you|it|there|the)"
    r"|(?:can|could|will) you (?:add|support|make it|bring)|add (?:an? )?(?:option|way|setting|button|mode)"
    r"|would love (?:to see|it if|an? )|should (?:add|support|offer|allow)|bring back|any plans? (?:to|for))\b"
)

# Sarcasm that thanks or praises in words and complains in meaning. Only markers that are sarcastic
# wherever they occur: "thanks a lot", "gotta love", "just what I needed", "what a surprise" and "nice
# going" are sincere as often as not, and "so much for" is sarcasm only where a sentence starts with it
# ("thanks, so much for the quick fix" is gratitude). Every thanks and praise word pulls towards calm, so
# the model alone reads "Thanks for nothing!" as pleased.
_SARCASM = re.compile(
    r"#sarcasm\b|(?:^|\s)/s\s*$|\byeah,? right\b(?! now| away| here| there)"
    r"|\bthank(?:s| you) for (?:nothing|ruining|losing|wasting|ignoring|screwing"
    r"|the (?:canned|standard|automated|generic|useless|miserable|non-?answer))\b"
    r"|(?:^|[.!?]\s+)so much for (?:the|your|that|my|a)\b"
    r"|\blove being (?:stuck|told|put on hold|treated like|ignored)\b"
)


def _phrases(words: list[str], found: set[str], singles: frozenset[str], pairs: frozenset[str]) -> list[str]:
    """The listed words and word pairs in a text, each once, in the order they first occur."""
    hits = (found & pairs) | singles.intersection(words)
    return sorted(hits, key=lambda hit: words.index(hit.split(" ", 1)[0]))


def complaint_phrases(words: list[str], found: set[str]) -> list[str]:
    phrases = _phrases(words, found, _COMPLAINT_WORDS, _COMPLAINT_PAIRS)
    triples = _COMPLAINT_TRIPLES.intersection(map(" ".join, zip(words, words[1:], words[2:], strict=False)))
    return phrases + sorted(triples)


def praise_words(words: list[str], found: set[str]) -> list[str]:
    return _phrases(words, found, _PRAISE_WORDS, _PRAISE_PAIRS)


def is_question(cleaned: str) -> bool:
    return _QUESTION.search(cleaned) is not None


# --- The complaint score --------------------------------------------------------------------------
# A logistic regression fitted by `bench/triage.py --freeze` on customer tweets to four airlines plus half
# of each labelled set of other tweets and review sentences; its coefficients ship as data beside this
# file: `terms.tsv` (words, negated words and word pairs), `words.tsv` (the embedding block) and
# `model.json` (the dense inputs and the praise score). No character n-grams: their sum grows with a text's
# length, and long posts read as complaints.
#
# The embedding block: `bench/triage.py` embeds ~39,000 words and negated opinion words ("not good") one at a
# time with all-MiniLM-L6-v2, reduces them to 128 dimensions (PCA) and takes a text's SIF-weighted mean of
# them (a frequent word weighs less), one more input block of the regression. The block is linear, so its
# weights times each word's vector is one number a word: `words.tsv` ships that number and the word's SIF
# weight, and a text's share of the score is their weighted mean. A mean, not a sum, so a long post does not
# add up to a complaint; words the transformer knew that no tuning text holds get their meaning's weight.

_MODEL_DIR = Path(__file__).with_name("triage_model")


@dataclass(frozen=True)
class Inputs:
    """What the scores read of one text, shared with `bench/triage.py` so that it fits what runs."""

    cleaned: str
    words: list[str]
    found: set[str]
    meant: list[str]
    textblob: float
    complaints: list[str]
    praise: list[str]
    vader: tuple[float, float]

    @property
    def dense(self) -> tuple[float, ...]:
        """TextBlob polarity, complaint phrases (at most 3), praise next to a complaint (sarcasm), and VADER's
        negative and positive valence."""
        return (
            self.textblob,
            float(min(len(self.complaints), 3)),
            float(bool(self.complaints and self.praise)),
            *self.vader,
        )


def read(text: str) -> Inputs:
    cleaned = clean(text)
    words, found, meant = _read(cleaned)
    return Inputs(
        cleaned,
        words,
        found,
        meant,
        textblob_polarity(cleaned),
        complaint_phrases(words, found),
        praise_words(words, found),
        vader_valence(words),
    )


@dataclass(frozen=True)
class Model:
    version: str
    intercept: float
    dense: tuple[float, ...]
    terms: dict[str, float]
    words: dict[str, tuple[float, float]]  # word or "not_word": (SIF weight, its vector times the block's weights)
    prior: float  # the weight of the table's mean word (score 0) in every text's mean
    praise_intercept: float
    praise: tuple[float, ...]  # TextBlob polarity, complaint logit, praise words (at most 3), question, "!"

    def complaint(self, inputs: Inputs) -> float:
        # fsum is exact: the decision never depends on the order a set is walked in
        lexicon = math.fsum(map(self.terms.__getitem__, self.terms.keys() & inputs.found))
        linear = sum(w * x for w, x in zip(self.dense, inputs.dense, strict=True))
        return self.intercept + linear + lexicon + self.embedded(inputs.meant)

    def embedded(self, meant: list[str]) -> float:
        """The embedding block's share of the complaint logit: the SIF-weighted mean of the known words' scores,
        a score of 0 with weight `prior` counted among them, so that two words push less than twenty."""
        known = [entry for entry in map(self.words.get, meant) if entry is not None]
        return sum(w * score for w, score in known) / (sum(w for w, _ in known) + self.prior)

    def praising(self, inputs: Inputs, complaint: float, question: bool) -> float:
        values = (inputs.textblob, complaint, min(len(inputs.praise), 3), float(question), float("!" in inputs.found))
        return self.praise_intercept + sum(w * x for w, x in zip(self.praise, values, strict=True))

    @property
    def description(self) -> str:
        return (
            f"complaint model {self.version}: logistic regression over {len(self.terms):,} terms,"
            f" {len(self.words):,} word vectors distilled from all-MiniLM-L6-v2,"
            " TextBlob polarity, VADER valence and complaint phrases"
        )


@cache
def model() -> Model:
    """The shipped model, read at the first triage: a process that never triages (`allears check`, `export`, a
    migration) does not pay for reading 60,000 weights, a fifth of what it imports."""
    return load_model()


def load_model(folder: Path = _MODEL_DIR) -> Model:
    meta = json.loads((folder / "model.json").read_text())
    with (folder / "terms.tsv").open(encoding="utf-8") as file:
        terms = {term: float(weight) for term, weight in (line.rstrip("\n").split("\t") for line in file)}
    with (folder / "words.tsv").open(encoding="utf-8") as file:
        rows = (line.rstrip("\n").split("\t") for line in file)
        words = {word: (float(weight), float(score)) for word, weight, score in rows}
    return Model(
        version=meta["version"],
        intercept=meta["intercept"],
        dense=tuple(meta["dense"]),
        terms=terms,
        words=words,
        prior=meta["prior"],
        praise_intercept=meta["praise_intercept"],
        praise=tuple(meta["praise"]),
    )


# --- The decision ----------------------------------------------------------------------------------


def triage(text: str, *, author_reach: int | None = None, repeat_posts: int = 0, rating: int | None = None) -> Triage:
    """Score one mention. `author_reach` is the author's followers or karma when the source gives it;
    `repeat_posts` is how many times the author has posted recently, this mention included; `rating` is a
    review's stars (1 to 5), where the source rates."""
    inputs = read(text)
    cleaned, words, complaints, praise = inputs.cleaned, inputs.words, inputs.complaints, inputs.praise
    low_rating = LOW_RATING_WEIGHT.get(rating or 0, 0.0)
    complaint = model().complaint(inputs) + low_rating
    sarcasm = _SARCASM.search(cleaned)
    if sarcasm:
        complaint = max(complaint, SARCASM_FLOOR)
    needs_human = complaint > 0  # even odds: see bench/triage.py for why not the tuning set's prior
    question = is_question(cleaned)
    praising = model().praising(inputs, complaint, question)
    request = _FEATURE_REQUEST.search(cleaned)

    # Signed confidence: -1..-0.5 negative, 0.5..1 positive, in between neutral.
    negative, positive = _sigmoid(complaint), _sigmoid(praising)
    if needs_human:
        sentiment, polarity = Sentiment.NEGATIVE, -negative
    elif praising > 0:
        sentiment, polarity = Sentiment.POSITIVE, positive
    else:
        sentiment, polarity = Sentiment.NEUTRAL, positive - negative

    reasons: list[str] = []
    if needs_human and not (request and not complaints):
        category = Category.COMPLAINT
        if complaints:
            reasons.append("complaint words: " + ", ".join(complaints[:4]))
        elif not low_rating and not sarcasm:
            reasons.append("sounds like a complaint: " + ", ".join(_loudest(inputs)))
        if sarcasm:
            reasons.append(f"sarcasm: {sarcasm.group(0).strip()}")
        elif not _THANKS.isdisjoint(words):
            reasons.append("thanks, but with complaint words (sarcasm?)")
    elif request:
        category = Category.FEATURE_REQUEST
        reasons.append(f"feature request: {request.group(0)}")
    elif sentiment is Sentiment.POSITIVE:
        category = Category.PRAISE
        reasons.append("praise: " + ", ".join(praise[:4]) if praise else "sounds pleased")
    elif question:
        category = Category.QUESTION
    else:
        category = Category.OTHER
    if low_rating:
        reasons.append(f"rated {rating}/5")
    if question and category is not Category.QUESTION:
        reasons.append("asks a question")
    elif question:
        reasons.append("question")

    level = 2 if needs_human and complaints else 1 if needs_human or category is Category.QUESTION else 0
    if author_reach is not None and author_reach >= HIGH_REACH:
        level += 1
        reasons.append(f"author reach {author_reach:,}")
    if repeat_posts >= REPEAT_POSTS:
        level += 1
        reasons.append(f"{repeat_posts} posts by the same author")
    urgency = (Urgency.LOW, Urgency.NORMAL, Urgency.HIGH)[min(level, 2)]
    return Triage(round(polarity, 3), sentiment, needs_human, urgency, category, tuple(reasons))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _loudest(inputs: Inputs, n: int = 3) -> list[str]:
    """The mined terms and the words whose vectors pushed hardest towards a complaint, written as words."""
    shipped = model()
    terms, words = shipped.terms, shipped.words
    pushes = {t: terms[t] for t in inputs.found if terms.get(t, 0.0) > 0.3}
    known = [(m, words[m]) for m in inputs.meant if m in words]
    total = sum(weight for _, (weight, _) in known) + shipped.prior
    shares: dict[str, float] = {}
    for word, (weight, score) in known:
        shares[word] = shares.get(word, 0.0) + weight * score / total
    pushes.update((w, max(share, pushes.get(w, 0.0))) for w, share in shares.items() if share > 0.3)
    pushing = sorted(pushes, key=lambda t: (-pushes[t], t))[:n]
    return [t.replace("not_", "not ").replace("<num>", "N") for t in pushing] or ["overall tone"]
