"""How well the crisis reader does on labelled examples (`make eval`): recall
per category and language, false alarms, the near band, and the time a text
takes. Figures only; the examples' words are never printed, only their place
in the file (`--show-misses`), so a run can be pasted into a review."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ivr.crisis.corpus import CATEGORIES, LANGUAGES, Example
from ivr.crisis.reader import CrisisReader, CrisisReading

# Issue 14's targets, on the held-out part.
RECALL_TARGET = 0.97
EXPLICIT_RECALL_TARGET = 1.0
FALSE_ALARM_TARGET = 0.05
LATENCY_P99_TARGET_MS = 20.0


@dataclass
class Tally:
    total: int = 0
    crisis: int = 0
    near: int = 0

    def rate(self) -> float:
        return self.crisis / self.total if self.total else 0.0

    def add(self, reading: CrisisReading) -> None:
        self.total += 1
        self.crisis += reading.crisis
        self.near += reading.near


@dataclass
class Report:
    by_category: dict[tuple[str, str], Tally] = field(default_factory=dict)  # (category, lang)
    explicit: dict[str, Tally] = field(default_factory=dict)  # per language
    negatives: dict[str, Tally] = field(default_factory=dict)  # label none, per language
    lookalikes: dict[str, Tally] = field(default_factory=dict)
    stages: Counter[str] = field(default_factory=Counter)  # how the crises found were found
    # how the false alarms were raised: a rule's are content's to narrow, the score's its to learn
    alarm_stages: Counter[str] = field(default_factory=Counter)
    wrong_language: int = 0  # crises read in the other language (the reply's language)
    misses: list[Example] = field(default_factory=list)
    alarms: list[Example] = field(default_factory=list)
    milliseconds: list[float] = field(default_factory=list)

    def recall(self, language: str | None = None) -> float:
        return _rate(_per_language(self.by_category), language)

    def explicit_recall(self, language: str | None = None) -> float:
        return _rate(self.explicit, language)

    def false_alarms(self, language: str | None = None) -> float:
        return _rate(self.negatives, language)

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.milliseconds)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def targets_met(self) -> dict[str, bool]:
        met = {}
        for language in LANGUAGES:
            met[f"recall {language} >= {RECALL_TARGET:.0%}"] = (
                self.recall(language) >= RECALL_TARGET
            )
            met[f"explicit recall {language} = 100%"] = (
                self.explicit_recall(language) >= EXPLICIT_RECALL_TARGET
            )
            met[f"false alarms {language} <= {FALSE_ALARM_TARGET:.0%}"] = (
                self.false_alarms(language) <= FALSE_ALARM_TARGET
            )
        met[f"p99 <= {LATENCY_P99_TARGET_MS:.0f} ms"] = (
            self.percentile_ms(0.99) <= LATENCY_P99_TARGET_MS
        )
        return met


def evaluate(reader: CrisisReader, examples: Sequence[Example]) -> Report:
    report = Report()
    for example in examples:
        started = time.perf_counter()
        reading = reader.read(example.text, None)
        report.milliseconds.append((time.perf_counter() - started) * 1000)
        if example.crisis:
            key = (example.label, example.language)
            report.by_category.setdefault(key, Tally()).add(reading)
            if example.explicit:
                report.explicit.setdefault(example.language, Tally()).add(reading)
            if reading.crisis:
                report.stages[reading.stage.value] += 1
                if reading.language not in (None, example.language):
                    report.wrong_language += 1
            else:
                report.misses.append(example)
        else:
            report.negatives.setdefault(example.language, Tally()).add(reading)
            if example.lookalike:
                report.lookalikes.setdefault(example.language, Tally()).add(reading)
            if reading.crisis:
                report.alarms.append(example)
                report.alarm_stages[reading.stage.value] += 1
    return report


def _rate(by_language: dict[str, Tally], language: str | None) -> float:
    """Share read as a crisis, in LANGUAGE or (None) in all."""
    tallies = [t for lang, t in by_language.items() if language in (None, lang)]
    total = sum(t.total for t in tallies)
    return sum(t.crisis for t in tallies) / total if total else 0.0


def _per_language(by_category: dict[tuple[str, str], Tally]) -> dict[str, Tally]:
    totals: dict[str, Tally] = {}
    for (_, language), tally in by_category.items():
        total = totals.setdefault(language, Tally())
        total.total += tally.total
        total.crisis += tally.crisis
        total.near += tally.near
    return totals


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


def render(report: Report, title: str, *, show_examples: bool = False) -> str:
    lines = [title, "", "recall (crisis found) by category:"]
    lines.append(f"  {'category':<20}" + "".join(f"{lang:>22}" for lang in LANGUAGES))
    for category in CATEGORIES:
        cells = []
        for language in LANGUAGES:
            tally = report.by_category.get((category, language), Tally())
            cells.append(f"{_percent(tally.crisis, tally.total):>22}")
        lines.append(f"  {category:<20}" + "".join(cells))
    crises = _per_language(report.by_category)
    for name, totals in (
        ("all crises", crises),
        ("explicit", report.explicit),
    ):
        cells = []
        for language in LANGUAGES:
            tally = totals.get(language, Tally())
            cells.append(f"{_percent(tally.crisis, tally.total):>22}")
        lines.append(f"  {name:<20}" + "".join(cells))
    # A crisis missed but near still gets the 988 line with its answer; one that is
    # neither gets nothing of the kind.
    cells = []
    for language in LANGUAGES:
        tally = crises.get(language, Tally())
        cells.append(f"{_percent(tally.near, tally.total - tally.crisis):>22}")
    lines.append(f"  {'missed, but near':<20}" + "".join(cells))
    lines += ["", "false alarms (not a crisis, read as one):"]
    for name, tallies in (("all not-crisis", report.negatives), ("look-alikes", report.lookalikes)):
        cells = [
            f"{_percent(tallies.get(lang, Tally()).crisis, tallies.get(lang, Tally()).total):>22}"
            for lang in LANGUAGES
        ]
        lines.append(f"  {name:<20}" + "".join(cells))
    near = []
    for language in LANGUAGES:
        tally = report.negatives.get(language, Tally())
        near.append(f"{_percent(tally.near, tally.total):>22}")
    lines.append(f"  {'near (988 line)':<20}" + "".join(near))
    found = sum(report.stages.values())
    lines += [
        "",
        f"crises found by a rule: {report.stages['rule']}, by the score: {report.stages['score']}"
        f" (of {found}); read in the wrong language: {report.wrong_language}",
        f"false alarms raised by a rule: {report.alarm_stages['rule']}, by the score: "
        f"{report.alarm_stages['score']}",
        f"time per text: p50 {report.percentile_ms(0.5):.2f} ms, p99 "
        f"{report.percentile_ms(0.99):.2f} ms, max {max(report.milliseconds, default=0):.2f} ms"
        f" (mean {statistics.fmean(report.milliseconds) if report.milliseconds else 0:.2f})",
        "",
        "targets:",
    ]
    lines += [f"  [{'x' if ok else ' '}] {name}" for name, ok in report.targets_met().items()]
    if show_examples:
        lines += ["", "missed crises (file:line):"]
        lines += [f"  {e.where} {e.language} {e.label}" for e in report.misses]
        lines += ["false alarms (file:line):"]
        lines += [f"  {e.where} {e.language}" for e in report.alarms]
    return "\n".join(lines)
