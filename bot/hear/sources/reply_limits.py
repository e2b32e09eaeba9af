"""How long a reply each source accepts, counted the way it counts: the Reply modal refuses a longer one before
it closes, and the source's replier before it sends."""

from dataclasses import dataclass
from typing import Literal

import regex

_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class ReplyLimit:
    most: int
    unit: Literal["characters", "graphemes"] = "characters"

    def length(self, text: str) -> int:
        """Graphemes are what a reader sees as one character: 👩‍💻 is one, not three code points."""
        return len(_GRAPHEME.findall(text)) if self.unit == "graphemes" else len(text)

    def problem(self, text: str) -> str | None:
        """Why the source would refuse `text`, or None."""
        length = self.length(text)
        if length <= self.most:
            return None
        return f"it takes at most {self.most:,} {self.unit}, and this is {length:,}"
