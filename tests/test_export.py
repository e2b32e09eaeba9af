"""The export: mentions with their events and outcomes, as CSV and JSONL, read back as a spreadsheet or a
BI tool would, on SQLite and PostgreSQL."""

import csv
import io
import json
import os
import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.act import actions
from bot.ground.config import Team
from bot.ground.db import session_scope
from bot.ground.errors import UserError
from bot.ground.models import Mention, Outcome
from bot.remember.export import COLUMNS, ExportFormat, export, parse_moment
from tests.botprocess import ALLEARS
from tests.factories import store_mention

ANA, BEN = "U_ANA", "U_BEN"
SUPPORT = Team(channel="C0SUPPORT", usergroup="S0SUPPORT")


def at(day, hour, minute=0):
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def hear(engine, key, heard_at, **fields):
    mention_id = store_mention(engine, external_id=key, **fields)
    with session_scope(engine) as session:
        session.execute(update(Mention).where(Mention.id == mention_id).values(heard_at=heard_at))
    return mention_id


def act(engine, action, **kwargs):
    with session_scope(engine) as session:
        return action(session, **kwargs)


def exported(engine, kind, **options):
    out = io.StringIO(newline="")
    count = export(engine, out, kind=kind, **options)
    return count, out.getvalue()


def as_csv(engine, **options):
    count, text = exported(engine, ExportFormat.CSV, **options)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    rows = list(reader)
    assert len(rows) == count
    return {row["reference"]: row for row in rows}


def as_jsonl(engine, **options):
    count, text = exported(engine, ExportFormat.JSONL, **options)
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == count and text.endswith("\n")
    return {record["reference"]: record for record in records}


def seed(engine):
    """Ana handles M-1 from claim to resolution; Ben answers M-2 and escalates it twice; M-3 waits."""
    first = hear(engine, "one", at(5, 9), text="Acme cloud is down — ça ne marche pas 💥", author="Zoë")
    act(engine, actions.claim, mention_id=first, user_id=ANA, now=at(5, 9, 10))
    act(engine, actions.reply, mention_id=first, user_id=ANA, text="Looking into it", now=at(5, 9, 40))
    act(engine, actions.resolve, mention_id=first, user_id=ANA, outcome=Outcome.FIXED, note="ok", now=at(5, 11))
    second = hear(engine, "two", at(6, 9), text='Acme invoices, line one\nline two, "quoted"')
    act(engine, actions.reply, mention_id=second, user_id=BEN, text="Sorry!", now=at(6, 9, 5))
    for team, when in (("support", 10), ("billing", 11), ("support", 12)):
        act(
            engine,
            actions.escalate,
            mention_id=second,
            user_id=BEN,
            team_name=team,
            team=SUPPORT,
            reason=None,
            now=at(6, when),
        )
    hear(engine, "three", at(7, 9), text="Acme is fine I guess")
    return first, second


def test_csv_and_jsonl_carry_each_mention_with_its_timings_and_events(engine):
    first, second = seed(engine)

    rows, records = as_csv(engine), as_jsonl(engine)

    assert list(rows) == list(records) == ["M-1", "M-2", "M-3"]
    one = rows["M-1"]
    assert one["text"] == "Acme cloud is down — ça ne marche pas 💥" and one["author"] == "Zoë"
    assert (one["status"], one["owner"], one["outcome"]) == ("resolved", ANA, "fixed")
    assert (one["heard_at"], one["claimed_at"], one["resolved_at"]) == (
        "2026-01-05T09:00:00Z",
        "2026-01-05T09:10:00Z",
        "2026-01-05T11:00:00Z",
    )
    assert (one["seconds_to_claim"], one["seconds_to_first_reply"], one["seconds_to_resolution"]) == (
        "600",
        "2400",
        "7200",
    )
    assert one["escalated_to"] == "" and one["joined_to"] == ""
    assert one["events"].startswith('[{"kind":"claimed","actor":"U_ANA","at":"2026-01-05T09:10:00Z","data":{}}')
    two = rows["M-2"]
    assert two["text"] == 'Acme invoices, line one\nline two, "quoted"', "newlines and quotes survive"
    assert two["escalated_to"] == "support; billing" and two["owner"] == BEN
    assert (two["seconds_to_claim"], two["seconds_to_first_reply"], two["seconds_to_resolution"]) == ("300", "300", "")
    assert rows["M-3"]["status"] == "open" and rows["M-3"]["seconds_to_claim"] == ""

    for reference, row in rows.items():
        record = records[reference]
        flat = {key: record[key] for key in COLUMNS if key not in ("escalated_to", "events")}
        assert {key: "" if value is None else str(value) for key, value in flat.items()} == {
            key: row[key] for key in flat
        }, f"{reference}: the CSV row and the JSON object say the same"
        assert json.loads(row["events"]) == record["events"], f"{reference}: the CSV cell holds every event"
    assert json.loads(rows["M-3"]["events"]) == []
    assert records["M-2"]["escalated_to"] == ["support", "billing"]
    assert [event["kind"] for event in records["M-2"]["events"]] == [
        "claimed",
        "replied",
        "escalated",
        "escalated",
        "escalated",
    ]
    resolved = records["M-1"]["events"][-1]
    assert resolved == {
        "kind": "resolved",
        "actor": ANA,
        "at": "2026-01-05T11:00:00Z",
        "data": {"outcome": "fixed", "note": "ok"},
    }
    assert records["M-1"]["seconds_to_claim"] == 600 and records["M-3"]["owner"] is None


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised(engine, start):
    evil = hear(engine, "evil", at(5, 9), text=f'{start}HYPERLINK("http://evil.example","x")', author=f"{start}1+1")
    act(engine, actions.resolve, mention_id=evil, user_id=ANA, outcome=Outcome.SPAM, note=f"{start}2+2", now=at(5, 10))

    row = as_csv(engine)["M-1"]
    record = as_jsonl(engine)["M-1"]

    assert row["text"] == f'\'{start}HYPERLINK("http://evil.example","x")' and row["author"] == f"'{start}1+1"
    assert record["text"].startswith(start), "JSON is data, not a sheet: it keeps the text as written"
    assert row["events"].startswith("["), "an events cell is never a formula"
    assert json.loads(row["events"])[-1]["data"]["note"] == f"{start}2+2".strip(), "and keeps the note as recorded"


def test_a_store_review_carries_its_stars_and_app_version(engine):
    review = hear(engine, "review", at(5, 9), text="Acme crashes on launch", rating=2, app_version="8.42.1")
    post = hear(engine, "post", at(5, 10), text="Acme is fine")

    rows, records = as_csv(engine), as_jsonl(engine)

    assert (rows[f"M-{review}"]["rating"], rows[f"M-{review}"]["app_version"]) == ("2", "8.42.1")
    assert (records[f"M-{review}"]["rating"], records[f"M-{review}"]["app_version"]) == (2, "8.42.1")
    assert (rows[f"M-{post}"]["rating"], rows[f"M-{post}"]["app_version"]) == ("", ""), "no stars where none were given"
    assert (records[f"M-{post}"]["rating"], records[f"M-{post}"]["app_version"]) == (None, None)


def test_since_and_until_pick_mentions_by_when_they_were_heard(engine):
    seed(engine)

    assert list(as_csv(engine, since=at(6, 0))) == ["M-2", "M-3"]
    assert list(as_csv(engine, since=at(6, 0), until=at(7, 0))) == ["M-2"]
    assert list(as_jsonl(engine, until=at(6, 9))) == ["M-1"], "until is exclusive"
    assert exported(engine, ExportFormat.CSV, since=at(8, 0)) == (0, ",".join(COLUMNS) + "\r\n")
    with pytest.raises(UserError, match="later than"):
        exported(engine, ExportFormat.CSV, since=at(7, 0), until=at(6, 0))


def test_a_post_heard_twice_is_exported_as_joined_to_the_first(engine):
    first = store_mention(engine, external_id="first", url="https://forum.example.com/t/9", source="forum")
    joined = store_mention(engine, external_id="again", url="https://forum.example.com/t/9", source="aggregator")
    assert joined != first

    rows = as_csv(engine)

    assert rows[f"M-{joined}"]["status"] == "joined" and rows[f"M-{joined}"]["joined_to"] == f"M-{first}"
    events = json.loads(rows[f"M-{first}"]["events"])
    assert len(events) == 1, "the first mention keeps the note that it was heard again"


def test_batches_stream_every_mention_once(engine):
    for number in range(23):
        store_mention(engine, external_id=f"m{number}")
    act(engine, actions.claim, mention_id=7, user_id=ANA)

    records = as_jsonl(engine, batch=5)

    assert list(records) == [f"M-{number}" for number in range(1, 24)]
    assert [len(record["events"]) for record in records.values()].count(1) == 1


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T09:30", datetime(2026, 1, 1, 9, 30, tzinfo=UTC)),
        ("2026-01-01T09:30:00+02:00", datetime(2026, 1, 1, 7, 30, tzinfo=UTC)),
        ("2026-01-01T09:30Z", datetime(2026, 1, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_dates_are_read_as_utc_unless_they_say_otherwise(text, moment):
    assert parse_moment(text) == moment


def test_a_date_that_is_not_one_is_explained():
    with pytest.raises(UserError, match="write it like 2026-01-01"):
        parse_moment("last tuesday")


def test_the_command_writes_a_file_and_explains_mistakes(sqlite_engine, tmp_path):
    seed(sqlite_engine)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "ALLEARS_"))}
    env["DATABASE_URL"] = str(sqlite_engine.url)

    def allears(*args):
        return subprocess.run([*ALLEARS, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    done = allears("export", "--since", "2026-01-06", "--format", "jsonl", "--output", "out.jsonl")
    assert done.returncode == 0 and "exported 2 mention(s) to out.jsonl" in done.stderr
    written = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["reference"] for line in written] == ["M-2", "M-3"]

    wrong = allears("export", "--since", "yesterday")
    assert wrong.returncode == 2 and 'allears: "yesterday" is not a date' in wrong.stderr
    nowhere = allears("export", "--output", str(tmp_path / "no" / "such" / "dir.csv"))
    assert nowhere.returncode == 2 and "cannot write" in nowhere.stderr
