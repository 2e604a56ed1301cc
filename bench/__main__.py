"""`make bench`: the line's benchmarks (issue 8). The in-process first cut is
`python -m bench.inprocess`."""

from __future__ import annotations

from bench.webhooks import main

if __name__ == "__main__":
    main()
