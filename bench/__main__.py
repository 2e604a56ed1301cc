"""`make bench`: the line's benchmarks (issue 8), each beside a baseline measured
in the same run. Each part also runs alone: `python -m bench.webhooks`,
`bench.ring`, `bench.outbox`, `bench.growth`, `bench.worker_stop`,
`bench.crisis`, `bench.reports`; the in-process first cut is `python -m bench.inprocess`. Results
and what they led to: docs/benchmarks.md."""

from __future__ import annotations

import time

from bench import crisis, growth, outbox, reports, ring, webhooks, worker_stop

PARTS = (
    ("1. webhooks under gunicorn", webhooks.main),
    ("2. time to ring a counselor", ring.main),
    ("3. outbox throughput and the 3/s limit", outbox.main),
    ("4. cost growth", growth.main),
    ("5. a worker's stop and restart", worker_stop.main),
    ("6. the crisis reader", crisis.main),
    ("7. reports over a year of contacts", reports.main),
)


def main() -> None:
    started = time.monotonic()
    for title, run in PARTS:
        print(f"\n=== {title} ===", flush=True)
        run()
    print(f"\nmake bench: {time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
