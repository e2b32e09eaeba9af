"""The read API: what All Ears heard and what the team did, as JSON, for other tools (a data warehouse, a CRM).

`GET /api/v1/mentions` pages through mentions, `GET /api/v1/mentions/{ref}` shows one with its events, and
`GET /api/v1/openapi.json` describes both. The mentions need a bearer token from `[api] tokens_env`."""

import base64
import binascii
import hmac
import json
import logging
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, get_args

from flask import Blueprint, Response, request
from pydantic import AliasPath, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema
from sqlalchemy import Engine

from bot.ground.config_types import Category, Sentiment, Urgency, UserId
from bot.ground.db import session_scope, single_reads
from bot.ground.errors import UnknownMention, UserError
from bot.ground.logs import correlated
from bot.ground.mentions import parse_reference
from bot.ground.models import MentionStatus, Outcome
from bot.remember.export import parse_moment
from bot.remember.mention_pages import MentionFilter, Position, mention_history, mention_page
from bot.remember.page_json import JsonPage, JsonPages, Shown

log = logging.getLogger(__name__)

PAGE = 100
MOST = 500
_JSON = "application/json"


def _moment(value: object) -> object:
    """`2026-12-01` or `2026-12-01T09:30:00Z`; a moment without an offset is UTC."""
    if not isinstance(value, str):
        return value
    try:
        return parse_moment(value)
    except UserError:
        raise ValueError(f'"{value}" is not a date; write it like 2026-12-01 or 2026-12-01T09:30:00Z') from None


Name = Annotated[str, Field(min_length=1, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""No control character: PostgreSQL refuses a NUL in text, and no name holds one."""


class MentionQuery(BaseModel):
    """The query string of `GET /api/v1/mentions`: every filter is optional, and they all must hold."""

    model_config = ConfigDict(extra="forbid")

    since: Annotated[datetime | None, BeforeValidator(_moment)] = Field(
        None, description="Heard at or after this moment: 2026-12-01 (midnight UTC) or an ISO 8601 date-time."
    )
    status: MentionStatus | None = Field(None, description="open, resolved, joined (heard twice), muted, checking.")
    source: Name | None = Field(None, max_length=500, description="A source's name, as configured.")
    product: Name | None = Field(None, max_length=100, description="A `[[listen.products]]` name.")
    sentiment: Sentiment | None = Field(None, description="negative, neutral or positive.")
    owner: UserId | None = Field(None, description="The Slack user id of whoever claimed it.")
    limit: int = Field(PAGE, ge=1, le=MOST, description="Mentions per page.")
    cursor: str | None = Field(None, description="The `next_cursor` of the page before: the page after it.")


def _reference(mention_id: object) -> object:
    return f"M-{mention_id}" if isinstance(mention_id, int) else mention_id


_AS_REFERENCE = BeforeValidator(_reference)
Reference = Annotated[str, _AS_REFERENCE]


def _one_of(kind: type[StrEnum]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": [member.value for member in kind], "title": kind.__name__})


# What the bot wrote from these enums, shown as the text it is: validating 500 enum values a page took a sixth of
# the page's time. The document still lists the values.
SentimentText = Annotated[str, _one_of(Sentiment)]
CategoryText = Annotated[str, _one_of(Category)]
UrgencyText = Annotated[str, _one_of(Urgency)]
StatusText = Annotated[str, _one_of(MentionStatus)]
OutcomeText = Annotated[str, _one_of(Outcome)]


class MentionOut(BaseModel):
    """Read from a row of `mention_pages.SHOWN` (its column names are the validation aliases)."""

    reference: Reference = Field(validation_alias=AliasPath("id"), description="M-<id>, as Slack shows it.")
    id: int
    heard_at: datetime
    published_at: datetime | None
    source: str
    source_kind: str
    url: str | None
    author: str | None
    title: str | None
    text: str
    sentiment: SentimentText
    polarity: float
    category: CategoryText
    urgency: UrgencyText
    needs_human: bool
    product: str | None
    topic: str | None
    lang: str | None
    rating: int | None = Field(description="A store review's stars, 1 to 5 (App Store, Google Play); none elsewhere.")
    app_version: str | None = Field(description="The app version a store review is about, where the store tells it.")
    channel: str
    status: StatusText
    joined_to: Reference | None = Field(
        validation_alias="duplicate_of", description="For a `joined` mention, the reference of the one heard first."
    )
    owner: str | None = Field(validation_alias="owner_id", description="The Slack user id of whoever claimed it.")
    claimed_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None
    outcome: OutcomeText | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(description="What happened: posted, claimed, replied, escalated, resolved, reopened, …")
    actor: str | None = Field(description="The Slack user id of who did it; none for what the bot did itself.")
    at: datetime
    data: dict[str, Any]


class MentionWithEvents(MentionOut):
    events: list[EventOut] = Field(description="Its history, oldest first.")


class MentionPage(BaseModel):
    mentions: list[MentionOut]
    next_cursor: str | None = Field(
        description="Asks for the mentions after this page; kept, it later fetches what was heard since. "
        "None only when a first page finds nothing."
    )
    has_more: bool = Field(description="Whether mentions stored now come after this page.")


def _shown(name: str, field: FieldInfo) -> Shown:
    """How PostgreSQL writes a field of `MentionOut`: its key, the column it is validated from, and whether it
    shows a mention's id as its reference."""
    alias = field.validation_alias
    column = alias.path[0] if isinstance(alias, AliasPath) else alias or name
    reference = _AS_REFERENCE in field.metadata or Reference in get_args(field.annotation)
    return Shown(name, str(column), reference=reference)


SHOWN_AS = tuple(_shown(name, field) for name, field in MentionOut.model_fields.items())
"""`MentionOut` as PostgreSQL writes it (`bot.remember.page_json`)."""

_BEFORE_MENTIONS = '{"mentions":['


def _page_answer(page: JsonPage, cursor: str | None) -> Response:
    """`MentionPage` with the page's mentions as PostgreSQL wrote them: the rest of it is pydantic's own."""
    rest = MentionPage(mentions=[], next_cursor=cursor, has_more=page.more).model_dump_json()
    if not rest.startswith(_BEFORE_MENTIONS):
        raise ValueError(f"MentionPage no longer starts with its mentions: {rest}")
    return Response(_BEFORE_MENTIONS + page.mentions + rest.removeprefix(_BEFORE_MENTIONS), content_type=_JSON)


class ApiError(BaseModel):
    error: str
    parameter: str | None = Field(None, description="The query parameter or path part that is wrong.")


class BadCursor(ValueError):
    pass


def encode_cursor(position: Position) -> str:
    """Opaque to the caller, so what it holds may change; it is only ever handed back."""
    raw = json.dumps({"h": position.heard_at.isoformat(), "i": position.mention_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        heard_at = datetime.fromisoformat(raw["h"])
        mention_id = raw["i"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise BadCursor(cursor) from None
    if heard_at.tzinfo is None or type(mention_id) is not int or not 0 <= mention_id < 2**63:  # a BIGINT
        raise BadCursor(cursor)
    return Position(heard_at, mention_id)


def _answer(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(model.model_dump_json(), status=status, content_type=_JSON, headers=headers)


def _refused(error: str, status: int, parameter: str | None = None) -> Response:
    return _answer(ApiError(error=error, parameter=parameter), status)


def _query(args: dict[str, list[str]]) -> MentionQuery | Response:
    """The query string read into its model, or the 400 that names the first parameter that is wrong."""
    for name, values in args.items():
        if name not in MentionQuery.model_fields:
            known = ", ".join(MentionQuery.model_fields)
            return _refused(f"{name} is not a parameter of this endpoint; they are {known}", 400, name)
        if len(values) > 1:
            return _refused(f"give {name} once", 400, name)
    try:
        return MentionQuery.model_validate({name: values[0] for name, values in args.items()})
    except ValidationError as error:
        problem = error.errors()[0]
        name = str(problem["loc"][0])
        message = problem["msg"].removeprefix("Value error, ")
        return _refused(f"{name}: {message}", 400, name)


def _bearer(header: str | None) -> bytes | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip().encode() if scheme.lower() == "bearer" and token.strip() else None


def read_api(engine: Engine, *, tokens: list[str]) -> Blueprint:
    """The API's routes; `tokens` are the bearer tokens that may read."""
    accepted = [token.encode() for token in tokens]
    reads = single_reads(engine)
    written = JsonPages(SHOWN_AS) if engine.dialect.name == "postgresql" else None
    api = Blueprint("read_api", __name__, url_prefix="/api/v1")

    def authorized() -> bool:
        given = _bearer(request.headers.get("Authorization"))
        if given is None:
            return False
        # Every token is compared, each in constant time: neither which one matched nor how much of one did shows.
        matched = False
        for token in accepted:
            matched |= hmac.compare_digest(given, token)
        return matched

    @api.before_request
    def _check_token() -> Response | None:
        if request.endpoint == "read_api.openapi" or authorized():
            return None
        log.info("refused a request to %s without a valid bearer token", request.path)
        error = 'Bearer realm="allears"'
        if request.headers.get("Authorization"):
            error += ', error="invalid_token"'
        return _answer(
            ApiError(error="this needs a bearer token from [api] tokens_env: Authorization: Bearer <token>"),
            401,
            {"WWW-Authenticate": error},
        )

    @api.get("/mentions")
    def mentions() -> Response:
        with correlated():
            query = _query(request.args.to_dict(flat=False))
            if isinstance(query, Response):
                return query
            try:
                after = decode_cursor(query.cursor) if query.cursor else None
            except BadCursor:
                return _refused("cursor: not a cursor this API gave; start again without one", 400, "cursor")
            kept = MentionFilter(
                since=query.since,
                status=query.status,
                source=query.source,
                product=query.product,
                sentiment=query.sentiment,
                owner=query.owner,
            )
            if written:
                with reads.connect() as connection:
                    json_page = written.page(connection, kept, after=after, limit=query.limit)
                end = json_page.end(after)
                return _page_answer(json_page, encode_cursor(end) if end else None)
            with session_scope(reads) as session:
                page = mention_page(session, kept, after=after, limit=query.limit)
            end = page.end(after)
            shown = MentionPage.model_validate(
                {
                    "mentions": page.mentions,
                    "next_cursor": encode_cursor(end) if end else None,
                    "has_more": page.more,
                }
            )
            return _answer(shown)

    @api.get("/mentions/<ref>")
    def one_mention(ref: str) -> Response:
        with correlated():
            try:
                mention_id = parse_reference(ref)
            except UserError:
                return _refused(f"{ref} is not a mention reference; they look like M-7 (or just 7)", 400, "ref")
            with session_scope(reads) as session:
                try:
                    mention, events = mention_history(session, mention_id)
                except UnknownMention:
                    return _refused(f"there is no mention M-{mention_id}", 404, "ref")
                shown = MentionWithEvents.model_validate(
                    {**mention, "events": [EventOut.model_validate(event) for event in events]}
                )
            return _answer(shown)

    @api.get("/openapi.json")
    def openapi() -> Response:
        return Response(json.dumps(DOCUMENT), content_type=_JSON)

    return api


def _parameter(name: str, field: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema is its field's without the `null` (a parameter left out is None)."""
    schema = {
        key: value for key, value in field.items() if key not in ("anyOf", "description", "title") and value is not None
    }
    for member in field.get("anyOf", []):
        if member.get("type") != "null":
            schema |= member
    if name == "since":  # a day too, which JSON Schema's date-time is not
        schema = {"type": "string"}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": field.get("description", ""),
    }


def _document() -> dict[str, Any]:
    """OpenAPI 3.1, its schemas those of the models above (JSON Schema 2020-12, as OpenAPI 3.1 takes them)."""
    _, schemas = models_json_schema(
        [(model, "serialization") for model in (MentionPage, MentionWithEvents, ApiError)]
        + [(MentionQuery, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    components = schemas["$defs"]
    query = components.pop("MentionQuery")

    def answer(model: type[BaseModel], description: str) -> dict[str, Any]:
        schema = {"$ref": f"#/components/schemas/{model.__name__}"}
        return {"description": description, "content": {_JSON: {"schema": schema}}}

    refused = answer(ApiError, "No bearer token, or not one of `[api] tokens_env`'s.")
    parameters = [_parameter(name, schema) for name, schema in query["properties"].items()]
    return {
        "openapi": "3.1.0",
        "info": {"title": "All Ears read API", "version": "1"},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/mentions": {
                "get": {
                    "summary": "Mentions in the order they were heard, a page at a time",
                    "parameters": parameters,
                    "responses": {
                        "200": answer(MentionPage, "A page of mentions."),
                        "400": answer(ApiError, "A parameter is wrong; `parameter` names it."),
                        "401": refused,
                    },
                }
            },
            "/api/v1/mentions/{ref}": {
                "get": {
                    "summary": "One mention with its events",
                    "parameters": [
                        {
                            "name": "ref",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "M-7, or just 7.",
                        }
                    ],
                    "responses": {
                        "200": answer(MentionWithEvents, "The mention and its history."),
                        "400": answer(ApiError, "Not a mention reference."),
                        "401": refused,
                        "404": answer(ApiError, "No such mention."),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {_JSON: {}}}},
                }
            },
        },
    }


DOCUMENT = _document()
