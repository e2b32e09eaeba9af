"""The Slack side of `allears check`: tokens, scopes, channels and user groups, asked of Slack itself."""

from collections.abc import Callable
from functools import partial

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.ground.checklist import Result
from bot.ground.config import Config
from bot.ground.settings import Settings
from bot.slack.client import slack_client, tls
from bot.slack.scopes import Feature, features_in_use, granted_scopes, missing_scopes

INVITE = "/invite @All Ears"
BOT_TOKEN_FIX = "copy OAuth & Permissions → Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN"
REINSTALL = "reinstall the app (Install App → Reinstall to Workspace)"
TOKEN_ERRORS = {
    "invalid_auth": (
        "Slack does not know this token",
        BOT_TOKEN_FIX + " again: it changes when the app is reinstalled",
    ),
    "not_authed": ("no token reached Slack", BOT_TOKEN_FIX),
    "token_revoked": (
        "the token was revoked (the app was uninstalled, or the token regenerated)",
        f"{REINSTALL}, then {BOT_TOKEN_FIX}",
    ),
    "token_expired": (
        "the token expired: token rotation is on",
        f"turn token rotation off (token_rotation_enabled: false, as in manifest.yml), {REINSTALL} and {BOT_TOKEN_FIX}",
    ),
    "account_inactive": (
        "the bot user or the workspace is deactivated",
        f"{REINSTALL} with an active workspace admin, then {BOT_TOKEN_FIX}",
    ),
    "team_access_not_granted": ("the workspace has not granted this app access", REINSTALL + " in this workspace"),
    "not_allowed_token_type": ("Slack refuses this kind of token here", BOT_TOKEN_FIX),
}
APP_TOKEN_FIX = (
    "Basic Information → App-Level Tokens → Generate Token and Scopes, with the connections:write scope, "
    "and put the xapp-… token in SLACK_APP_TOKEN (or unset it to receive Slack's requests over HTTP)"
)

Call = Callable[[], SlackResponse]


def scope_fix(scopes: list[str]) -> str:
    return (
        f"add {', '.join(scopes)} under OAuth & Permissions → Scopes → Bot Token Scopes (or paste manifest.yml "
        f"again under App Manifest), then {REINSTALL}"
    )


def errors_page(method: str) -> str:
    return f"Slack's error code says why: see https://api.slack.com/methods/{method}#errors, then check again"


def _ask(call: Call) -> tuple[SlackResponse, str | None]:
    """Slack's answer and its error code (None when ok)."""
    try:
        return call(), None
    except SlackApiError as error:
        return error.response, str(error.response.get("error") or f"HTTP {error.response.status_code}")


def _header(response: SlackResponse, name: str) -> str | None:
    return next((value for key, value in (response.headers or {}).items() if key.lower() == name), None)


def check_slack(settings: Settings, config: Config | None) -> list[Result]:
    results = [*_signing_secret(settings), *_app_token(settings)]
    token = settings.slack_bot_token
    if not token:
        return [Result("SLACK_BOT_TOKEN", ok=False, detail="not set", fix=BOT_TOKEN_FIX), *results]
    if not token.startswith("xoxb-"):
        detail = "not a bot token (those start with xoxb-)"
        return [Result("SLACK_BOT_TOKEN", ok=False, detail=detail, fix=BOT_TOKEN_FIX), *results]
    client = slack_client(settings)
    try:
        answer, error = _ask(client.auth_test)
    except OSError as failure:
        detail = f"Slack does not answer at {settings.slack_api_url}: {type(failure).__name__}"
        fix = "check this machine's network (proxy, firewall) and SLACK_API_URL (leave it unset for Slack itself)"
        return [Result("SLACK_BOT_TOKEN", ok=False, detail=detail, fix=fix), *results]
    if error:
        detail, fix = TOKEN_ERRORS.get(error, ("Slack refused it", errors_page("auth.test")))
        detail += f" ({error}); scopes, channels and user groups are checked once Slack accepts it"
        return [Result("SLACK_BOT_TOKEN", ok=False, detail=detail, fix=fix), *results]
    workspace = f"valid: @{answer.get('user')} in the workspace {answer.get('team')}"
    results.insert(0, Result("SLACK_BOT_TOKEN", ok=True, detail=workspace))
    granted = granted_scopes(_header(answer, "x-oauth-scopes"))
    results += check_scopes(granted, features_in_use(config))
    if config is not None:
        results += _channels(client, config, granted)
        results += _usergroups(client, config)
    return results


def _signing_secret(settings: Settings) -> list[Result]:
    if settings.slack_signing_secret:
        return [Result("SLACK_SIGNING_SECRET", ok=True, detail="set")]
    fix = "copy Basic Information → App Credentials → Signing Secret into SLACK_SIGNING_SECRET"
    return [Result("SLACK_SIGNING_SECRET", ok=False, detail="not set (`run` and `serve` need it)", fix=fix)]


def _app_token(settings: Settings) -> list[Result]:
    """Socket Mode depends on the app-level token, so it is tried the way `allears run` uses it."""
    token = settings.slack_app_token
    if not token:
        return [
            Result("SLACK_APP_TOKEN", ok=True, detail="not set: Slack reaches the bot over HTTP (POST /slack/events)")
        ]
    if not token.startswith("xapp-"):
        return [
            Result(
                "SLACK_APP_TOKEN", ok=False, detail="not an app-level token (those start with xapp-)", fix=APP_TOKEN_FIX
            )
        ]
    client = WebClient(base_url=settings.slack_api_url, timeout=10, ssl=tls())
    try:
        _, error = _ask(lambda: client.apps_connections_open(app_token=token))
    except OSError as failure:
        error = type(failure).__name__
    if error:
        detail = f"no Socket Mode connection could be opened with it ({error})"
        return [Result("SLACK_APP_TOKEN", ok=False, detail=detail, fix=APP_TOKEN_FIX)]
    return [Result("SLACK_APP_TOKEN", ok=True, detail="valid: Socket Mode connects")]


def check_scopes(granted: frozenset[str], features: list[Feature]) -> list[Result]:
    """One failure per missing scope, naming what it is for; `granted` comes from the `x-oauth-scopes` header."""
    if not granted:
        detail = "Slack's answer did not say which scopes the app has (no x-oauth-scopes header)"
        return [Result("scopes", ok=False, detail=detail, fix="check SLACK_API_URL: it should be Slack's Web API")]
    missing = missing_scopes(granted, features)
    if not missing:
        return [Result("scopes", ok=True, detail=f"granted all that the {len(features)} features in use need")]
    return [
        Result(f"scope {scope}", ok=False, detail="not granted; needed for " + ", ".join(needs), fix=scope_fix([scope]))
        for scope, needs in missing.items()
    ]


def _places(pairs: list[tuple[str | None, str]]) -> dict[str, list[str]]:
    places: dict[str, list[str]] = {}
    for slack_id, where in pairs:
        if slack_id:
            places.setdefault(slack_id, []).append(where)
    return places


def configured_channels(config: Config) -> dict[str, list[str]]:
    """Each channel the config names, with where it names it."""
    return _places(
        [
            (config.channels.default, "channels.default"),
            (config.channels.feedback, "channels.feedback"),
            *((route.channel, f"routes[{index}].channel") for index, route in enumerate(config.routes)),
            *((team.channel, f"teams.{name}.channel") for name, team in config.teams.items()),
            (config.summary.channel, "summary.channel"),
        ]
    )


def configured_usergroups(config: Config) -> dict[str, list[str]]:
    return _places(
        [
            *((route.usergroup, f"routes[{index}].usergroup") for index, route in enumerate(config.routes)),
            *((team.usergroup, f"teams.{name}.usergroup") for name, team in config.teams.items()),
            (config.sla.usergroup, "sla.usergroup"),
        ]
    )


def _channels(client: WebClient, config: Config, granted: frozenset[str]) -> list[Result]:
    """The bot posts where it is a member, and in any public channel with chat:write.public; the weekly chart is
    an upload, which Slack takes only from members."""
    chart_channel = config.summary_channel if config.summary.enabled else None
    results = []
    for channel, places in configured_channels(config).items():
        name = f"channel {channel} ({', '.join(places)})"
        answer, error = _ask(partial(client.conversations_info, channel=channel))
        if error == "channel_not_found":
            detail = "not found, or private without the bot in it"
            fix = (
                "check the ID (in Slack, open the channel's details: the ID is at the bottom); if the channel is "
                f"private, `{INVITE}` in it"
            )
            results.append(Result(name, ok=False, detail=detail, fix=fix))
            continue
        if error == "missing_scope":
            needed = str(answer.get("needed") or "channels:read, groups:read")
            detail = f"cannot be looked up without {needed}"
            results.append(Result(name, ok=False, detail=detail, fix=scope_fix(needed.split(","))))
            continue
        if error:
            fix = errors_page("conversations.info")
            results.append(Result(name, ok=False, detail=f"Slack refused to look it up ({error})", fix=fix))
            continue
        about = answer.get("channel") or {}
        hashed = f"#{about.get('name', channel)}"
        if about.get("is_archived"):
            fix = f"unarchive {hashed}, or name another channel in {' and '.join(places)}"
            results.append(Result(name, ok=False, detail=f"{hashed} is archived", fix=fix))
        elif about.get("is_member"):
            results.append(Result(name, ok=True, detail=f"{hashed}, the bot is a member"))
        elif about.get("is_private"):
            detail = f"{hashed} is private and the bot is not in it"
            results.append(Result(name, ok=False, detail=detail, fix=f"`{INVITE}` in {hashed}"))
        elif channel == chart_channel:
            detail = f"{hashed}: the bot is not in it, and Slack takes the weekly chart's upload only from members"
            results.append(Result(name, ok=False, detail=detail, fix=f"`{INVITE}` in {hashed}"))
        elif "chat:write.public" in granted:
            results.append(Result(name, ok=True, detail=f"{hashed}, public: the bot posts without an invitation"))
        else:
            detail = f"{hashed}: the bot is not in it and cannot post in public channels (no chat:write.public)"
            fix = f"`{INVITE}` in {hashed}, or " + scope_fix(["chat:write.public"])
            results.append(Result(name, ok=False, detail=detail, fix=fix))
    return results


def _usergroups(client: WebClient, config: Config) -> list[Result]:
    wanted = configured_usergroups(config)
    if not wanted:
        return []
    answer, error = _ask(lambda: client.usergroups_list(include_disabled=True))
    if error:
        fix = scope_fix(["usergroups:read"]) if error == "missing_scope" else errors_page("usergroups.list")
        detail = f"Slack refused to list them ({error})"
        return [Result("user groups", ok=False, detail=detail, fix=fix)]
    existing = {group.get("id"): group for group in answer.get("usergroups") or []}
    results = []
    for group_id, places in wanted.items():
        name = f"user group {group_id} ({', '.join(places)})"
        group = existing.get(group_id)
        if group is None:
            fix = (
                "check the ID (in Slack, open People → User groups, the group's ⋯ menu → Copy group ID), "
                f"or remove it from {' and '.join(places)}"
            )
            results.append(Result(name, ok=False, detail="no such user group in this workspace", fix=fix))
        elif group.get("date_delete"):
            fix = f"enable @{group.get('handle')} again, or name another group in {' and '.join(places)}"
            results.append(Result(name, ok=False, detail=f"@{group.get('handle')} is disabled", fix=fix))
        else:
            results.append(Result(name, ok=True, detail=f"@{group.get('handle')}"))
    return results
