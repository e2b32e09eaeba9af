"""Reading a submitted form before its modal closes: a mistake comes back on its field, with what was typed kept."""

from collections.abc import Callable

from bot.ground.errors import UserError
from bot.slack.ids import InputId
from bot.slack.payloads import ViewSubmissionPayload
from handlers import Deps
from handlers.errors import Body, Check, Handler, Listener, after_ack


class FieldError(UserError):
    """A mistake in one input of a form, shown under that input."""

    def __init__(self, field: InputId, message: str) -> None:
        super().__init__(message)
        self.field = field


def required(form: ViewSubmissionPayload, input_id: InputId, missing: str) -> str:
    value = form.input(input_id)
    if not value or not value.strip():
        raise FieldError(input_id, missing)
    return value


Reader = Callable[[ViewSubmissionPayload], object]


def checked_by(deps: Deps) -> Callable[[Reader], Callable[[Handler], Listener]]:
    """Listeners for a form read by `read` before the modal closes: a mistake stays in the modal, on its field."""

    def checked(read: Reader) -> Callable[[Handler], Listener]:
        return after_ack(deps.work, afterwards=deps.homes.after_action, check=_check(read))

    return checked


def _check(read: Reader) -> Check:
    def problems(body: Body) -> dict[str, str]:
        try:
            read(ViewSubmissionPayload.of(body))
        except FieldError as error:
            return {error.field: str(error)}
        return {}

    return problems
