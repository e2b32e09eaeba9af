"""The layout keeps its promise: a package never imports from one above it, so a reader knows where to look and the
domain never learns Slack (docs/architecture.md)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["bot.ground", "bot.hear", "bot.act", "bot.remember", "bot.slack", "handlers", "bot.app"]
"""From the ground up: each may import from those before it, never from one after it."""


def _layer(module: str) -> int | None:
    for number, layer in enumerate(LAYERS):
        if module == layer or module.startswith(layer + "."):
            return number
    return None


def _module(path: Path) -> str:
    dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return dotted.removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _sources() -> list[Path]:
    return [path for folder in ("bot", "handlers") for path in sorted((ROOT / folder).rglob("*.py"))]


def test_no_package_imports_from_one_above_it():
    upward = []
    for path in _sources():
        here = _layer(_module(path))
        if here is None:
            continue
        for imported in _imports(path):
            there = _layer(imported)
            if there is not None and there > here:
                upward.append(f"{_module(path)} imports {imported} ({LAYERS[there]} is above {LAYERS[here]})")
    assert upward == []


def test_every_module_has_its_place():
    assert [_module(path) for path in _sources() if _layer(_module(path)) is None] == ["bot"]


def test_the_top_of_bot_holds_only_its_packages():
    top = sorted(
        path.name for path in (ROOT / "bot").iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()
    )
    assert top == ["__init__.py", "act", "app", "ground", "hear", "remember", "slack"]


def test_the_domain_knows_nothing_of_slack():
    speaking_slack = [
        f"{_module(path)} imports {imported}"
        for path in _sources()
        if (_layer(_module(path)) or 0) <= LAYERS.index("bot.remember")
        for imported in _imports(path)
        if imported.split(".")[0] in {"slack_sdk", "slack_bolt"}
    ]
    assert speaking_slack == []
