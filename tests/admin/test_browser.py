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

import pytest
import redis
from werkzeug.serving import make_server

from ivr import create_app
from ivr.callbacks import Callbacks
from ivr.config import Settings
from ivr.content.model import Content
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.roster.store import RosterStore
from ivr.routing.dispatches import Dispatches
from tests.conftest import free_port
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
