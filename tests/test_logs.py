"""Logs: JSON lines when `LOG_FORMAT=json`, every line of a unit of work carrying its correlation id, and the
reference a user is shown being that id."""

import json
import logging
import re
import sys

from bot.app.standin.users import SlackUser
from bot.ground.logs import CorrelationFilter, JsonFormatter, configure, correlated, correlation_id, job
from tests.feedserver import Entry, rss

QUESTION = Entry(
    guid="q-1",
    title="Acme cloud question",
    description="How do I export my Acme data?",
    link="https://forum.example.com/q/1",
)


def _record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    record = logging.LogRecord("allears.test", logging.ERROR, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]
    CorrelationFilter().filter(record)
    return record


def test_a_json_line_has_the_fields_the_exception_and_the_id():
    try:
        raise ValueError("the parser choked")
    except ValueError:
        failure = sys.exc_info()
    with correlated("abcd1234"):
        line = JsonFormatter().format(
            _record("source %s: %s", "acme", 'ünïcode "quoted"\nand a newline', exc_info=failure)
        )
    assert "\n" not in line, "one line per record, whatever the message holds"
    parsed = json.loads(line)
    assert parsed["level"] == "ERROR" and parsed["logger"] == "allears.test"
    assert parsed["message"] == 'source acme: ünïcode "quoted"\nand a newline'
    assert parsed["correlation_id"] == "abcd1234"
    assert "ValueError: the parser choked" in parsed["exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", parsed["time"])


def test_outside_any_work_the_id_is_null_and_ids_do_not_leak_between_units():
    assert json.loads(JsonFormatter().format(_record("idle")))["correlation_id"] is None
    with correlated() as outer:
        assert re.fullmatch(r"[0-9a-f]{8}", outer) and correlation_id() == outer
        with correlated("inner"):
            assert correlation_id() == "inner"
        assert correlation_id() == outer
    assert correlation_id() is None

    seen = []
    run = job("poll:acme", lambda: seen.append(correlation_id()))
    run()
    run()
    assert all(re.fullmatch(r"poll:acme:[0-9a-f]{8}", value) for value in seen) and seen[0] != seen[1]
    assert correlation_id() is None


def test_text_lines_stay_as_they_were_with_the_id_after_the_level(capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("text")
        logging.getLogger("allears.test").info("outside")
        with correlated("feedc0de"):
            logging.getLogger("allears.test").info("inside")
    finally:
        root.handlers[:], root.level = saved
    outside, inside = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"\S+ \S+ INFO allears.test: outside", outside)
    assert re.fullmatch(r"\S+ \S+ INFO \[feedc0de\] allears.test: inside", inside)


def test_a_json_run_logs_only_json_and_the_failed_handler_line_carries_the_ref_shown(bot, feeds, fake_slack):
    bot.env["LOG_FORMAT"] = "json"
    feeds.publish("/acme.xml", rss([QUESTION]))
    bot.start()
    card = fake_slack.wait_for(lambda: fake_slack.cards("C0LISTEN"), what="the card")[0]
    ana = SlackUser("U_ANA", bot.url, fake_slack)
    ana.click("mention_claim", "9" * 30, channel="C0LISTEN", message_ts=card.ts)  # SQLite cannot hold the id
    answer = fake_slack.wait_for(lambda: fake_slack.responses(ana.last_response_key), what="the error")[0]
    shown = re.search(r"ref `([0-9a-f]{8})`", answer["text"])
    assert shown, answer["text"]
    bot.stop()

    lines = [json.loads(line) for line in bot.logs().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message", "correlation_id"} <= line.keys() for line in lines)
    [failed] = [line for line in lines if "unexpected error" in line["message"]]
    assert failed["correlation_id"] == shown[1] and shown[1] in failed["message"]
    assert failed["level"] == "ERROR" and "Traceback" in failed["exception"]
    [polled] = [line for line in lines if "new mention" in line["message"]]
    assert re.fullmatch(r"poll:acme-alerts:[0-9a-f]{8}", polled["correlation_id"])
