"""Figures say which range is shown and what every colour means; the audit
page has a proper title."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from ivr.operators.accounts import Accounts
from ivr.platform.config import Settings
from ivr.web.admin import charts
from tests.admin.login import log_in


@pytest.fixture
def val(client: FlaskClient, people: Accounts) -> FlaskClient:
    assert log_in(client, "val") == 302
    return client


@pytest.mark.parametrize(("asked", "shown"), [("7", 7), ("30", 30), ("", 14), ("nonsense", 14)])
def test_the_range_shown_is_the_one_marked_chosen(val: FlaskClient, asked: str, shown: int) -> None:
    page = val.get(f"/admin/figures?days={asked}").get_data(as_text=True)
    ranges = re.search(r'<nav class="ranges"[^>]*>(.*?)</nav>', page, re.S)
    assert ranges is not None
    links = re.findall(r"<a ([^>]*)>(\d+) days</a>", ranges.group(1))
    assert [int(days) for _, days in links] == [7, 14, 30, 90]
    chosen = [int(days) for attrs, days in links if 'aria-current="page"' in attrs]
    assert chosen == [shown]
    assert [int(days) for attrs, days in links if 'class="chosen"' in attrs] == [shown]


def test_every_chart_says_what_its_colours_mean_and_in_what_units(val: FlaskClient) -> None:
    page = val.get("/admin/figures?days=7").get_data(as_text=True)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)
    assert len(captions) == 4  # one per chart
    text = [" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in captions]
    answer_rate, speed, abandonment, by_counselor = text
    assert "Answer rate, in %" in answer_rate
    assert "in seconds" in speed
    assert "Abandonment, in %" in abandonment
    assert "a count" in by_counselor
    assert "last 7 days" in by_counselor
    for caption in (answer_rate, speed, abandonment):
        assert "Grey band" in caption  # the band drawn for a day without data
    # The key's colours are the charts' own.
    assert f"background: {charts.SERIES}" in page
    assert f"background: {charts.MISSING}33" in page


def test_the_audit_page_has_a_title_and_nothing_else_in_it(val: FlaskClient) -> None:
    page = val.get("/admin/audit").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert title.group(1) == "Audit log · Helpline admin"
    assert page.count('id="failed-logins"') == 1  # the table is in the page once, not in its head


def test_the_figures_and_the_now_tile_name_the_lines_time_zone(
    val: FlaskClient, settings: Settings
) -> None:
    """Their days are local dates in the line's zone (HELPLINE_TIMEZONE), not UTC ones."""
    figures = val.get("/admin/figures?days=7").get_data(as_text=True)
    assert f"days in {settings.timezone}" in figures
    assert f"Per day in {settings.timezone}" in figures
    assert "UTC day" not in figures
    panel = val.get("/admin/now/panel").get_data(as_text=True)
    tile = re.search(r"answered today (.*?)</div>", panel, re.S)
    assert tile is not None
    assert f"({settings.timezone})" in tile.group(1)
