"""The reports in a real browser (issue 20): contacts across New York's
spring-forward and several days, the reports page's figures checked against
the contacts that made them, the contact log and its CSV, and the monthly
page as it prints. Screenshots go to test-output/screenshots/reports-*.png."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

from ivr.contacts.records import Contacts
from tests.admin.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SCREENSHOTS,
    _browser_or_skip,
    site,
)

ZONE = ZoneInfo("America/New_York")
FOREVER = 100 * 365 * 86400  # a retention (seconds) no run of these tests outlives
__all__ = ["site"]  # the live site fixture, shared with the admin's browser test

# (local day and hour, outcome, seconds waited): the 8th springs forward at 02:00.
CONTACTS = [
    ((7, 23), "answered", 8),
    ((8, 0), "abandoned", 0),
    ((8, 3), "answered", 45),
    ((8, 23), "voicemail", 0),
    ((10, 9), "answered", 90),
    ((10, 9), "answered", 5),
]


def test_the_reports_count_what_the_contacts_say(site: str, redis_client: redis.Redis) -> None:
    _browser_or_skip()
    from playwright.sync_api import expect, sync_playwright

    # Kept "forever": `record` trims what started before now - retention, so a
    # year's retention would drop these March 2026 contacts from about 2027-04.
    store = Contacts(redis_client, FOREVER)
    for n, ((day, hour), outcome, waited) in enumerate(CONTACTS):
        started = datetime(2026, 3, day, hour, 30, tzinfo=ZONE).timestamp()
        answered = outcome == "answered"
        store.record(
            f"call:R{n}", channel="call", language="en", started=started,
            answered=started + waited if answered else None, ended=started + 300,
            outcome=outcome, counselor="alex" if answered else "",
        )  # fmt: skip
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(site + "/admin/login")
        page.fill("input[name=name]", "sam")
        page.fill("input[name=secret]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(site + "/admin/reports?from=2026-03-06&to=2026-03-10")
        expect(page.locator("h1")).to_contain_text("America/New_York")
        days = page.locator("#by-day tbody tr")
        expect(days).to_have_count(5)
        expect(days.nth(0)).to_contain_text("no contacts")  # the 6th: empty, not 0 %
        expect(days.nth(1)).to_contain_text("2026-03-07")
        sunday = days.nth(2)  # the 23-hour day: three contacts, one each way
        expect(sunday).to_contain_text("2026-03-08 Sun")
        expect(sunday.locator("td").nth(1)).to_have_text("3")
        three = page.locator("#by-hour tbody tr").nth(3)  # 03:00-04:00 local
        expect(three.locator("td").nth(1)).to_have_text("1")  # its Contacts: the 03:30 one
        expect(page.locator("#sl20")).to_have_text("33 %")  # 2 of 6 within 20 s
        expect(page.locator("#sl60")).to_have_text("50 %")
        page.screenshot(path=str(SCREENSHOTS / "reports-01-range.png"), full_page=True)

        page.goto(site + "/admin/contacts?from=2026-03-06&to=2026-03-10")
        expect(page.locator("#contact-count")).to_have_text("6 contacts")
        with page.expect_download() as download:
            page.click("#csv")
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        assert len(rows) == len(CONTACTS)
        assert sorted(r["outcome"] for r in rows) == sorted(c[1] for c in CONTACTS)
        page.screenshot(path=str(SCREENSHOTS / "reports-02-contact-log.png"), full_page=True)

        page.goto(site + "/admin/reports/monthly?month=2026-03")
        expect(page.locator("#monthly-headline")).to_contain_text("change from February 2026")
        page.emulate_media(media="print")
        expect(page.locator("header.top")).to_be_hidden()
        page.screenshot(path=str(SCREENSHOTS / "reports-03-monthly-print.png"), full_page=True)
        browser.close()
