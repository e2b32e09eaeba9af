"""Which language a mention is written in, by py3langid (bench/RESULTS.md says why this detector): its model
ships in the wheel, it is as accurate as lingua on 1–2 sentences, and it is fast and small.

A language is named only when the detector is fairly sure (a probability of at least `SURE`): on the
14,640 English airline tweets of ../shared/data it then names another language for 5 (0.03%) instead of
159 (1.1%), so `[listen] languages = ["en"]` does not drop English complaints written in slang."""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

SURE = 0.5
_NO_LANGUAGE = "zxx"
"""The detector's label for a text of no language (numbers, links, emoji)."""

NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "eo": "Esperanto",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "hy": "Armenian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ka": "Georgian",
    "kk": "Kazakh",
    "ko": "Korean",
    "la": "Latin",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mk": "Macedonian",
    "ms": "Malay",
    "mt": "Maltese",
    "nl": "Dutch",
    "nn": "Norwegian Nynorsk",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sq": "Albanian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}
"""English names of the languages customers most often write in; a card shows any other by its code."""


def language_of(text: str) -> str | None:
    """The text's ISO 639-1 code (`fr`), or None when the detector is unsure or the text has no words."""
    if not any(char.isalpha() for char in text):
        return None
    code, probability = _identifier().classify(text)
    return code if probability >= SURE and code != _NO_LANGUAGE else None


def name_of(code: str) -> str:
    return NAMES.get(code, code)


@cache
def _identifier() -> "LanguageIdentifier":
    """Loaded at the first mention (half a second), not at import: a bot that detects no language never holds
    the model nor numpy (tens of thousands of objects more for each collection of the garbage collector)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
