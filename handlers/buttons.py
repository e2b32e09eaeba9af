"""Card and alert buttons. Each acks at once; refusals reach only the person who clicked."""

import logging
from datetime import timedelta

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.act import actions
from bot.ground.clock import utcnow
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.mentions import get_mention
from bot.ground.models import Mention, Outcome
from bot.hear.sources.reply_limits import ReplyLimit
from bot.slack.digest_messages import unmuted_confirmation
from bot.slack.ids import ActionId
from bot.slack.modals import ModalContext, escalate_modal, reply_modal, resolve_modal, snooze_modal
from bot.slack.payloads import BlockActionPayload, SnoozeChoice
from bot.slack.reminders import PICK
from handlers import Deps
from handlers.answering import confirm
from handlers.errors import Body, after_ack
from handlers.trackers import open_create_issue, open_link_issue

log = logging.getLogger(__name__)


def _snooze_choice(click: BlockActionPayload) -> tuple[int, timedelta | None]:
    """The mention and the length chosen in a card's snooze menu (`7:4h`, or `7:off` to wake it); no length when
    the person wants to pick the moment (`7:until`)."""
    chosen = SnoozeChoice.of(click.action.choice())
    if chosen.choice == PICK:
        return chosen.mention, None
    try:
        return chosen.mention, actions.parse_snooze(chosen.choice)
    except UserError:
        raise UserError("This menu is out of date; use the latest card.") from None


def _modal_context(
    click: BlockActionPayload, mention: Mention, *, reply_limit: ReplyLimit | None = None
) -> ModalContext:
    assert mention.id is not None
    return ModalContext(mention_id=mention.id, response_url=click.response_url, reply_limit=reply_limit)


def register(app: App, deps: Deps) -> None:
    acknowledged = after_ack(deps.work, afterwards=deps.homes.after_action)

    def _open_mention(click: BlockActionPayload, *, refuse_resolved: bool) -> Mention:
        with read_scope(deps.engine) as session:
            mention = get_mention(session, click.mention())
        if refuse_resolved:
            actions.refuse_if_closed(mention)
        return mention

    @app.action(ActionId.CLAIM)
    @acknowledged
    def handle_claim_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        with session_scope(deps.engine) as session:
            actions.claim(session, mention_id=click.mention(), user_id=click.actor())
        deps.notify()

    @app.action(ActionId.UNCLAIM)
    @acknowledged
    def handle_unclaim_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        with session_scope(deps.engine) as session:
            actions.unclaim(session, mention_id=click.mention(), user_id=click.actor())
        deps.notify()

    @app.action(ActionId.REOPEN)
    @acknowledged
    def handle_reopen_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        with session_scope(deps.engine) as session:
            actions.reopen(session, mention_id=click.mention(), user_id=click.actor())
        deps.notify()

    @app.action(ActionId.ACKNOWLEDGE)
    @acknowledged
    def handle_acknowledge_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        with session_scope(deps.engine) as session:
            actions.acknowledge(session, escalation_id=click.escalation(), user_id=click.actor())
        deps.notify()

    @app.action(ActionId.SNOOZE)
    @acknowledged
    def handle_snooze_menu(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        mention_id, duration = _snooze_choice(click)
        if duration is None:
            with read_scope(deps.engine) as session:
                mention = get_mention(session, mention_id)
            actions.refuse_if_closed(mention)
            tomorrow = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
            view = snooze_modal(mention, _modal_context(click, mention), initial=tomorrow)
            client.views_open(trigger_id=click.opened_with(), view=view)
            return
        with session_scope(deps.engine) as session:
            actions.snooze(session, mention_id=mention_id, user_id=click.actor(), duration=duration)
        deps.notify()

    @app.action(ActionId.MORE)
    @acknowledged
    def handle_card_menu(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        chosen = click.menu_choice()
        if chosen.do in ("create-issue", "link-issue"):
            open_form = open_create_issue if chosen.do == "create-issue" else open_link_issue
            open_form(
                deps, client, trigger_id=click.opened_with(), mention_id=chosen.mention, response_url=click.response_url
            )
            return
        with session_scope(deps.engine) as session:
            actions.resolve(session, mention_id=chosen.mention, user_id=click.actor(), outcome=Outcome.NOT_RELEVANT)
        deps.notify()

    @app.action(ActionId.UNMUTE)
    @acknowledged
    def handle_unmute_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        with session_scope(deps.engine) as session:
            mention = actions.unmute(session, mention_id=click.mention(), user_id=click.actor())
        deps.notify()
        confirm(click, client, unmuted_confirmation(mention))

    @app.action(ActionId.REPLY)
    @acknowledged
    def handle_reply_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        mention = _open_mention(click, refuse_resolved=False)
        modal_context = _modal_context(click, mention, reply_limit=deps.replies.limit(mention))
        target, drafts = deps.replies.target(mention), deps.drafts
        view = reply_modal(mention, modal_context, source_target=target, suggesting=drafts is not None)
        opened = client.views_open(trigger_id=click.opened_with(), view=view)["view"]
        if drafts is None:
            return
        suggestion = drafts.suggest(mention, user_id=click.actor())
        view = reply_modal(mention, modal_context, source_target=target, suggesting=True, suggestion=suggestion)
        try:  # what was typed meanwhile stays: the reply's input is the same block
            client.views_update(view_id=opened["id"], hash=opened.get("hash"), view=view)
        except SlackApiError as error:  # closed or sent meanwhile: the suggestion came too late to matter
            log.info("the suggested reply for %s was not shown: %s", mention.reference, error.response.get("error"))

    @app.action(ActionId.ESCALATE)
    @acknowledged
    def handle_escalate_button(body: Body, client: WebClient) -> None:
        if not deps.config.teams:
            raise UserError("No teams are configured; add a `[teams.<name>]` section with its channel to allears.toml.")
        click = BlockActionPayload.of(body)
        mention = _open_mention(click, refuse_resolved=True)
        view = escalate_modal(mention, list(deps.config.teams), _modal_context(click, mention))
        client.views_open(trigger_id=click.opened_with(), view=view)

    @app.action(ActionId.RESOLVE)
    @acknowledged
    def handle_resolve_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        mention = _open_mention(click, refuse_resolved=True)
        client.views_open(trigger_id=click.opened_with(), view=resolve_modal(mention, _modal_context(click, mention)))
