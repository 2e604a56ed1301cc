"""The admin pages in a real browser: Debian's Chromium, driven by Playwright.

A supervisor logs in, sees who is on call, adds a Spanish-speaking counselor
and a shift, watches the Spanish coverage gap leave the calendar, marks a
callback done, looks at the figures, the content and the audit log, and logs
out. Each page is saved as a screenshot under test-output/screenshots/.

Without Chromium the test is skipped, loudly; `.ci/run` installs it and sets
HELPLINE_REQUIRE_BROWSER=1, so CI fails rather than skips.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.callbacks.requests import Callbacks
from ivr.content.model import Content
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.platform.config import Settings
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import Dispatches
from loadtest.ports import free_port
from tests.rosters import store_always_on_call

CHROMIUM = os.environ.get("HELPLINE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "correct horse battery staple"
ZONE = "America/New_York"
# As the machine's own probe ran it: no network beyond loopback, no sandbox as root.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _browser_or_skip() -> None:
    if Path(CHROMIUM).exists() and shutil.which(CHROMIUM):
        return
    message = (
        f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM}. "
        "Install Debian's `chromium` package (`.ci/run` does) to run them."
    )
    if os.environ.get("HELPLINE_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def site(settings: Settings, content: Content, redis_client: redis.Redis) -> Iterator[str]:
    """The line's web service on a free port, with an admin and a roster short
    of a Spanish speaker."""
    store_always_on_call(redis_client, ("alex", "+12025550111", ["en"]))
    Accounts(redis_client).set_password("sam", PASSWORD, "admin")
    app = create_app(settings, content)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_a_supervisor_keeps_the_roster_and_the_callbacks(
    site: str, redis_client: redis.Redis, settings: Settings
) -> None:
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    reference = Callbacks(redis_client, settings.secret_key, 3600).create(
        "+12025550188", "es", "voicemail"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(timezone_id=ZONE, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())

        def shot(name: str) -> None:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

        # Any page sends a stranger to the login first.
        page.goto(site + "/admin/roster")
        expect(page).to_have_url(re.compile(r"/admin/login"))
        shot("01-login")
        page.fill("input[name=name]", "sam")
        page.fill("input[name=secret]", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/admin/roster"))  # back where they were going

        page.goto(site + "/admin/")
        expect(page.locator("#now-panel")).to_contain_text("Alex")
        expect(page.locator("#waiting-count")).to_have_text("0")
        # A caller starts waiting: the page shows it by itself, with no reload.
        Dispatches(redis_client, 3600).open_for_call(
            "CA" + "7" * 32, "+12025550177", "es", "counselor"
        )
        expect(page.locator("#waiting-count")).to_have_text("1", timeout=15_000)
        expect(page.locator("#waiting")).to_contain_text("…0177")
        shot("02-now")

        # The calendar shows the Spanish gap before anyone covers it.
        page.goto(site + f"/admin/roster?tz={ZONE}")
        expect(page.locator(".calendar .block.gap[data-requirement=es]").first).to_be_visible()
        expect(page.locator("#gap-list")).to_contain_text("speaking es")

        form = page.locator("#add-counselor")
        form.locator("input[name=id]").fill("maria")
        form.locator("input[name=name]").fill("María López")
        form.locator("input[name=phone]").fill("+12025550101")
        form.locator("input[name=languages]").fill("en, es")
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash.ok[role=status]")).to_contain_text("Added María López")
        expect(page.locator("#counselors")).to_contain_text("…0101")
        expect(page.locator("#counselors")).not_to_contain_text("+12025550101")

        form = page.locator("#add-shift")
        form.locator("select[name=counselor]").select_option("maria")
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            form.locator(f"input[name=days][value={day}]").check()
        form.locator("input[name=start]").fill("00:00")
        form.locator("input[name=end]").fill("24:00")
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash.ok[role=status]")).to_contain_text("Shift added")

        # The week now has María on every day, and no gap left anywhere.
        expect(page.locator(".calendar .block.shift[data-counselor=maria]")).to_have_count(7)
        expect(page.locator(".calendar .block.gap")).to_have_count(0)
        expect(page.locator("#no-gaps")).to_be_visible()
        shot("03-roster")

        page.goto(site + "/admin/callbacks")
        row = page.locator(f"tr[data-reference='{reference}']")
        expect(row).to_contain_text("…0188")
        row.get_by_role("button", name="Mark done").click()
        expect(page.locator(".flash.ok[role=status]")).to_contain_text(f"{reference} marked done")
        expect(page.locator("#no-callbacks")).to_be_visible()
        shot("04-callbacks")

        page.goto(site + "/admin/figures")
        expect(page.locator(".charts svg")).to_have_count(4)
        shot("05-figures")

        page.goto(site + "/admin/content")
        expect(page.locator("#flows-ok")).to_be_visible()
        expect(page.locator(".diagram svg").first).to_be_visible()
        shot("06-content")

        page.goto(site + "/admin/audit")
        for action in ("counselor.add", "shift.add", "callback.status", "login"):
            expect(page.locator("#audit")).to_contain_text(action)
        shot("07-audit")

        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/admin/login"))
        page.goto(site + "/admin/")
        expect(page).to_have_url(re.compile(r"/admin/login"))
        browser.close()

    roster = RosterStore(redis_client).load()
    assert roster is not None
    assert roster.by_id["maria"].languages == ("en", "es")
    actions = [(e.who, e.action) for e in AuditLog(redis_client).recent(20)]
    for action in ("counselor.add", "shift.add", "callback.status"):
        assert ("web:sam", action) in actions


# A week with what makes a calendar hard to read: two people on at once, a
# long name, a night shift over midnight, a half-hour override that takes
# someone off, a weekend with gaps in cover.
CALENDAR_WEEK = "2026-12-07"  # a Monday
CALENDAR_ROSTER = {
    "timezone": ZONE,
    "coverage": {"minimum": 1, "languages": {"es": 1}, "supervisors": 0},
    "counselors": [
        {"id": "maria", "name": "María López", "phone": "+12025550101", "languages": ["en", "es"]},
        {"id": "sam", "name": "Sam Carter", "phone": "+12025550102", "languages": ["en"]},
        {"id": "ana", "name": "Ana Torres", "phone": "+12025550104", "languages": ["es", "en"]},
        {"id": "bart", "name": "Bartholomew Featherstonehaugh-Wright", "phone": "+12025550105",
         "languages": ["en"]},
    ],
    "shifts": [
        {"counselor": "maria", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00",
         "end": "16:00"},
        {"counselor": "sam", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00",
         "end": "16:00"},
        {"counselor": "ana", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00",
         "end": "24:00"},
        {"counselor": "bart", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
         "start": "22:00", "end": "06:00"},
    ],
    "overrides": [
        {"counselor": "ana", "start": "2026-12-09T12:00", "end": "2026-12-09T12:30",
         "replaces": ["sam"], "note": "Sam at the dentist"},
    ],
}  # fmt: skip

# Every block's name and times, and whether each is wholly shown: not cut off
# by its own box (an ellipsis, a clamp) nor by the block's.
BLOCKS_AS_SHOWN = """() => [...document.querySelectorAll('.calendar .block')].map(block => {
  const box = block.getBoundingClientRect();
  const part = name => {
    const el = block.querySelector(name);
    const r = el.getBoundingClientRect();
    return {
      text: el.textContent.trim(),
      whole: el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight,
      inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5
        && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5 && r.width > 0,
    };
  };
  return {day: block.closest('.day').dataset.day, kind: block.className, title: block.title,
          name: part('.name'), time: part('.time')};
})"""


def test_the_roster_calendar_is_read_at_a_glance_on_a_laptop_and_a_phone(
    settings: Settings, content: Content, redis_client: redis.Redis
) -> None:
    """Every block says who and when, wholly, at 1280 px and at 390 px; on a
    phone the week scrolls sideways and the hour scale stays in view."""
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    from ivr.roster.parse import parse_roster

    RosterStore(redis_client).save(parse_roster(CALENDAR_ROSTER, "calendar test"))
    Accounts(redis_client).set_password("sam", PASSWORD, "admin")
    app = create_app(settings, content)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    site = f"http://127.0.0.1:{server.server_port}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(timezone_id=ZONE, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(site + "/admin/login")
            page.fill("input[name=name]", "sam")
            page.fill("input[name=secret]", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(re.compile(r"/admin/$"))

            for width, name in ((1280, "08-calendar-1280"), (390, "09-calendar-390")):
                page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
                page.goto(site + f"/admin/roster?week={CALENDAR_WEEK}&tz={ZONE}")
                calendar = page.locator("#calendar")
                expect(calendar).to_be_visible()
                page.locator(".calendar-scroll").screenshot(path=str(SCREENSHOTS / f"{name}.png"))
                page.screenshot(path=str(SCREENSHOTS / f"{name}-page.png"), full_page=True)
                blocks = page.evaluate(BLOCKS_AS_SHOWN)
                _every_block_reads_whole(blocks, width)
                scroller = page.locator(".calendar-scroll")
                sideways = scroller.evaluate("el => el.scrollWidth - el.clientWidth")
                # The page itself never scrolls sideways: only the week does.
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                if width == 390:
                    assert sideways > 0
                    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
                    scroller.screenshot(path=str(SCREENSHOTS / f"{name}-scrolled.png"))
                    kept = page.evaluate(
                        """() => {
                          const scale = document.querySelector('.calendar .scale');
                          const view = document.querySelector('.calendar-scroll');
                          const s = scale.getBoundingClientRect(), v = view.getBoundingClientRect();
                          return s.left >= v.left - 1 && s.right <= v.right && s.width > 20;
                        }"""
                    )
                    assert kept, "the hour scale scrolled out of view"
                    sunday = page.locator(".calendar .day[data-day='2026-12-13'] .block").first
                    expect(sunday).to_be_in_viewport()

            # A number the line cannot dial: refused, and said right under the field.
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(site + f"/admin/roster?week={CALENDAR_WEEK}&tz={ZONE}")
            form = page.locator("#add-counselor")
            form.locator("input[name=id]").fill("rosa")
            form.locator("input[name=name]").fill("Rosa Jiménez")
            form.locator("input[name=phone]").fill("555-0120")
            form.locator("input[name=languages]").fill("es, en")
            form.locator("button[type=submit]").click()
            phone = page.locator("#add-counselor-phone")
            problem = page.locator("#add-counselor-phone-problem")
            expect(problem).to_contain_text("not a valid phone number")
            expect(phone).to_have_attribute("aria-invalid", "true")
            expect(phone).to_be_focused()  # and the page has taken the person to it
            near = page.evaluate(
                """() => {
                  const i = document.querySelector('#add-counselor-phone').getBoundingClientRect();
                  const p = document.querySelector('#add-counselor-phone-problem')
                    .getBoundingClientRect();
                  return p.top >= i.bottom - 1 && p.top - i.bottom < 40 && p.left < i.right;
                }"""
            )
            assert near, "the message is not beside its field"
            form.screenshot(path=str(SCREENSHOTS / "10-refused-form.png"))
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def _every_block_reads_whole(blocks: list[dict[str, Any]], width: int) -> None:
    assert blocks, "no blocks on the calendar"
    for block in blocks:
        for part in ("name", "time"):
            shown = block[part]
            assert shown["whole"], (width, part, block)  # no ellipsis, no clamp
            assert shown["inside"], (width, part, block)  # nothing past the block's edge
    said = {(b["day"], b["name"]["text"], b["time"]["text"]) for b in blocks}
    expected = {
        ("2026-12-07", "María López", "08:00–16:00"),
        ("2026-12-07", "Sam Carter", "08:00–16:00"),
        ("2026-12-07", "Ana Torres", "16:00–24:00"),
        ("2026-12-07", "Bartholomew Featherstonehaugh-Wright", "22:00–24:00"),
        ("2026-12-08", "Bartholomew Featherstonehaugh-Wright", "00:00–06:00"),
        ("2026-12-09", "Ana Torres", "12:00–12:30"),  # the override, half an hour
        ("2026-12-09", "Sam Carter", "12:00–12:30"),  # what it takes away
        ("2026-12-09", "Sam Carter", "12:30–16:00"),
        # Where nobody is on call, that is the gap; before and after, nobody speaks Spanish.
        ("2026-12-12", "Gap: es", "00:00–06:00"),
        ("2026-12-12", "Gap", "06:00–22:00"),
        ("2026-12-12", "Gap: es", "22:00–24:00"),
    }
    assert expected <= said, expected - said


def test_the_front_page_and_the_api_documentation_read_on_a_phone_and_a_laptop(
    site: str,
) -> None:
    """`/` says what the service is and leads to /admin and the API's
    documentation; neither page needs a login, nor scrolls sideways on a phone."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, label in ((1280, "laptop"), (390, "phone")):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(site + "/")
            page.screenshot(path=str(SCREENSHOTS / f"11-front-page-{label}.png"), full_page=True)
            assert page.locator("a[href^='/admin']").count() >= 1
            assert page.locator("a[href='/api/v1/docs']").count() >= 1
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.click("a[href='/api/v1/docs']")
            page.wait_for_load_state()
            assert "/api/v1/" in page.content()
            page.screenshot(path=str(SCREENSHOTS / f"12-api-docs-{label}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
            context.close()
        browser.close()
