"""The summary's chart: a real PNG of the week, drawn without a display, and sent the way Slack takes files now."""

import io
from datetime import timedelta

import pytest
from PIL import Image, ImageChops
from slack_sdk import WebClient

from bot.app.standin.slack import BOT_TOKEN
from bot.remember.chart import SENTIMENT_COLOURS, time_unit, weekly_chart
from bot.slack.summary_post import SummaryPoster
from tests.test_metrics import finished_week, seed_week
from tests.test_summary import MONDAY_9, config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def opened(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def colour_share(image: Image.Image, hex_colour: str) -> float:
    """How much of the picture is (about) this colour: each channel within 8 of it. Counted by Pillow, not as the
    picture's 585,000 pixel tuples in Python (about a second of CPU a call)."""
    rgb = image.convert("RGB")
    difference = ImageChops.difference(rgb, Image.new("RGB", rgb.size, hex_colour))
    red, green, blue = (band.point(lambda value: 255 if value <= 8 else 0) for band in difference.split())
    close = ImageChops.multiply(ImageChops.multiply(red, green), blue)
    return close.histogram()[255] / (rgb.width * rgb.height)


def test_the_chart_is_a_png_with_a_bar_of_each_sentiment(engine):
    seed_week(engine)
    png = weekly_chart(finished_week(engine))
    assert png.startswith(PNG_SIGNATURE)
    image = opened(png)
    assert (image.format, image.size) == ("PNG", (900, 650))
    for colour in SENTIMENT_COLOURS.values():
        assert colour_share(image, colour) > 0.005, f"{colour} bars are drawn"


def test_an_empty_week_still_draws(engine):
    image = opened(weekly_chart(finished_week(engine)))
    assert image.size == (900, 650)
    assert colour_share(image, SENTIMENT_COLOURS["negative"]) < 0.001, "no bars, only the legend's swatch"


@pytest.mark.parametrize(
    "longest, unit",
    [
        (timedelta(0), "minutes"),
        (timedelta(minutes=119), "minutes"),
        (timedelta(hours=2), "hours"),
        (timedelta(hours=47), "hours"),
        (timedelta(days=4), "days"),
    ],
)
def test_response_times_are_drawn_in_a_unit_that_fits_them(longest, unit):
    assert time_unit(longest)[0] == unit


def test_the_chart_reaches_slack_through_its_upload_steps_in_the_summarys_thread(engine, fake_slack):
    seed_week(engine)
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    SummaryPoster(engine, config(), client, now=lambda: MONDAY_9).post_due()

    steps = [call.method for call in fake_slack.calls if call.method.startswith("files.") or call.method == "upload"]
    assert steps == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [summary] = fake_slack.cards("C0LISTEN")
    [chart] = fake_slack.uploads
    assert (chart.channel, chart.thread_ts) == ("C0LISTEN", summary.ts)
    assert chart.filename == "allears-2026-W47.png"
    assert chart.title == "All Ears 2026-W47: mentions per day and response times"
    assert chart.data.startswith(PNG_SIGNATURE) and len(chart.data) == chart.length
    assert opened(chart.data).size == (900, 650)
