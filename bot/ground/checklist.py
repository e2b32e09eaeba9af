"""What one check found, and the checklist they make."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)
    unreadable: bool = False
    """The settings or the config could not be read, so some checks could not even run."""

    @property
    def problems(self) -> int:
        return sum(not result.ok for result in self.results)

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else (1 if self.problems else 0)


def guarded(name: str, check: Callable[[], list[Result]]) -> list[Result]:
    """A check that breaks is one failed line, not the end of the checklist."""
    try:
        return check()
    except Exception as error:  # the rest of the checklist is still worth reading
        return [
            Result(
                name,
                ok=False,
                detail=f"the check itself failed: {type(error).__name__}: {str(error)[:200]}",
                fix="report this as a bug in All Ears, with this checklist",
            )
        ]


def render(report: Report) -> str:
    """One line per check, ✓ or ✗, the fix indented under each failure, and the count last."""
    lines = []
    for result in report.results:
        mark = "✓" if result.ok else "✗"
        if "\n" in result.detail:  # several problems, one under the other
            lines.append(f"{mark} {result.name}:")
            lines += ["    " + line for line in result.detail.splitlines()]
        else:
            lines.append(f"{mark} {result.name}" + (f": {result.detail}" if result.detail else ""))
        if not result.ok and result.fix:
            lines.append("    fix: " + result.fix.replace("\n", "\n         "))
    count = report.problems
    lines.append("all good" if not count else f"{count} problem{'s' if count > 1 else ''}")
    return "\n".join(lines)
