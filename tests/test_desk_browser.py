"""The desk in a real browser (issue 19's done-when): Debian's Chromium,
driven by Playwright, plays a counselor on a 390 px phone while the emulator
plays the texter. The texter asks for a person; the counselor signs in, takes
the conversation, and they write to each other, the texter's words showing
without a reload; a crisis message is flagged; a second counselor cannot
open it; the counselor closes it and completes the wrap-up. Then a texter's
STOP mid-conversation ends it and nothing more is sent. Screenshots, phone
and laptop, go to test-output/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.contacts.records import Contacts
from ivr.line import Line
from ivr.operators.accounts import Accounts
from tests.admin.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SCREENSHOTS,
    _browser_or_skip,
)
from tests.live import LiveLine, WorkerProcess, eventually
from tests.rosters import store_always_on_call

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

TEXTER = "+12025550166"
PHONE: ViewportSize = {"width": 390, "height": 844}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
StartWorker = Callable[..., WorkerProcess]


def to_texter(line: LiveLine) -> list[str]:
    return [m.body for m in line.network.sent_messages(to=TEXTER)]


def test_a_counselor_texts_with_a_person_from_a_phone(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    store_always_on_call(live_line.redis)
    accounts = Accounts(live_line.redis)
    accounts.set_password("alex.r", PASSWORD, "counselor", counselor="alex")
    accounts.set_password("blanca.r", PASSWORD, "counselor", counselor="blanca")
    start_worker()
    site = live_line.line_url
    threads = Line(live_line.settings, live_line.content, live_line.redis).threads
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = phone.new_page()

        def shot(name: str) -> None:
            page.screenshot(path=str(SCREENSHOTS / f"desk-{name}.png"), full_page=True)

        def sign_in(on: Page, name: str) -> None:
            on.goto(site + "/desk/")
            expect(on).to_have_url(re.compile(r"/admin/login"))
            on.fill("input[name=name]", name)
            on.fill("input[name=secret]", PASSWORD)
            on.click("button[type=submit]")
            expect(on).to_have_url(re.compile(r"/desk/$"))

        sign_in(page, "alex.r")
        expect(page.locator("#offered")).to_contain_text("Nobody is waiting")

        # A texter asks for a person: the desk shows it by itself, no reload.
        live_line.network.text_line(TEXTER, "TALK")
        thread_id = eventually(lambda: threads.open_thread_of(TEXTER))
        expect(page.locator("#offered")).to_contain_text(thread_id, timeout=10_000)
        expect(page.locator("#offered")).not_to_contain_text("0166")  # no number offered
        shot("01-offered-phone")
        page.locator("#offered form button").first.click()
        expect(page).to_have_url(re.compile(rf"/desk/threads/{thread_id}$"))
        expect(page.locator("#state")).to_contain_text("held by alex")

        # Both ways: the counselor writes, the texter's phone gets it...
        page.fill("#body", "Hi, I'm Alex. I'm here with you. What's going on?")
        page.click("form.say button[type=submit]")
        eventually(lambda: "Hi, I'm Alex." in " ".join(to_texter(live_line)), timeout=15)
        # ...the texter writes, and it shows within 2 s without a reload.
        live_line.network.text_line(TEXTER, "i stopped my klonopin 3 days ago and i'm shaking")
        expect(page.locator("#messages li.from-texter").last).to_contain_text(
            "3 days ago", timeout=2_500
        )
        # A crisis message is flagged in the thread.
        live_line.network.text_line(TEXTER, "i took the whole bottle")
        expect(page.locator("#messages li.crisis").last).to_contain_text(
            "whole bottle", timeout=2_500
        )
        shot("02-conversation-phone")

        # A second counselor can neither open nor take it.
        other = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
        sign_in(other, "blanca.r")
        expect(other.locator("#offered")).not_to_contain_text(thread_id)
        refused = other.goto(site + f"/desk/threads/{thread_id}")
        assert refused is not None
        assert refused.status == 403

        page.fill("#body", "Please call 911 now. I'm staying right here with you.")
        page.click("form.say button[type=submit]")
        eventually(lambda: "call 911 now" in " ".join(to_texter(live_line)), timeout=15)
        page.click("form.close button[type=submit]")
        expect(page).to_have_url(re.compile(r"/desk/$"))
        expect(page.locator("#wrapups")).to_contain_text("CT-")
        page.locator("#wrapups a").first.click()
        page.check("input[name=dispositions][value=crisis_support]")
        page.check("input[name=dispositions][value=withdrawal]")
        page.check("input[name=risk][value=imminent]")
        page.check("input[name=referrals][value=emergency_911]")
        page.fill("#note", "Took a bottle after stopping cold; agreed to call 911.")
        shot("03-wrapup-phone")
        page.click("form.wrapup button[type=submit]")
        expect(page.locator(".flash.ok")).to_contain_text("Wrap-up saved")
        (contact,) = Contacts(live_line.redis, 3600).between(0, 2**40)
        assert (contact.risk, contact.counselor, contact.wrapup_due) == ("imminent", "alex", False)

        # STOP mid-conversation ends it at once; nothing more is sent.
        live_line.network.text_line(TEXTER, "TALK")
        second = eventually(lambda: threads.open_thread_of(TEXTER))
        expect(page.locator("#offered")).to_contain_text(second, timeout=10_000)
        page.locator("#offered form button").first.click()
        expect(page.locator("#state")).to_contain_text("held by alex")
        live_line.network.text_line(TEXTER, "STOP")
        expect(page.locator("#state")).to_contain_text("closed", timeout=2_500)
        before = len(to_texter(live_line))
        page.fill("#body", "Are you still there?")
        page.click("form.say button[type=submit]")
        assert page.locator("body").inner_text().count("not yours, or has ended") == 1
        live_line.run_jobs()
        assert len(to_texter(live_line)) == before

        laptop = browser.new_context(viewport=LAPTOP).new_page()
        sign_in(laptop, "alex.r")
        laptop.screenshot(path=str(SCREENSHOTS / "desk-04-laptop.png"), full_page=True)
        browser.close()
