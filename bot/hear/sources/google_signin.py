"""google-auth's side of a Google Play source: its service account's credentials and their token exchange,
over this process's bounded HTTP. Imported by a first sign-in, not at start-up: google-auth and the
cryptography it loads are a tenth of what a process imports."""

import json
from typing import Any

import httpx
from google.auth import exceptions as auth_errors
from google.auth import transport
from google.oauth2 import service_account

from bot.ground.config_sources import GooglePlaySource
from bot.ground.config_types import secret
from bot.ground.text import normalize_space
from bot.hear.sources import SourceError
from bot.hear.sources.http import TIMEOUT


def credentials(source: GooglePlaySource, scope: str) -> service_account.Credentials:
    """From the service account's JSON key, never shown in a message."""
    try:
        info = json.loads(secret(source.credentials_env) or "")
        return service_account.Credentials.from_service_account_info(info, scopes=[scope])
    except (ValueError, TypeError, KeyError) as error:
        raise SourceError(f"{source.credentials_env} holds no service account's JSON key") from error


def refresh(credentials: service_account.Credentials, http: httpx.Client) -> None:
    """A new access token from the account's `token_uri`, or a SourceError saying why not."""
    try:
        credentials.refresh(_Transport(http))
    except auth_errors.GoogleAuthError as error:
        raise SourceError(f"could not sign in as {credentials.service_account_email}: {_reason(error)}") from error


def _reason(error: Exception) -> str:
    """What the token endpoint said (`invalid_grant: Invalid JWT Signature.`), without anything secret in it."""
    first = error.args[0] if error.args else ""
    return normalize_space(str(first))[:200] or type(error).__name__


class _Transport(transport.Request):
    """google-auth's HTTP, done by this process's client, bounded like every source's."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def __call__(
        self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **_: Any
    ) -> transport.Response:
        try:
            response = self._http.request(method, url, content=body, headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as error:
            raise auth_errors.TransportError(type(error).__name__) from error
        return _Response(response)


class _Response(transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Any:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content
