"""Who may run the admin commands, and what pausing a source means.

Admins are listed in `[admins] users`; nobody is one when the list is empty. Sources and routes are
changed in allears.toml, not from Slack: an admin can only pause a source (the scheduler skips it
until it is resumed; an operator's `allears poll --once` still polls it) and export the mentions.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import col

from bot.ground.clock import utcnow
from bot.ground.config import Admins, by_name
from bot.ground.config_sources import SourceConfig
from bot.ground.db import insert_unless_present, rows_changed, session_scope
from bot.ground.errors import UserError
from bot.ground.models import SourceState

log = logging.getLogger(__name__)


def require_admin(admins: Admins, *, user_id: str, command: str, doing: str) -> None:
    """Refuse, and log the refusal, unless the user is an admin; `doing` ends "Only admins can …"."""
    if user_id in admins.users:
        return
    log.warning("refused %s to %s: not listed in [admins] users", command, user_id)
    raise UserError(f"Only All Ears admins can {doing}; admins are listed in `[admins] users` in allears.toml.")


def find_source(sources: list[SourceConfig], name: str) -> SourceConfig:
    """The configured source of that name; names match case-insensitively, as team names do."""
    return by_name({source.key: source for source in sources}, name, what="source", add="[[sources]]")[1]


@dataclass(frozen=True)
class Pause:
    source: str
    changed: bool
    """False when the source already was in the state asked for."""
    paused_at: datetime | None = None
    paused_by: str | None = None


def pause(engine: Engine, *, source: SourceConfig, user_id: str, now: datetime | None = None) -> Pause:
    """Stop polling the source until it is resumed; pausing a paused source keeps who paused it first."""
    now = now or utcnow()
    with session_scope(engine) as session:
        session.execute(insert_unless_present(session, SourceState, ["source"], source=source.key, cursor={}))
        changed = rows_changed(
            session.execute(
                update(SourceState)
                .where(col(SourceState.source) == source.key, col(SourceState.paused_at).is_(None))
                .values(paused_at=now, paused_by=user_id)
            )
        )
        state = session.get(SourceState, source.key, populate_existing=True)
        assert state is not None
        paused = Pause(source.key, changed=bool(changed), paused_at=state.paused_at, paused_by=state.paused_by)
    if paused.changed:
        log.info("source %s paused by %s", source.key, user_id)
    return paused


def resume(engine: Engine, *, source: SourceConfig, user_id: str) -> Pause:
    """Poll the source again, at its next interval."""
    with session_scope(engine) as session:
        changed = rows_changed(
            session.execute(
                update(SourceState)
                .where(col(SourceState.source) == source.key, col(SourceState.paused_at).is_not(None))
                .values(paused_at=None, paused_by=None)
            )
        )
    if changed:
        log.info("source %s resumed by %s", source.key, user_id)
    return Pause(source.key, changed=bool(changed))
