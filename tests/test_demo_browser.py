"""`allears demo` in a real headless Chromium: the page shows what the bot sent to the stand-in Slack, and
what people do on it reaches the bot as signed Slack requests."""

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.app.standin.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)  # the bot works in the background, on a machine shared with other tests
LOADED_CHART = (
    "() => [...document.querySelectorAll('.file img')].some(image => image.complete && image.naturalWidth > 0)"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`allears demo` as a new user starts it, on a free port; its page URL."""
    port = free_port()
    log = (tmp_path_factory.mktemp("demo") / "demo.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.app.cli", "demo", "--port", str(port), "--no-browser"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/demo"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    assert process.poll() is None, Path(log.name).read_text()
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "the browser tests need Debian's chromium: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def _open(browser, demo: str, person: str, channel: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: pytest.fail(f"the page ran an alert: {dialog.message}"))
    page.goto(f"{demo}?as={person}&channel={channel}")
    return page


def _first_card(page: Page, channel: str):
    """The first mention card in the channel (a top-level message with a Claim button of its own)."""
    cards = page.locator(f'#messages > .message[data-channel="{channel}"]').filter(
        has=page.locator(':scope > .message-body > .blocks [data-action="mention_claim"]')
    )
    expect(cards.first).to_be_visible()
    return page.locator(f'#messages > .message[data-ts="{cards.first.get_attribute("data-ts")}"]')


def _reference(card) -> str:
    return re.search(r"M-\d+", card.locator(".context").first.inner_text()).group(0)


def test_ana_claims_ben_is_refused_and_ana_escalates_and_replies(browser, demo):
    ana = _open(browser, demo, "U0ANA", "C0SUPPORT")
    card = _first_card(ana, "C0SUPPORT")
    reference = _reference(card)

    # Ben's screen shows the same card, but stops catching up: he still sees it unclaimed.
    ben = _open(browser, demo, "U0BEN", "C0SUPPORT")
    bens_card = ben.locator(f'#messages > .message[data-ts="{card.get_attribute("data-ts")}"]')
    expect(bens_card.locator('[data-action="mention_claim"]').first).to_be_visible()
    ben.route("**/demo/api/state*", lambda route: route.abort())

    # Ana clicks Claim: the card, as the bot edited it in the stand-in Slack, shows her as owner.
    card.locator('[data-action="mention_claim"]').first.click()
    expect(card).to_contain_text("Claimed by @Ana")
    expect(card.locator('[data-action="mention_unclaim"]').first).to_be_visible()

    # Ben clicks Claim on his stale card: the bot refuses, privately, and only Ben sees why.
    bens_card.locator('[data-action="mention_claim"]').first.click()
    ben.unroute("**/demo/api/state*")
    expect(ben.locator(".private").last).to_contain_text("already claimed by @Ana")
    expect(bens_card).to_contain_text("Claimed by @Ana")
    expect(ana.locator(".private")).not_to_contain_text(["already claimed"])

    # Ana escalates from the command box; the product channel gets the alert with her reason.
    ana.fill("#command", f"/escalate {reference} product customer is blocked by the PDF export")
    ana.press("#command", "Enter")
    expect(ana.locator(".private").last).to_contain_text(f"Escalated {reference} to product")
    ana.click('#channels [data-channel="C0PRODUCT"]')
    alert = ana.locator('#messages > .message[data-channel="C0PRODUCT"]').filter(has_text="blocked by the PDF export")
    expect(alert).to_contain_text("Acknowledge")

    # Back in #support, Ana clicks Reply: the bot's modal opens, she writes and submits it.
    ana.click('#channels [data-channel="C0SUPPORT"]')
    card.locator('[data-action="mention_reply"]').first.click()
    modal = ana.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text(f"Reply to {reference}")
    modal.locator("textarea").fill("Sorry about that! A fix ships today; DM us your workspace name.")
    modal.locator('button[type="submit"]').click()
    expect(ana.locator("#overlay")).to_be_hidden()
    expect(card.locator(".thread")).to_contain_text("A fix ships today")
    expect(ana.locator(".private").last).to_contain_text(f"Recorded your reply to {reference}")


def test_chloe_resolves_through_the_modal_and_snoozes_from_the_menu(browser, demo):
    chloe = _open(browser, demo, "U0CHLOE", "C0PR")
    card = _first_card(chloe, "C0PR")
    reference = _reference(card)

    card.locator('[data-action="mention_resolve"]').first.click()
    modal = chloe.locator("#modal")
    expect(modal.locator(".modal-title")).to_contain_text(reference)
    modal.locator("select").select_option("thanked")
    modal.locator('button[type="submit"]').click()
    expect(card).to_contain_text("Resolved thanked")
    expect(card.locator('[data-action="mention_reopen"]')).to_be_visible()

    other = _first_card(chloe, "C0PR")
    other.locator('select[data-action="mention_snooze"]').first.select_option(label="1 hour")
    expect(other).to_contain_text("Snoozed")


def test_customer_text_is_shown_as_text_never_as_markup(browser, demo):
    dev = _open(browser, demo, "U0DEV", "C0VOICE")
    card = dev.locator("#messages > .message").filter(has_text="xss_tester")
    expect(card).to_contain_text("<script>alert('hi')</script>")
    expect(card).to_contain_text("<img src=x onerror=alert(1)>")
    expect(card).to_contain_text("<!channel> @here <@U0ANA>")
    assert card.locator("script, img, b:text-is('rocks'), .mention").count() == 0


def test_the_burst_of_sample_mentions_is_one_spike_alert_against_the_past_weeks(browser, demo):
    chloe = _open(browser, demo, "U0CHLOE", "C0VOICE")
    alerts = chloe.locator('#messages > .message[data-channel="C0VOICE"]').filter(has_text="in the last hour")
    expect(alerts.first).to_contain_text("All mentions:", timeout=60_000)  # the spike check runs every 20 s
    expect(alerts.first).to_contain_text("usually 0–4 on a")
    expect(alerts.first).to_contain_text("in the past 5 weeks")
    expect(alerts.first).to_contain_text("Top new words:")
    expect(alerts.first).to_contain_text("down")
    expect(alerts).to_have_count(1)


def test_ben_finds_yesterdays_muted_mentions_in_the_digest_and_posts_one_after_all(browser, demo):
    ben = _open(browser, demo, "U0BEN", "C0VOICE")
    digest = ben.locator('#messages > .message[data-channel="C0VOICE"]').filter(has_text="3 mentions muted")
    expect(digest).to_have_count(1)
    expect(digest).to_contain_text("Quillo's Pizza has a two-for-one")  # its thread, three replies or fewer, is shown
    digest.locator('[data-action="mention_unmute"]').first.click()
    expect(ben.locator(".private").last).to_contain_text("is no longer muted")
    card = (
        ben.locator('#messages > .message[data-channel="C0VOICE"]')
        .filter(has=ben.locator(':scope > .message-body > .blocks [data-action="mention_claim"]'))
        .filter(has_text="Quillo's Pizza has a two-for-one")
    )
    expect(card).to_have_count(1)


def test_the_weekly_summary_is_posted_with_its_chart(browser, demo):
    ben = _open(browser, demo, "U0BEN", "C0VOICE")
    expect(ben.locator("#messages > .message").first).to_be_visible()
    ben.click("#post-summary")
    summary = ben.locator('#messages > .message[data-channel="C0WEEKLY"]').last
    expect(summary).to_contain_text("so far")
    expect(summary.locator(".file img")).to_be_visible()
    ben.wait_for_function(LOADED_CHART)


def test_dev_claims_from_his_home_tab_and_the_card_follows(browser, demo):
    dev = _open(browser, demo, "U0DEV", "home")
    home = dev.locator(".home")
    expect(home).to_contain_text("Unclaimed in your channels")
    home.locator('[data-action="mention_claim"]').first.click()
    expect(home).to_contain_text("Yours, open (1)")
    mine = home.locator(".section").filter(has_text="M-").nth(0)
    reference = re.search(r"M-\d+", mine.inner_text()).group(0)
    dev.click('#apps [data-channel="U0DEV"]')  # nothing refused, so no direct message either
    expect(dev.locator("#messages")).to_contain_text("Nothing here yet.")
    for channel in ("C0VOICE", "C0SUPPORT", "C0PRODUCT", "C0PR"):
        dev.click(f'#channels [data-channel="{channel}"]')
        card = (
            dev.locator("#messages > .message")
            .filter(has_text=re.compile(reference + r"(?!\d)"))
            .filter(has=dev.locator('[data-action="mention_unclaim"]'))  # its card, not a digest that lists it
        )
        if card.count():
            expect(card.first).to_contain_text("Claimed by @Dev")
            return
    pytest.fail(f"no card shows {reference}")


def test_ana_types_q_and_a_in_a_command_and_the_thread_shows_what_she_typed(browser, demo):
    ana = _open(browser, demo, "U0ANA", "C0SUPPORT")
    card = _first_card(ana, "C0SUPPORT")
    reference = _reference(card)

    ana.fill("#command", f"/reply {reference} Fixed in our Q&A <today>, see R&D's notes")
    ana.press("#command", "Enter")

    expect(card.locator(".thread")).to_contain_text("Fixed in our Q&A <today>, see R&D's notes")
    expect(card.locator(".thread")).not_to_contain_text("&amp;")
    expect(card.locator(".thread")).not_to_contain_text("&lt;")


def test_a_snooze_in_the_past_comes_back_on_its_field_and_the_modal_stays_open(browser, demo):
    chloe = _open(browser, demo, "U0CHLOE", "C0PR")
    card = _first_card(chloe, "C0PR")
    snoozes = card.locator(".thread").get_by_text("snoozed this until")
    snoozed_before = snoozes.count()
    card.locator('select[data-action="mention_snooze"]').first.select_option(label="Until a date and time…")
    modal = chloe.locator("#modal")
    expect(modal.locator(".modal-title")).to_contain_text("Snooze")

    modal.locator('input[type="datetime-local"]').fill("2020-01-06T09:00")
    modal.locator('button[type="submit"]').click()
    expect(modal.locator('[data-block="snooze_until"] .field-error')).to_contain_text("That moment has passed")
    expect(chloe.locator("#overlay")).to_be_visible()
    expect(modal.locator('input[type="datetime-local"]')).to_have_value("2020-01-06T09:00")

    modal.locator('input[type="datetime-local"]').fill("2099-01-01T09:00")
    modal.locator('button[type="submit"]').click()
    expect(modal.locator('[data-block="snooze_until"] .field-error')).to_contain_text("at most 30 days")

    tomorrow = chloe.evaluate(
        "() => { const d = new Date(Date.now() + 86400000); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
        " return d.toISOString().slice(0, 16); }"
    )
    modal.locator('input[type="datetime-local"]').fill(tomorrow)
    modal.locator('button[type="submit"]').click()
    expect(chloe.locator("#overlay")).to_be_hidden()
    expect(snoozes).to_have_count(snoozed_before + 1)
