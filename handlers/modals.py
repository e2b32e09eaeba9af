"""Modal submissions. Each form is read before the modal closes: a mistake comes back on its field, with what was
typed kept; a good form closes at once (ack) and its outcome reaches the person privately."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot.act import actions
from bot.ground.clock import utcnow
from bot.ground.config import Team
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.mentions import get_mention
from bot.ground.models import Outcome
from bot.slack.ids import InputId, ViewId
from bot.slack.modals import POST_ON_SOURCE, ModalContext
from handlers import Deps
from handlers.answering import confirm
from handlers.commands import (
    escalation_confirmation,
    find_team,
    parse_outcome,
    reply_confirmation,
    resolve_confirmation,
    snooze_confirmation,
)
from handlers.errors import Body, Check, Handler, Listener, after_ack


class FieldError(UserError):
    """A mistake in one input of a form, shown under that input."""

    def __init__(self, field: InputId, message: str) -> None:
        super().__init__(message)
        self.field = field


def _input(body: Body, input_id: InputId) -> str | None:
    """A typed value, a chosen option's value, or a picked moment (unix seconds); None when left empty."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    state = (values.get(input_id) or {}).get(input_id) or {}
    if state.get("type") == "static_select":
        return (state.get("selected_option") or {}).get("value")
    if state.get("type") == "checkboxes":
        return ",".join(option.get("value", "") for option in state.get("selected_options") or []) or None
    if state.get("type") == "datetimepicker":
        picked = state.get("selected_date_time")
        return str(picked) if picked is not None else None
    return state.get("value")


def _required(body: Body, input_id: InputId, missing: str) -> str:
    value = _input(body, input_id)
    if not value or not value.strip():
        raise FieldError(input_id, missing)
    return value


@dataclass(frozen=True)
class ReplyForm:
    context: ModalContext
    text: str
    to_source: bool


@dataclass(frozen=True)
class EscalateForm:
    context: ModalContext
    team_name: str
    team: Team
    reason: str | None


@dataclass(frozen=True)
class ResolveForm:
    context: ModalContext
    outcome: Outcome
    note: str | None


@dataclass(frozen=True)
class SnoozeForm:
    context: ModalContext
    duration: timedelta


def register(app: App, deps: Deps) -> None:
    def checked(read: Callable[[Body], object]) -> Callable[[Handler], Listener]:
        return after_ack(deps.work, afterwards=deps.homes.after_action, check=_check(read))

    def context(body: Body, field: InputId) -> ModalContext:
        """The mention the modal is about, which must still exist; any problem is shown on `field`."""
        try:
            modal_context = ModalContext.of_submission(body)
            with read_scope(deps.engine) as session:
                get_mention(session, modal_context.mention_id)
        except UserError as error:
            raise FieldError(field, str(error)) from None
        return modal_context

    def read_reply(body: Body) -> ReplyForm:
        modal_context = context(body, InputId.REPLY_TEXT)
        text = _required(body, InputId.REPLY_TEXT, "Write what you answered the customer.").strip()
        to_source = _input(body, InputId.POST_ON_SOURCE) == POST_ON_SOURCE
        limit = modal_context.reply_limit
        if to_source and limit is not None and (problem := limit.problem(text)):
            raise FieldError(
                InputId.REPLY_TEXT, f"Too long to post on the source: {problem}. Shorten it, or untick the box."
            )
        return ReplyForm(modal_context, text, to_source)

    def read_escalation(body: Body) -> EscalateForm:
        modal_context = context(body, InputId.TEAM)
        chosen = _required(body, InputId.TEAM, "Choose a team.")
        try:
            team_name, team = find_team(deps.config, chosen)
        except UserError as error:
            raise FieldError(InputId.TEAM, str(error)) from None
        return EscalateForm(modal_context, team_name, team, _input(body, InputId.REASON))

    def read_resolution(body: Body) -> ResolveForm:
        modal_context = context(body, InputId.OUTCOME)
        chosen = _required(body, InputId.OUTCOME, "Choose an outcome.")
        try:
            outcome = parse_outcome(chosen)
        except UserError as error:
            raise FieldError(InputId.OUTCOME, str(error)) from None
        return ResolveForm(modal_context, outcome, _input(body, InputId.NOTE))

    def read_snooze(body: Body) -> SnoozeForm:
        modal_context = context(body, InputId.SNOOZE_UNTIL)
        picked = _required(body, InputId.SNOOZE_UNTIL, "Pick when its SLA timers should run again.")
        try:
            until = datetime.fromtimestamp(int(picked), UTC)
        except (ValueError, OverflowError, OSError):
            raise FieldError(InputId.SNOOZE_UNTIL, "Pick a date and a time.") from None
        try:
            return SnoozeForm(modal_context, actions.snooze_until(until, now=utcnow()))
        except UserError as error:
            raise FieldError(InputId.SNOOZE_UNTIL, str(error)) from None

    @app.view(ViewId.REPLY)
    @checked(read_reply)
    def handle_reply_submission(body: Body, client: WebClient) -> None:
        form = read_reply(body)
        with session_scope(deps.engine) as session:
            recorded = actions.reply(
                session,
                mention_id=form.context.mention_id,
                user_id=body["user"]["id"],
                text=form.text,
                to_source=form.to_source,
            )
        deps.notify()
        confirm(body, client, reply_confirmation(recorded))

    @app.view(ViewId.ESCALATE)
    @checked(read_escalation)
    def handle_escalate_submission(body: Body, client: WebClient) -> None:
        form = read_escalation(body)
        with session_scope(deps.engine) as session:
            escalation = actions.escalate(
                session,
                mention_id=form.context.mention_id,
                user_id=body["user"]["id"],
                team_name=form.team_name,
                team=form.team,
                reason=form.reason,
            )
        deps.notify()
        confirm(body, client, escalation_confirmation(escalation))

    @app.view(ViewId.RESOLVE)
    @checked(read_resolution)
    def handle_resolve_submission(body: Body, client: WebClient) -> None:
        form = read_resolution(body)
        with session_scope(deps.engine) as session:
            mention = actions.resolve(
                session,
                mention_id=form.context.mention_id,
                user_id=body["user"]["id"],
                outcome=form.outcome,
                note=form.note,
                feedback_channel=deps.config.feedback_channel,
            )
        deps.notify()
        confirm(body, client, resolve_confirmation(mention))

    @app.view(ViewId.SNOOZE)
    @checked(read_snooze)
    def handle_snooze_submission(body: Body, client: WebClient) -> None:
        form = read_snooze(body)
        with session_scope(deps.engine) as session:
            snoozed = actions.snooze(
                session, mention_id=form.context.mention_id, user_id=body["user"]["id"], duration=form.duration
            )
        deps.notify()
        confirm(body, client, snooze_confirmation(snoozed))


def _check(read: Callable[[Body], object]) -> Check:
    def problems(body: Body) -> dict[str, str]:
        try:
            read(body)
        except FieldError as error:
            return {error.field: str(error)}
        return {}

    return problems
