"""The README's screenshots, taken from `allears demo` in headless Chromium: a claimed card with its thread
(docs/card.png) and the weekly summary with its chart (docs/weekly-summary.png).

    .venv/bin/python docs/screenshots.py

Needs the `test` extra (Playwright) and Debian's chromium; fonts-noto-color-emoji makes the emoji show.
Everything on the pictures is done through the page, as a person would: nothing is staged in the database.
"""

import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect, sync_playwright

from bot.app.standin.ports import free_port

DOCS = Path(__file__).resolve().parent


def _card(page: Page, channel: str, text: str) -> Locator:
    page.click(f'#channels [data-channel="{channel}"]')
    card = page.locator(f'#messages > .message[data-channel="{channel}"]').filter(has_text=text).first
    expect(card).to_be_visible()
    return page.locator(f'#messages > .message[data-ts="{card.get_attribute("data-ts")}"]')


def _as(page: Page, person: str) -> None:
    page.click(f'[data-person="{person}"]')


def _modal(page: Page, fill: dict[str, str]) -> None:
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_be_visible()
    for selector, value in fill.items():
        field = modal.locator(selector)
        if field.evaluate("node => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    modal.locator('button[type="submit"]').click()
    expect(page.locator("#overlay")).to_be_hidden()


def _command(page: Page, line: str) -> None:
    page.fill("#command", line)
    page.press("#command", "Enter")
    expect(page.locator("#command")).to_have_value("")


def take(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1100, "height": 3200}, device_scale_factor=1)
        page.set_default_timeout(20_000)
        page.goto(url + "?as=U0ANA&channel=C0SUPPORT")

        # Ana takes the double charge, answers the customer and asks sales to look at the account.
        card = _card(page, "C0SUPPORT", "Charged twice")
        card.locator('[data-action="mention_claim"]').first.click()
        expect(card).to_contain_text("Claimed by @Ana")
        card.locator('[data-action="mention_reply"]').first.click()
        _modal(
            page, {"textarea": "So sorry, Tomasz! We refunded the duplicate charge; it shows on your card in 3–5 days."}
        )
        reference = card.locator(".context").first.inner_text().split()[0]
        _command(page, f"/escalate {reference} sales Business customer charged twice: check their renewal")
        expect(card.locator(".thread .message")).to_have_count(2)
        page.wait_for_timeout(1200)
        card.screenshot(path=DOCS / "card.png")

        # A few more people listen before the week's summary: product, PR and sales.
        _as(page, "U0BEN")
        idea = _card(page, "C0PRODUCT", "Linux desktop app")
        idea.locator('[data-action="mention_claim"]').first.click()
        expect(idea).to_contain_text("Claimed by @Ben")
        idea.locator('[data-action="mention_resolve"]').first.click()
        _modal(page, {"select": "feedback", "textarea": "Third request this month; on the Q1 list."})
        _as(page, "U0CHLOE")
        praise = _card(page, "C0PR", "game changer")
        praise.locator('[data-action="mention_reply"]').first.click()
        _modal(page, {"textarea": "Thank you! Sharing this with the templates team."})
        _as(page, "U0DEV")
        question = _card(page, "C0VOICE", "single sign-on")
        question.locator('[data-action="mention_claim"]').first.click()
        expect(question).to_contain_text("Claimed by @Dev")

        page.click("#post-summary")
        summary = page.locator('#messages > .message[data-channel="C0WEEKLY"]').last
        chart = summary.locator(".file img")
        expect(chart).to_be_visible()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.file img')].some(image => image.complete && image.naturalWidth > 0)"
        )
        page.evaluate("document.getElementById('toast').hidden = true")
        summary.screenshot(path=DOCS / "weekly-summary.png")
        browser.close()


def main() -> int:
    port = free_port()
    demo = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "demo", "--port", str(port), "--no-browser"])
    try:
        url = f"http://127.0.0.1:{port}/demo"
        for _ in range(300):
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        take(url)
    finally:
        demo.terminate()
        demo.wait(timeout=20)
    print(f"wrote {DOCS / 'card.png'} and {DOCS / 'weekly-summary.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
