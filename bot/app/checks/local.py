"""The checks that need no network beyond the database: settings, `allears.toml`, the database, the webhook,
the read API and the triage model."""

from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.ground import migrate
from bot.ground.checklist import Result
from bot.ground.config import Api, Config, load_config
from bot.ground.db import make_engine
from bot.ground.errors import ConfigError
from bot.ground.settings import (
    CREATE_DATABASE,
    FIX_ENVIRONMENT,
    ConfigPath,
    Settings,
    missing_sqlite_file,
    wrong_variables,
)
from bot.hear import triage

MIN_WEBHOOK_SECRET = 16
PLACEHOLDERS = {"changeme", "secret", "password", "webhook", "webhooksecret", "test", "example", "todo", "xxx"}
NEW_SECRET = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def read_settings() -> tuple[Settings | None, list[Result]]:
    try:
        return Settings(), []
    except ValidationError as error:
        return None, [
            Result(f"environment variable {name}", ok=False, detail=message, fix=FIX_ENVIRONMENT)
            for name, message in wrong_variables(error)
        ]


def config_path() -> Path | None:
    """Where the config is when another environment setting is wrong; None when ALLEARS_CONFIG itself is."""
    try:
        return ConfigPath().allears_config
    except ValidationError:
        return None


def read_config(path: Path) -> tuple[Config | None, list[Result]]:
    try:
        config = load_config(path)
    except ConfigError as error:
        fix = (
            f"copy allears.example.toml to {path} and edit it, or point ALLEARS_CONFIG at your file"
            if not path.exists()
            else "correct each setting named above: allears.example.toml shows them all, and the README's Settings "
            "section says what each means"
        )
        problems = "\n".join(line.removeprefix(f"{path}: ") for line in str(error).splitlines())
        return None, [Result(f"config {path}", ok=False, detail=problems, fix=fix)]
    counts = f"{len(config.sources)} source(s), {len(config.routes)} route(s), {len(config.teams)} team(s)"
    return config, [Result(f"config {path}", ok=True, detail=counts)]


def check_database(url: str) -> list[Result]:
    """Reachable and migrated; a SQLite file that does not exist yet is named, not created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return [
            Result(
                "database",
                ok=False,
                detail="DATABASE_URL is not a database URL",
                fix="write it like sqlite:///allears.db or postgresql://user:password@host:5432/allears",
            )
        ]
    name = f"database {parsed.render_as_string(hide_password=True)}"
    if missing := missing_sqlite_file(url):
        return [Result(name, ok=False, detail=f"there is no database file at {missing} yet", fix=CREATE_DATABASE)]
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        if parsed.password:
            reason = reason.replace(parsed.password, "***")
        return [
            Result(
                name,
                ok=False,
                detail=f"does not answer: {reason}",
                fix="check that the server is running and reachable from here, and the user, password and database "
                "name in DATABASE_URL",
            )
        ]
    try:
        if not migrate.is_current(engine):
            return [
                Result(
                    name,
                    ok=False,
                    detail="reachable, but its tables are not up to date (not migrated)",
                    fix="run `allears db upgrade`",
                )
            ]
    finally:
        engine.dispose()
    return [Result(name, ok=True, detail="reachable, tables up to date")]


def _guessable(secret: str) -> str | None:
    """Why a secret could be guessed (a placeholder, too short), or None."""
    if "".join(filter(str.isalnum, secret.lower())) in PLACEHOLDERS or len(set(secret)) < 4:
        return "a placeholder"
    if len(secret) < MIN_WEBHOOK_SECRET:
        return f"{len(secret)} characters long: too short to resist guessing (at least {MIN_WEBHOOK_SECRET})"
    return None


def check_webhook(secret: str | None) -> list[Result]:
    """The webhook is on exactly when its secret is set; a guessable secret lets anyone post mentions."""
    name = "inbound webhook"
    if secret is None:
        return [Result(name, ok=True, detail="off (set ALLEARS_WEBHOOK_SECRET to turn on POST /hooks/mentions)")]
    fix = (
        f"set ALLEARS_WEBHOOK_SECRET to a long random value, like the output of `{NEW_SECRET}`, "
        "and give the sender the same"
    )
    if why := _guessable(secret):
        return [Result(name, ok=False, detail=f"on, but ALLEARS_WEBHOOK_SECRET is {why}", fix=fix)]
    return [Result(name, ok=True, detail="on (POST /hooks/mentions, requests signed with ALLEARS_WEBHOOK_SECRET)")]


def check_read_api(api: Api | None) -> list[Result]:
    """The read API is on with `[api]`; a guessable token lets anyone read every mention."""
    name = "read API"
    if api is None:
        return [
            Result(name, ok=True, detail="off (add [api] tokens_env to allears.toml to turn on GET /api/v1/mentions)")
        ]
    for number, token in enumerate(api.tokens, start=1):
        if why := _guessable(token):
            fix = f"replace it in {api.tokens_env} with a long random value, like the output of `{NEW_SECRET}`"
            return [Result(name, ok=False, detail=f"on, but token {number} of {api.tokens_env} is {why}", fix=fix)]
    return [Result(name, ok=True, detail=f"on (GET /api/v1/mentions, {len(api.tokens)} token(s) in {api.tokens_env})")]


def check_triage() -> list[Result]:
    """Which complaint model decides "needs a human", so that a report names the version it ran with."""
    return [Result("triage", ok=True, detail=triage.model().description)]
