"""Environment settings (also read from `.env`), validated at start with messages a user can act on."""

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.ground.errors import ConfigError

FIX_ENVIRONMENT = "correct it in .env or the environment (.env.example describes each one)"
CREATE_DATABASE = "run `allears db upgrade` to create it (or point DATABASE_URL at the existing one)"


class ConfigPath(BaseSettings):
    """Where `allears.toml` is, readable on its own: its mistakes are named even when another setting is wrong."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    allears_config: Path = Path("allears.toml")


class Settings(ConfigPath):
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///allears.db"
    allears_webhook_secret: str | None = None
    port: int = 3000
    slack_post_interval: float = Field(default=1.0, ge=0)
    """Seconds between two new messages in one channel; Slack allows about one a second."""
    log_format: Literal["text", "json"] = "text"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """`allears worker` serves GET /metrics on this port when set; `run` and `serve` show it on PORT."""

    @field_validator("log_format", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.strip().lower() or "text" if isinstance(value, str) else value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _blank_port_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, url: str) -> str:
        return url if url.endswith("/") else url + "/"

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, url: str) -> str:
        """Hosting platforms hand out `postgres://` URLs; SQLAlchemy needs the driver named."""
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", "allears_webhook_secret")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def require_slack(self, *, signing_secret: bool = True) -> None:
        """Refuse to talk to Slack without the credentials, naming what is missing and where to find it."""
        problems = []
        if not self.slack_bot_token:
            problems.append("SLACK_BOT_TOKEN is not set (OAuth & Permissions → Bot User OAuth Token, xoxb-…)")
        elif not self.slack_bot_token.startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN must be the bot token, which starts with xoxb-")
        if signing_secret and not self.slack_signing_secret:
            problems.append("SLACK_SIGNING_SECRET is not set (Basic Information → App Credentials → Signing Secret)")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token, which starts with xapp-")
        if problems:
            raise ConfigError("; ".join(problems))


def wrong_variables(error: ValidationError) -> list[tuple[str, str]]:
    """Each environment variable set wrongly, named as it is set (`PORT`), with what is wrong with it."""
    return [(".".join(str(part) for part in problem["loc"]).upper(), problem["msg"]) for problem in error.errors()]


def load_settings() -> Settings:
    """The environment's settings; a ConfigError names each variable set wrongly, instead of a traceback."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(
            "\n".join(f"environment variable {name}: {message}" for name, message in wrong_variables(error))
            + f"\nfix: {FIX_ENVIRONMENT}"
        ) from None


def missing_sqlite_file(database_url: str) -> str | None:
    """The SQLite file DATABASE_URL names when it does not exist yet: opening it would create an empty one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return None if Path(url.database).exists() else url.database


def require_database_file(database_url: str) -> None:
    """A command that does not create the database refuses a SQLite file that is not there: opening it would
    leave an empty one behind, and the next command would blame its schema."""
    if missing := missing_sqlite_file(database_url):
        raise ConfigError(f"there is no database file at {missing} yet; {CREATE_DATABASE}")
