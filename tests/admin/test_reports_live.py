"""The reports made by the line itself (issue 20): calls and a text
conversation played through the emulator with a real worker — answered,
abandoned on hold, a message left, a conversation closed with its wrap-up —
then the reports page, its charts and the monthly page, in a real browser,
checked against the contact records those contacts left. Screenshots go to
test-output/screenshots/reports-live-*.png.

(The DST and several-days part, which needs contacts at chosen times, is
tests/admin/test_reports_browser.py.)"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.callbacks.urgent import UrgentItems
from ivr.contacts.records import Contact, Contacts, WrapUp
from ivr.line import Line
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from ivr.operators.counselor_desk import CounselorDesk, wrapup_lists
from ivr.roster.schedule import schedule_of
from ivr.roster.store import ROSTER_KEY
from tests.admin.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SCREENSHOTS,
    _browser_or_skip,
)
from tests.live import LiveLine, WorkerProcess, eventually
from tests.rosters import COUNSELOR_A, COUNSELOR_B, store_always_on_call
from twilio_emulator import give_up, hangup, press, say, talk

StartWorker = Callable[..., WorkerProcess]
TEXTER = "+12025550166"


def since(line: LiveLine, moment: float) -> list[Contact]:
    return Contacts(line.redis, 3600).between(moment, time.time() + 1)


def test_the_reports_count_the_calls_and_texts_the_line_took(
    live_line: LiveLine, start_worker: StartWorker
) -> None:
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    network = live_line.network
    store_always_on_call(live_line.redis)
    Accounts(live_line.redis).set_password("sam", PASSWORD, "admin")
    line = Line(live_line.settings, live_line.content, live_line.redis)
    roster = line.roster.load()
    assert roster is not None
    start_worker()
    began = time.time()

    # 1. A call a counselor answers.
    network.phone(COUNSELOR_A, press("1"), talk(0.3))
    answered = network.call_line("+12025550123", press("1"))
    network.wait_for_call(answered.sid, timeout=30)
    # 2. A caller who gives up on hold (nobody picks up).
    network.phone(COUNSELOR_A, answer="no-answer", ring_seconds=5)
    network.phone(COUNSELOR_B, answer="no-answer", ring_seconds=5)
    gave_up = network.call_line("+12025550124", press("1"), give_up(0.5))
    network.wait_for_call(gave_up.sid, timeout=30)
    # 3. A text conversation a counselor takes and closes.
    network.text_line(TEXTER, "TALK")
    thread_id = eventually(lambda: line.threads.open_thread_of(TEXTER))
    desk = CounselorDesk(
        line.threads, UrgentItems(line.redis, 3600), line.outbox,
        Contacts(line.redis, 3600), AuditLog(line.redis), line.content, line.jobs, line.settings,
    )  # fmt: skip
    desk.take(thread_id, "blanca")
    desk.close(thread_id, "blanca")
    # 4. Nobody on call: a message left.
    live_line.redis.delete(ROSTER_KEY)
    message = network.call_line(
        "+12025550125", press("1"), press("1"), press("3"), say("it's me"), hangup()
    )
    network.wait_for_call(message.sid, timeout=30)
    found = eventually(lambda: len(since(live_line, began)) == 4 and since(live_line, began))

    by_outcome = {c.outcome: c for c in found}
    assert set(by_outcome) == {"answered", "abandoned", "conversation", "voicemail"}
    wrapup = live_line.content.wrapup
    disposition = next(iter(wrapup.dispositions))
    risk = wrapup.risks[0][0]
    store = Contacts(live_line.redis, 3600)
    lists = wrapup_lists(live_line.content)
    for contact in found:
        if contact.counselor:
            store.wrap_up(contact.id, contact.counselor, WrapUp((disposition,), risk), lists)
    # The service level is of calls (three here): the answered one, if within 20 s.
    calls = [c for c in found if c.channel == "call"]
    within_20 = sum(1 for c in calls if c.outcome == "answered" and (c.waited_seconds or 0) <= 20)
    # Worked out from the contacts, so that a run across an hour or midnight holds.
    zone = ZoneInfo(live_line.settings.timezone)
    by_hour = Counter(datetime.fromtimestamp(c.started, zone).hour for c in found)
    days = {datetime.fromtimestamp(c.started, zone).date() for c in found}
    hour = datetime.fromtimestamp(found[0].started, zone).hour
    on_call_then = len(schedule_of(roster).on_call_ids(found[0].started))

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(live_line.line_url + "/admin/login")
        page.fill("input[name=name]", "sam")
        page.fill("input[name=secret]", PASSWORD)
        page.click("button[type=submit]")
        # The roster was emptied for the message: put it back, so the page's
        # coverage is the roster the calls met.
        line.roster.save(roster)
        page.goto(live_line.line_url + "/admin/reports")
        headline = page.locator("#headline")
        expect(headline.locator("tr").nth(0)).to_contain_text("4")
        expect(headline.locator("tr").nth(1)).to_contain_text("2 (50 %)")
        expect(headline.locator("tr").nth(2)).to_contain_text("1 (25 %)")
        expect(headline.locator("tr").nth(3)).to_contain_text("1 (25 %)")
        expect(page.locator("#sl20")).to_have_text(f"{round(within_20 * 100 / len(calls))} %")
        for at, count in by_hour.items():
            row = page.locator("#by-hour tbody tr").nth(at)
            expect(row.locator("td").nth(1)).to_have_text(str(count))
        row = page.locator("#by-hour tbody tr").nth(hour)
        expect(row.locator("td").nth(5)).to_have_text(f"{on_call_then:.1f}")
        expect(page.locator("#channels")).to_contain_text("call: 3")
        expect(page.locator("#channels")).to_contain_text("text: 1")
        label = wrapup.dispositions[disposition].text("en")
        expect(page.locator("#dispositions")).to_contain_text(f"{label}: 2")
        # The charts: today's columns, the hour's demand against coverage.
        by_day = page.locator("#chart-by-day svg")
        # A day with contacts has a column each for answered, abandoned and missed.
        expect(by_day.locator("rect.chart-column")).to_have_count(3 * len(days))
        demand = page.locator("#chart-demand svg")
        expect(demand).to_contain_text("hour of day (America/New_York)")
        expect(demand.locator("circle")).to_have_count(24 + 1)  # every hour, and the legend's
        page.screenshot(path=str(SCREENSHOTS / "reports-live-01-page.png"), full_page=True)
        for chart in ("by-day", "service-level", "demand", "missed-by-hour", "by-weekday"):
            page.locator(f"#chart-{chart}").screenshot(
                path=str(SCREENSHOTS / f"reports-live-chart-{chart}.png")
            )

        # A range running into days not yet come: the demand is a day's
        # average over the days that have come (today alone here), not diluted.
        if len(days) == 1:
            (day,) = days
            ahead = f"/admin/reports?from={day}&to={day + timedelta(days=6)}"
            page.goto(live_line.line_url + ahead)
            titles = page.locator("#chart-demand svg rect.chart-column title")
            for at, count in by_hour.items():
                expect(titles.filter(has_text=f"{at:02d} · ")).to_have_text(
                    f"{at:02d} · contacts offered, a day on average: {count}"
                )
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SCREENSHOTS / "reports-live-02-phone.png"), full_page=True)
        page.locator("#chart-demand").screenshot(
            path=str(SCREENSHOTS / "reports-live-02-phone-chart.png")
        )

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live_line.line_url + "/admin/reports/monthly")
        expect(page.locator("#monthly-headline tr").nth(1)).to_contain_text("4")
        expect(page.locator("#monthly-by-day svg")).to_be_visible()
        page.emulate_media(media="print")
        pdf = page.pdf(format="Letter")
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        assert pages == 1, f"the monthly report prints on {pages} pages"
        page.screenshot(path=str(SCREENSHOTS / "reports-live-03-monthly-print.png"), full_page=True)
        browser.close()
