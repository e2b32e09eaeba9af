"""A person's Slack requests handed straight to a Bolt app in the test's own process, signed as Slack signs
them: the listeners run as they do behind HTTP (signature check, middleware, ack, the work after it), without
a subprocess or a socket in front."""

from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.app.standin.users import SIGNING_SECRET, ResponseUrls, SlackUser


class InProcessUser(SlackUser):
    """`SlackUser`'s requests (command, click, choose, submit, shortcut, event…), answered by `app.dispatch`."""

    def __init__(
        self, user_id: str, app: App, fake: ResponseUrls, *, secret: str = SIGNING_SECRET, forged: dict[str, str]
    ) -> None:
        """`forged`: a `timestamp` or `signature` that every request of this person carries instead of Slack's."""
        super().__init__(user_id, "http://in-process", fake, secret=secret)
        self._app = app
        self._forged = forged
        self._last: tuple[str, str] = ("", "")

    def post(self, body: str, content_type: str = "application/x-www-form-urlencoded", **overrides: str) -> Any:
        self._last = (body, content_type)
        return self._send(body, self.signed_headers(body, content_type, **{**self._forged, **overrides}))

    def resend(self, *, headers: dict[str, str]) -> BoltResponse:
        """The last request again, freshly signed, as Slack re-sends what it thinks was missed."""
        body, content_type = self._last
        return self._send(body, {**self.signed_headers(body, content_type), **headers})

    def _send(self, body: str, headers: dict[str, str]) -> BoltResponse:
        return self._app.dispatch(
            BoltRequest(body=body, headers={name.lower(): value for name, value in headers.items()})
        )


def answer(response: BoltResponse) -> str:
    """What Slack shows the person straight away: the ack's body."""
    assert response.status == 200, (response.status, response.body)
    return response.body
