"""The inbound webhook's refusals, checked without a running server, and source rest arithmetic."""

import json
from datetime import timedelta

import pytest
from sqlmodel import func, select

from bot.app.standin.users import webhook_signature
from bot.ground.config import Config
from bot.ground.db import read_scope
from bot.ground.errors import UserError
from bot.ground.models import Mention
from bot.hear.intake import WebhookBody, log_forwarded, receive_webhook
from bot.hear.polling import Listener, _rest, backoff

SECRET = "s3cret"
LISTENER = Listener(Config.model_validate({"listen": {"keywords": ["acme"]}, "channels": {"default": "C0LISTEN"}}))


def signed(body: bytes) -> str:
    return webhook_signature(body, SECRET)


def test_a_signature_with_odd_characters_is_refused_not_a_crash(sqlite_engine):
    answer = receive_webhook(sqlite_engine, LISTENER, secret=SECRET, body=b"{}", signature="sha256=é☃")
    assert answer.status == 401


def test_a_signed_but_absurd_timestamp_is_a_bad_request(sqlite_engine):
    for timestamp in (1e20, -5, "soon", True):
        body = json.dumps({"text": "Acme", "timestamp": timestamp}).encode()
        answer = receive_webhook(sqlite_engine, LISTENER, secret=SECRET, body=body, signature=signed(body))
        assert answer.status == 400 and "timestamp" in answer.body["error"]


def mentions(engine) -> int:
    with read_scope(engine) as session:
        return session.exec(select(func.count()).select_from(Mention)).one()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "https://e.com/\u0000"}, "url must not contain control characters"),
        ({"url": "https://e.com/a\nb"}, "url must not contain control characters"),
        ({"url": "https://e.com/\u007f"}, "url must not contain control characters"),
        ({"url": "https://e.com/\u009b31m"}, "url must not contain control characters"),
        ({"id": "x\u0000y"}, "id must not contain control characters"),
        ({"id": "ticket\t981"}, "id must not contain control characters"),
        ({"id": "ticket\u0085981"}, "id must not contain control characters"),
    ],
)
def test_a_link_or_id_with_control_characters_is_refused_and_stores_nothing(engine, fields, error):
    body = json.dumps({"text": "acme is down", **fields}).encode()

    answer = receive_webhook(engine, LISTENER, secret=SECRET, body=body, signature=signed(body))

    assert (answer.status, answer.body) == (400, {"ok": False, "error": error})
    assert mentions(engine) == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[1, 2]", "the body must be a JSON object"),
        (b'"acme"', "the body must be a JSON object"),
        (b"{}", "text is required"),
        (b'{"text": "", "url": "ftp://e.com"}', "text is required"),
        (b'{"text": ["acme"]}', "text must be a string"),
        (b'{"text": "acme", "url": "ftp://e.com/x"}', "url must start with http:// or https://"),
        (b'{"text": "acme", "source": {"name": "zendesk"}}', "source must be a string"),
        (b'{"text": "acme", "title": 1.5}', "title must be a string"),
        (json.dumps({"text": " \u00a0 ", "id": "a\u0000b"}).encode(), "id must not contain control characters"),
        (json.dumps({"text": " \u00a0 "}).encode(), "text is empty"),
    ],
)
def test_the_webhook_body_is_refused_with_its_first_problem_in_the_senders_words(sqlite_engine, body, error):
    with pytest.raises(UserError) as refused:
        WebhookBody.of(body)
    assert str(refused.value) == error
    answer = receive_webhook(sqlite_engine, LISTENER, secret=SECRET, body=body, signature=signed(body))
    assert (answer.status, answer.body) == (400, {"ok": False, "error": error})


def test_the_webhook_body_ignores_what_it_does_not_read_and_takes_numbers_for_text():
    posted = WebhookBody.of(b'{"text": 42, "source": "  zen   desk ", "id": 7, "priority": "high", "timestamp": 1.5}')
    item = posted.item()
    assert (item.text, item.external_id, posted.source) == ("42", "7", "zen desk")
    assert posted.sent_at() is not None and posted.sent_at().timestamp() == 1.5


def test_a_logged_link_with_control_characters_is_refused_and_stores_nothing(engine):
    with pytest.raises(UserError, match="control characters"):
        log_forwarded(engine, LISTENER, text="", url="https://e.com/\u0000", forwarded_by="U0SAM", external_id="a")
    assert mentions(engine) == 0


def test_a_forwarded_text_is_stored_as_it_is_given(engine):
    """Callers give what the person typed: `&lt;` in it is what they typed, not Slack's escape of `<`."""
    logged = log_forwarded(
        engine, LISTENER, text="In HTML, write &lt; for < & &amp; for &", forwarded_by="U0SAM", external_id="b"
    )
    with read_scope(engine) as session:
        assert session.get(Mention, logged.mention_id).text == "In HTML, write &lt; for < & &amp; for &"


def test_source_rests_stay_sane_however_long_it_has_failed_or_whatever_a_header_says():
    assert backoff(timedelta(minutes=5), 1) == timedelta(minutes=5)
    assert backoff(timedelta(minutes=5), 3) == timedelta(minutes=20)
    assert backoff(timedelta(minutes=5), 40) == timedelta(hours=1)
    assert backoff(timedelta(hours=2), 5) == timedelta(hours=2)
    assert _rest(30) == timedelta(seconds=30)
    assert _rest(float("inf")) == _rest(1e12) == timedelta(days=1)
    assert _rest(float("nan")) == timedelta(days=1) and _rest(-4) == timedelta(0)
