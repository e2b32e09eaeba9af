"""Modal submissions. The modal closes at once (ack); the outcome reaches the user privately."""

from slack_bolt import App
from slack_sdk import WebClient

from bot import actions
from bot.db import session_scope
from bot.errors import UserError
from bot.slack.ids import InputId, ViewId
from bot.slack.modals import POST_ON_SOURCE, ModalContext
from handlers import Deps
from handlers.commands import (
    escalation_confirmation,
    find_team,
    parse_outcome,
    reply_confirmation,
    resolve_confirmation,
)
from handlers.errors import Body, after_ack
from handlers.feedback import tell


def _input(body: Body, input_id: InputId) -> str | None:
    """A typed value or a chosen option's value; None when left empty."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    state = (values.get(input_id) or {}).get(input_id) or {}
    if state.get("type") == "static_select":
        return (state.get("selected_option") or {}).get("value")
    if state.get("type") == "checkboxes":
        return ",".join(option.get("value", "") for option in state.get("selected_options") or []) or None
    return state.get("value")


def _required(body: Body, input_id: InputId, what: str) -> str:
    value = _input(body, input_id)
    if not value or not value.strip():
        raise UserError(f"The form came without {what}; open it again from the card.")
    return value


def register(app: App, deps: Deps) -> None:
    acknowledged = after_ack(deps.work, afterwards=deps.homes.after_action)

    @app.view(ViewId.REPLY)
    @acknowledged
    def handle_reply_submission(body: Body, client: WebClient) -> None:
        mention_id, text = ModalContext.of_submission(body).mention_id, _required(body, InputId.REPLY_TEXT, "a reply")
        to_source = _input(body, InputId.POST_ON_SOURCE) == POST_ON_SOURCE
        with session_scope(deps.engine) as session:
            recorded = actions.reply(
                session, mention_id=mention_id, user_id=body["user"]["id"], text=text, to_source=to_source
            )
        deps.notify()
        tell(body, client, reply_confirmation(recorded))

    @app.view(ViewId.ESCALATE)
    @acknowledged
    def handle_escalate_submission(body: Body, client: WebClient) -> None:
        mention_id = ModalContext.of_submission(body).mention_id
        team_name, team = find_team(deps.config, _required(body, InputId.TEAM, "a team"))
        with session_scope(deps.engine) as session:
            escalation = actions.escalate(
                session,
                mention_id=mention_id,
                user_id=body["user"]["id"],
                team_name=team_name,
                team=team,
                reason=_input(body, InputId.REASON),
            )
        deps.notify()
        tell(body, client, escalation_confirmation(escalation))

    @app.view(ViewId.RESOLVE)
    @acknowledged
    def handle_resolve_submission(body: Body, client: WebClient) -> None:
        mention_id = ModalContext.of_submission(body).mention_id
        outcome = parse_outcome(_required(body, InputId.OUTCOME, "an outcome"))
        with session_scope(deps.engine) as session:
            mention = actions.resolve(
                session,
                mention_id=mention_id,
                user_id=body["user"]["id"],
                outcome=outcome,
                note=_input(body, InputId.NOTE),
                feedback_channel=deps.config.feedback_channel,
            )
        deps.notify()
        tell(body, client, resolve_confirmation(mention))
