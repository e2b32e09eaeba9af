"""Modal submissions. Each form is read before the modal closes: a mistake comes back on its field, with what was
typed kept; a good form closes at once (ack) and its outcome reaches the person privately."""

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
from bot.slack.payloads import ViewSubmissionPayload
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
from handlers.errors import Body
from handlers.forms import FieldError, checked_by, required


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
    checked = checked_by(deps)

    def context(submission: ViewSubmissionPayload, field: InputId) -> ModalContext:
        """The mention the modal is about, which must still exist; any problem is shown on `field`."""
        try:
            modal_context = ModalContext.of_submission(submission)
            with read_scope(deps.engine) as session:
                get_mention(session, modal_context.mention_id)
        except UserError as error:
            raise FieldError(field, str(error)) from None
        return modal_context

    def read_reply(submission: ViewSubmissionPayload) -> ReplyForm:
        modal_context = context(submission, InputId.REPLY_TEXT)
        text = required(submission, InputId.REPLY_TEXT, "Write what you answered the customer.").strip()
        to_source = submission.input(InputId.POST_ON_SOURCE) == POST_ON_SOURCE
        limit = modal_context.reply_limit
        if to_source and limit is not None and (problem := limit.problem(text)):
            raise FieldError(
                InputId.REPLY_TEXT, f"Too long to post on the source: {problem}. Shorten it, or untick the box."
            )
        return ReplyForm(modal_context, text, to_source)

    def read_escalation(submission: ViewSubmissionPayload) -> EscalateForm:
        modal_context = context(submission, InputId.TEAM)
        chosen = required(submission, InputId.TEAM, "Choose a team.")
        try:
            team_name, team = find_team(deps.config, chosen)
        except UserError as error:
            raise FieldError(InputId.TEAM, str(error)) from None
        return EscalateForm(modal_context, team_name, team, submission.input(InputId.REASON))

    def read_resolution(submission: ViewSubmissionPayload) -> ResolveForm:
        modal_context = context(submission, InputId.OUTCOME)
        chosen = required(submission, InputId.OUTCOME, "Choose an outcome.")
        try:
            outcome = parse_outcome(chosen)
        except UserError as error:
            raise FieldError(InputId.OUTCOME, str(error)) from None
        return ResolveForm(modal_context, outcome, submission.input(InputId.NOTE))

    def read_snooze(submission: ViewSubmissionPayload) -> SnoozeForm:
        modal_context = context(submission, InputId.SNOOZE_UNTIL)
        picked = required(submission, InputId.SNOOZE_UNTIL, "Pick when its SLA timers should run again.")
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
        submission = ViewSubmissionPayload.of(body)
        form = read_reply(submission)
        with session_scope(deps.engine) as session:
            recorded = actions.reply(
                session,
                mention_id=form.context.mention_id,
                user_id=submission.actor(),
                text=form.text,
                to_source=form.to_source,
            )
        deps.notify()
        confirm(submission, client, reply_confirmation(recorded))

    @app.view(ViewId.ESCALATE)
    @checked(read_escalation)
    def handle_escalate_submission(body: Body, client: WebClient) -> None:
        submission = ViewSubmissionPayload.of(body)
        form = read_escalation(submission)
        with session_scope(deps.engine) as session:
            escalation = actions.escalate(
                session,
                mention_id=form.context.mention_id,
                user_id=submission.actor(),
                team_name=form.team_name,
                team=form.team,
                reason=form.reason,
            )
        deps.notify()
        confirm(submission, client, escalation_confirmation(escalation))

    @app.view(ViewId.RESOLVE)
    @checked(read_resolution)
    def handle_resolve_submission(body: Body, client: WebClient) -> None:
        submission = ViewSubmissionPayload.of(body)
        form = read_resolution(submission)
        with session_scope(deps.engine) as session:
            mention = actions.resolve(
                session,
                mention_id=form.context.mention_id,
                user_id=submission.actor(),
                outcome=form.outcome,
                note=form.note,
                feedback_channel=deps.config.feedback_channel,
            )
        deps.notify()
        confirm(submission, client, resolve_confirmation(mention))

    @app.view(ViewId.SNOOZE)
    @checked(read_snooze)
    def handle_snooze_submission(body: Body, client: WebClient) -> None:
        submission = ViewSubmissionPayload.of(body)
        form = read_snooze(submission)
        with session_scope(deps.engine) as session:
            snoozed = actions.snooze(
                session, mention_id=form.context.mention_id, user_id=submission.actor(), duration=form.duration
            )
        deps.notify()
        confirm(submission, client, snooze_confirmation(snoozed))
