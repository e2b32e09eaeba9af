"""Tracker issues from Slack: Create issue (the card's menu, the escalation message, `/allears issue`), Link to
issue (the card's menu, `/allears link`), and Tell the customer once the issue shipped."""

from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient

from bot.act.trackers import SEARCH_RESULTS, Issue, TrackerError, TrackerRefused
from bot.act.trackers.evidence import first_body
from bot.act.trackers.issues import already_told, issue_of, link_issue, request_issue, shipped_note, tell_customer
from bot.act.trackers.registry import NONE_CONFIGURED, TrackerSet
from bot.ground.db import read_scope, session_scope
from bot.ground.errors import UserError
from bot.ground.mentions import get_mention, parse_reference
from bot.ground.models import TrackerIssueState
from bot.slack.ids import ActionId, InputId, ViewId
from bot.slack.modals import (
    POST_ON_SOURCE,
    ModalContext,
    create_issue_modal,
    issue_title,
    link_issue_modal,
    tell_customer_modal,
)
from bot.slack.payloads import BlockActionPayload, CommandPayload, ViewSubmissionPayload
from handlers import Deps
from handlers.answering import confirm
from handlers.errors import Body, after_ack
from handlers.forms import FieldError, checked_by, required

ISSUE_USAGE = "`/allears issue M-7 [tracker] [title]`"
LINK_USAGE = "`/allears link M-9 GH-123`"


def _trackers(deps: Deps) -> TrackerSet:
    if deps.trackers is None or not deps.trackers.by_name:
        raise UserError(NONE_CONFIGURED)
    return deps.trackers


def open_create_issue(
    deps: Deps,
    client: WebClient,
    *,
    trigger_id: str | None,
    mention_id: int,
    response_url: str | None,
    tracker: str | None = None,
    title: str | None = None,
) -> None:
    trackers = _trackers(deps)
    chosen = trackers.named(tracker).name
    if trigger_id is None:
        raise UserError("Slack sent no way to open the form; try again from the card's menu.")
    with read_scope(deps.engine) as session:
        mention = get_mention(session, mention_id)
        if (linked := issue_of(session, mention)) is not None:
            raise UserError(f"{mention.reference} is evidence on {linked.key} already: {linked.url}")
        body = first_body(session, mention)
    view = create_issue_modal(
        mention,
        ModalContext(mention_id=mention_id, response_url=response_url),
        trackers=list(trackers.by_name),
        tracker=chosen,
        title=title or issue_title(mention),
        body=body,
    )
    client.views_open(trigger_id=trigger_id, view=view)


def open_link_issue(
    deps: Deps, client: WebClient, *, trigger_id: str | None, mention_id: int, response_url: str | None
) -> None:
    _trackers(deps)
    if trigger_id is None:
        raise UserError("Slack sent no way to open the form; try again from the card's menu.")
    with read_scope(deps.engine) as session:
        mention = get_mention(session, mention_id)
    client.views_open(
        trigger_id=trigger_id,
        view=link_issue_modal(mention, ModalContext(mention_id=mention_id, response_url=response_url)),
    )


def link(deps: Deps, *, mention_id: int, key: str, user_id: str) -> str:
    """Read the issue from its tracker (it must exist), then make the mention evidence on it."""
    tracker, ref = _trackers(deps).find_key(key)
    try:
        issue = tracker.get(ref)
    except TrackerRefused as refused:
        raise UserError(f"{refused}" + (f"; {refused.fix}" if refused.fix else "")) from None
    except TrackerError as busy:
        raise UserError(f"The tracker did not answer ({busy}); try again in a minute.") from None
    with session_scope(deps.engine) as session:
        row = link_issue(session, mention_id=mention_id, user_id=user_id, tracker=tracker.name, issue=issue)
    deps.notify()
    shipped = (
        " It has shipped already: its thread offers *Tell the customer*." if row.state == TrackerIssueState.DONE else ""
    )
    return f"M-{mention_id} is evidence on *{row.key}* now; its description counts it.{shipped}"


def issue_command(deps: Deps, command: CommandPayload, client: WebClient, rest: str) -> None:
    """`/allears issue M-7 [tracker] [title]`: the Create issue form, with what was typed filled in."""
    words = rest.split(None, 1)
    if not words:
        raise UserError(f"Which mention? Usage: {ISSUE_USAGE}")
    mention_id = parse_reference(words[0])
    rest = words[1] if len(words) > 1 else ""
    tracker, _, title = rest.partition(" ")
    if not _trackers(deps).is_tracker(tracker):
        tracker, title = "", rest
    open_create_issue(
        deps,
        client,
        trigger_id=command.trigger_id,
        mention_id=mention_id,
        response_url=command.response_url,
        tracker=tracker or None,
        title=title.strip() or None,
    )


def link_command(deps: Deps, command: CommandPayload, client: WebClient, rest: str) -> None:
    words = rest.split()
    if len(words) != 2:
        raise UserError(f"Which mention, and which issue? Usage: {LINK_USAGE}")
    confirm(command, client, link(deps, mention_id=parse_reference(words[0]), key=words[1], user_id=command.user_id))


@dataclass(frozen=True)
class IssueForm:
    context: ModalContext
    tracker: str
    title: str
    labels: list[str]
    body: str


@dataclass(frozen=True)
class TellForm:
    context: ModalContext
    text: str
    on_source: bool
    told_at: str | None


def register(app: App, deps: Deps) -> None:
    acknowledged = after_ack(deps.work, afterwards=deps.homes.after_action)
    checked = checked_by(deps)

    @app.action(ActionId.CREATE_ISSUE)
    @acknowledged
    def handle_create_issue_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        open_create_issue(
            deps, client, trigger_id=click.opened_with(), mention_id=click.mention(), response_url=click.response_url
        )

    @app.action(ActionId.TELL_CUSTOMER)
    @acknowledged
    def handle_tell_customer_button(body: Body, client: WebClient) -> None:
        click = BlockActionPayload.of(body)
        with read_scope(deps.engine) as session:
            mention = get_mention(session, click.mention())
            row = issue_of(session, mention)
            if row is None or row.state != TrackerIssueState.DONE:
                raise UserError(f"{mention.reference}'s issue has not shipped (or was reopened): nothing to tell yet.")
            if (told := already_told(session, click.mention(), row.id or 0)) is not None:
                raise UserError(f"<@{told.actor}> told this customer already that {row.key} shipped.")
            text = shipped_note(row)
        view = tell_customer_modal(
            mention,
            ModalContext(mention_id=click.mention(), response_url=click.response_url),
            text=text,
            source_target=deps.replies.target(mention),
        )
        client.views_open(trigger_id=click.opened_with(), view=view)

    @app.action(InputId.ISSUE_SEARCH)
    @acknowledged
    def handle_issue_search(body: Body, client: WebClient) -> None:
        """Enter in the Link form's search box: the form again, with the open issues that match."""
        typed = BlockActionPayload.of(body)
        text, view = (typed.action.value or "").strip(), typed.view
        if view is None or not view.id:
            raise UserError("This form is out of date; open it again from the card.")
        modal_context = ModalContext.of_metadata(view.private_metadata)
        found: list[Issue] = []
        for tracker in _trackers(deps).by_name.values():
            try:
                found += tracker.search(text) if text else []
            except TrackerError as error:
                raise UserError(f"The {tracker.name} search did not work: {error}") from None
        with read_scope(deps.engine) as session:
            mention = get_mention(session, modal_context.mention_id)
        form = link_issue_modal(mention, modal_context, query=text, found=found[:SEARCH_RESULTS])
        client.views_update(view_id=view.id, hash=view.hash, view=form)

    def read_issue(submission: ViewSubmissionPayload) -> IssueForm:
        modal_context = ModalContext.of_submission(submission)
        tracker = required(submission, InputId.ISSUE_TRACKER, "Choose a tracker.")
        try:
            _trackers(deps).named(tracker)
        except UserError as error:
            raise FieldError(InputId.ISSUE_TRACKER, str(error)) from None
        title = required(submission, InputId.ISSUE_TITLE, "Give the issue a title.").strip()
        labels = [label.strip() for label in (submission.input(InputId.ISSUE_LABELS) or "").split(",") if label.strip()]
        body = required(submission, InputId.ISSUE_BODY, "Say what the customer needs.")
        return IssueForm(modal_context, tracker, title, labels, body)

    def read_link(submission: ViewSubmissionPayload) -> str:
        key = (submission.input(InputId.ISSUE_PICK) or submission.input(InputId.ISSUE_KEY) or "").strip()
        if not key:
            raise FieldError(InputId.ISSUE_KEY, "Pick an issue the search found, or type its key or link.")
        try:
            _trackers(deps).find_key(key)
        except UserError as error:
            raise FieldError(InputId.ISSUE_KEY, str(error)) from None
        return key

    def read_tell(submission: ViewSubmissionPayload) -> TellForm:
        text = required(submission, InputId.TOLD_TEXT, "Write what you tell the customer.").strip()
        on_source = submission.input(InputId.TOLD_ON_SOURCE) == POST_ON_SOURCE
        told_at = (submission.input(InputId.TOLD_AT) or "").strip() or None
        return TellForm(ModalContext.of_submission(submission), text, on_source, told_at)

    @app.view(ViewId.CREATE_ISSUE)
    @checked(read_issue)
    def handle_create_issue_submission(body: Body, client: WebClient) -> None:
        submission = ViewSubmissionPayload.of(body)
        form = read_issue(submission)
        with session_scope(deps.engine) as session:
            request_issue(
                session,
                mention_id=form.context.mention_id,
                user_id=submission.actor(),
                tracker=form.tracker,
                title=form.title,
                labels=form.labels,
                body=form.body,
            )
        deps.notify()
        confirm(
            submission,
            client,
            f"Creating the issue in {form.tracker}; its key and link will be on M-{form.context.mention_id}'s card.",
        )

    @app.view(ViewId.LINK_ISSUE)
    @checked(read_link)
    def handle_link_issue_submission(body: Body, client: WebClient) -> None:
        submission = ViewSubmissionPayload.of(body)
        mention_id = ModalContext.of_submission(submission).mention_id
        confirm(
            submission, client, link(deps, mention_id=mention_id, key=read_link(submission), user_id=submission.actor())
        )

    @app.view(ViewId.TELL_CUSTOMER)
    @checked(read_tell)
    def handle_tell_customer_submission(body: Body, client: WebClient) -> None:
        submission = ViewSubmissionPayload.of(body)
        form = read_tell(submission)
        with session_scope(deps.engine) as session:
            told = tell_customer(
                session,
                mention_id=form.context.mention_id,
                user_id=submission.actor(),
                text=form.text,
                on_source=form.on_source,
                told_at=form.told_at,
            )
        deps.notify()
        how = "it is being posted on the source, once" if form.on_source else "recorded as told"
        confirm(submission, client, f"Told the customer of M-{told.mention_id} that {told.data['key']} shipped: {how}.")
