"""The query language of `[listen] query`, a product's `query` and a route's: the syntax search engines and
listening tools share. Words and "exact phrases" (implicit AND), `OR`, `AND`, `-` (or `NOT`) to exclude,
parentheses, and the fields `author:`, `site:`, `source:` and `lang:`.

Parsed here, in the ground the config stands on, so a bad query is refused with where it went wrong when the
config is read; `bot.hear.matching` runs a parsed query against a mention."""

from dataclasses import dataclass
from typing import Literal

FIELDS = ("author", "site", "source", "lang")
Field = Literal["author", "site", "source", "lang"]
MAX_LENGTH = 4000
MAX_DEPTH = 40
_OPERATORS = {"OR", "AND", "NOT"}


class QuerySyntaxError(ValueError):
    """What was expected and the column (from 1) where it was not found."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


@dataclass(frozen=True)
class Term:
    """A word or an "exact phrase": its words, matched whole and in order."""

    words: tuple[str, ...]
    phrase: bool = False

    def __str__(self) -> str:
        return f'"{" ".join(self.words)}"' if self.phrase else self.words[0]


@dataclass(frozen=True)
class FieldTerm:
    field: Field
    value: str

    def __str__(self) -> str:
        return f'{self.field}:"{self.value}"' if " " in self.value else f"{self.field}:{self.value}"


@dataclass(frozen=True)
class Not:
    node: "Node"


@dataclass(frozen=True)
class All:
    nodes: tuple["Node", ...]


@dataclass(frozen=True)
class AnyOf:
    nodes: tuple["Node", ...]


Node = Term | FieldTerm | Not | All | AnyOf


@dataclass(frozen=True)
class _Token:
    kind: Literal["word", "phrase", "field", "(", ")", "-", "OR", "AND", "NOT", "end"]
    column: int
    text: str = ""
    field: Field | None = None


def parse(query: str) -> Node:
    """The query's tree; a QuerySyntaxError says what was expected where."""
    if len(query) > MAX_LENGTH:
        raise QuerySyntaxError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH + 1)
    parser = _Parser(_tokens(query))
    if parser.peek.kind == "end":
        raise QuerySyntaxError("empty query: expected a word or a phrase", 1)
    node = parser.alternatives(depth=0)
    if parser.peek.kind == ")":
        raise QuerySyntaxError("unmatched closing parenthesis", parser.peek.column)
    return node


def parse_listening(query: str) -> Node:
    """A query that decides what is heard at all (`[listen]`, a product's): one of only `-` and fields would
    let through everything a source brings. A route's query, which only sorts what was heard, may be that."""
    node = parse(query)
    if not looks_for_text(node):
        raise QuerySyntaxError(
            "nothing to look for: each alternative needs a word or phrase (`-` and fields only narrow it)", 1
        )
    return node


def from_keywords(keywords: list[str], exclude: list[str]) -> Node:
    """The simple form, `keywords` and `exclude`, as a query: any keyword, none of the exclusions."""
    wanted = AnyOf(tuple(_phrase(keyword) for keyword in keywords if keyword.split()))
    unwanted = tuple(Not(_phrase(phrase)) for phrase in exclude if phrase.split())
    return All((wanted, *unwanted)) if unwanted else wanted


def looks_for_text(node: Node) -> bool:
    """Whether every way to match the node needs a word or phrase."""
    match node:
        case Term():
            return True
        case FieldTerm() | Not():
            return False
        case All(nodes):
            return any(looks_for_text(child) for child in nodes)
        case AnyOf(nodes):
            return all(looks_for_text(child) for child in nodes)


def asks_language(node: Node) -> bool:
    """Whether the query has a `lang:` anywhere: only then must a mention's language be known."""
    match node:
        case FieldTerm(field):
            return field == "lang"
        case Term():
            return False
        case Not(inner):
            return asks_language(inner)
        case All(nodes) | AnyOf(nodes):
            return any(asks_language(child) for child in nodes)


def _phrase(text: str) -> Term:
    words = tuple(text.split())
    return Term(words, phrase=len(words) > 1)


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens, self._at = tokens, 0

    @property
    def peek(self) -> _Token:
        return self._tokens[self._at]

    def _take(self) -> _Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def alternatives(self, depth: int) -> Node:
        nodes = [self.conjunction(depth)]
        while self.peek.kind == "OR":
            self._take()
            nodes.append(self.conjunction(depth))
        return nodes[0] if len(nodes) == 1 else AnyOf(tuple(nodes))

    def conjunction(self, depth: int) -> Node:
        nodes = [self.unary(depth)]
        while self.peek.kind not in ("end", ")", "OR"):
            if self.peek.kind == "AND":
                self._take()
            nodes.append(self.unary(depth))
        return nodes[0] if len(nodes) == 1 else All(tuple(nodes))

    def unary(self, depth: int) -> Node:
        if self.peek.kind in ("-", "NOT"):
            self._take()
            if self.peek.kind in ("-", "NOT"):
                raise QuerySyntaxError("a second exclusion in a row", self.peek.column)
            return Not(self.atom(depth))
        return self.atom(depth)

    def atom(self, depth: int) -> Node:
        token = self.peek
        match token.kind:
            case "word" | "phrase":
                self._take()
                return _phrase(token.text) if token.kind == "phrase" else Term((token.text,))
            case "field":
                self._take()
                assert token.field is not None
                return FieldTerm(token.field, token.text)
            case "(":
                if depth >= MAX_DEPTH:
                    raise QuerySyntaxError(f"parentheses nested more than {MAX_DEPTH} deep", token.column)
                self._take()
                if self.peek.kind == ")":
                    raise QuerySyntaxError("empty parentheses: expected a word or a phrase", self.peek.column)
                node = self.alternatives(depth + 1)
                if self.peek.kind != ")":
                    raise QuerySyntaxError("unclosed parenthesis", token.column)
                self._take()
                return node
            case ")":
                raise QuerySyntaxError("unmatched closing parenthesis", token.column)
            case "end":
                last = self._tokens[self._at - 1].kind
                raise QuerySyntaxError(f"expected a word or a phrase after {last}", token.column)
            case _:
                raise QuerySyntaxError(f"expected a word or a phrase before {token.kind}", token.column)


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    at, end = 0, len(query)
    while at < end:
        char = query[at]
        if char.isspace():
            at += 1
        elif char in "()":
            tokens.append(_Token(char, at + 1))  # type: ignore[arg-type]
            at += 1
        elif char == "-":  # at the start of a token: within a word (`e-mail`) it is part of the word
            if at + 1 >= end or query[at + 1].isspace() or query[at + 1] == ")":
                raise QuerySyntaxError("expected a word, a phrase or a field right after `-`", at + 1)
            tokens.append(_Token("-", at + 1))
            at += 1
        elif char == '"':
            start = at
            text, at = _quoted(query, at)
            tokens.append(_Token("phrase", start + 1, text))
        else:
            start = at
            while at < end and not query[at].isspace() and query[at] not in '()"':
                at += 1
            word = query[start:at]
            name, colon, value = word.partition(":")
            if word in _OPERATORS:
                tokens.append(_Token(word, start + 1))  # type: ignore[arg-type]
            elif colon and name.isalpha() and not value.startswith("//"):
                if name.lower() not in FIELDS:
                    fields = ", ".join(f"{field}:" for field in FIELDS)
                    raise QuerySyntaxError(
                        f'unknown field `{name}:` (fields: {fields}; quote "{word}" to look for it)', start + 1
                    )
                if not value and at < end and query[at] == '"':
                    value, at = _quoted(query, at)
                if not value.strip():
                    raise QuerySyntaxError(f"expected a value after `{name}:`", at + 1)
                tokens.append(_Token("field", start + 1, value.strip(), name.lower()))  # type: ignore[arg-type]
            else:
                tokens.append(_Token("word", start + 1, word))
    tokens.append(_Token("end", end + 1))
    return tokens


def _quoted(query: str, at: int) -> tuple[str, int]:
    """The text between the quote at `at` and the next, and where reading goes on."""
    close = query.find('"', at + 1)
    if close < 0:
        raise QuerySyntaxError("unclosed quote", at + 1)
    text = query[at + 1 : close]
    if not text.split():
        raise QuerySyntaxError("empty phrase: expected words between the quotes", at + 1)
    return text, close + 1
