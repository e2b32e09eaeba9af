"""The inbound webhook's refusals, checked without a running server, and source rest arithmetic."""

import json
from datetime import timedelta

from bot.config import Config
from bot.intake import receive_webhook
from bot.polling import Listener, _rest, backoff
from bot.standin.users import webhook_signature

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


def test_source_rests_stay_sane_however_long_it_has_failed_or_whatever_a_header_says():
    assert backoff(timedelta(minutes=5), 1) == timedelta(minutes=5)
    assert backoff(timedelta(minutes=5), 3) == timedelta(minutes=20)
    assert backoff(timedelta(minutes=5), 40) == timedelta(hours=1)
    assert backoff(timedelta(hours=2), 5) == timedelta(hours=2)
    assert _rest(30) == timedelta(seconds=30)
    assert _rest(float("inf")) == _rest(1e12) == timedelta(days=1)
    assert _rest(float("nan")) == timedelta(days=1) and _rest(-4) == timedelta(0)
