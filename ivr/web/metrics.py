"""/metrics: the line's figures in Prometheus text format. No numbers of
people, no secrets: counts, waits and rates per day, and answers per counselor id.
A `day` label is a local date in the line's time zone (HELPLINE_TIMEZONE)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from flask import Blueprint, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector
from rq import Queue

from ivr.callbacks.urgent import UrgentItems
from ivr.jobs import QUEUE_NAME
from ivr.routing.figures import DayFigures, Figures
from ivr.web.current import helpline

metrics = Blueprint("metrics", __name__)
DAYS = 7


@dataclass(frozen=True)
class UrgentFigures:
    open: int
    oldest_open_seconds: float
    times_to_claim: list[float]  # seconds, of the claims still kept
    reached_backup: int


class LineCollector(Collector):
    def __init__(self, days: list[DayFigures], queued_jobs: int, urgent: UrgentFigures) -> None:
        self._days = days
        self._queued = queued_jobs
        self._urgent = urgent

    def collect(self):  # type: ignore[no-untyped-def]
        counts = {
            name: GaugeMetricFamily(f"helpline_calls_{name}", help_text, labels=["day"])
            for name, help_text in (
                ("offered", "Callers who asked for a counselor"),
                ("answered", "Callers a counselor accepted"),
                ("abandoned", "Callers who hung up while waiting"),
                ("unanswered", "Callers no counselor took"),
            )
        }
        asa = GaugeMetricFamily(
            "helpline_average_speed_of_answer_seconds",
            "Mean wait before a counselor accepted",
            labels=["day"],
        )
        rate = GaugeMetricFamily("helpline_answer_rate", "Answered / offered", labels=["day"])
        by = GaugeMetricFamily(
            "helpline_answered_by_counselor", "Calls accepted", labels=["day", "counselor"]
        )
        for day in self._days:
            for name, family in counts.items():
                family.add_metric([day.day], getattr(day, name))
            if day.average_speed_of_answer is not None:
                asa.add_metric([day.day], day.average_speed_of_answer)
            if day.answer_rate is not None:
                rate.add_metric([day.day], day.answer_rate)
            for counselor, answered in day.answered_by.items():
                by.add_metric([day.day, counselor], answered)
        yield from counts.values()
        yield from (asa, rate, by)
        yield GaugeMetricFamily(
            "helpline_jobs_queued", "Jobs waiting for a worker", value=self._queued
        )
        urgent = self._urgent
        yield GaugeMetricFamily(
            "helpline_urgent_open", "Urgent work nobody has taken yet", value=urgent.open
        )
        yield GaugeMetricFamily(
            "helpline_urgent_oldest_open_seconds",
            "How long the oldest urgent work not yet taken has waited",
            value=urgent.oldest_open_seconds,
        )
        yield SummaryMetricFamily(
            "helpline_urgent_time_to_claim_seconds",
            "From urgent work's opening to someone taking it (claims kept for the retention)",
            count_value=len(urgent.times_to_claim),
            sum_value=sum(urgent.times_to_claim),
        )
        yield CounterMetricFamily(
            "helpline_urgent_reached_backup",
            "Urgent work that climbed its ladder to the backup line",
            value=urgent.reached_backup,
        )


@metrics.get("/metrics")
def prometheus() -> Response:
    try:
        return _prometheus()
    except redis.RedisError:
        return Response("redis unreachable\n", status=503, mimetype="text/plain")


def _prometheus() -> Response:
    line = helpline()
    zone_name = line.settings.timezone
    figures = Figures(line.redis, zone_name)
    today = datetime.now(ZoneInfo(zone_name)).date()
    days = [figures.day((today - timedelta(days=n)).isoformat()) for n in range(DAYS)]
    registry = CollectorRegistry()
    items = UrgentItems(line.redis, line.settings.retention_seconds)
    waiting = items.open_items()
    now = time.time()
    urgent = UrgentFigures(
        len(waiting),
        max((item.age(now) for item in waiting), default=0.0),
        items.times_to_claim(),
        items.reached_backup(),
    )
    queued = Queue(QUEUE_NAME, connection=line.redis).count
    registry.register(LineCollector(days, queued, urgent))
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
