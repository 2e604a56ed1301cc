"""The crisis reader's time per text and memory (issue 14): `python -m bench.crisis`.

Every text of flows/crisis/ (both parts), read as the line reads an inbound
text, in this process, one at a time: the figure is `CrisisReader.read`. The
baseline, interleaved text by text: `crisis_text` alone (case, accents and
emoji folded), the least any reader must do. Memory: the process's resident
size before and after the reader is loaded (rules, model.json, the sentence
encoder's description, and the examples `flows check` reads for their
shape), after its first reading (onnxruntime's session opens then, in each
process) and after every text was read; and what Python keeps of it
(tracemalloc: onnxruntime's own memory is in the resident figures only).
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from pathlib import Path

from bench.machine import machine_line
from ivr.content import crisis_loader
from ivr.content.crisis_loader import read_crisis
from ivr.crisis.corpus import CRISIS_DIR, HELDOUT_FILE, TRAIN_FILE, load_corpus
from ivr.crisis.text import crisis_text
from ivr.platform.config import PROJECT_ROOT

ROUNDS = 3


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    began = time.monotonic()
    folder = PROJECT_ROOT / "flows" / CRISIS_DIR
    texts = [e.text for name in (TRAIN_FILE, HELDOUT_FILE) for e in load_corpus(folder, name)]
    crisis_loader.forget()  # loading the corpus read the content files' cache too
    gc.collect()
    before = resident_mb()
    started = time.perf_counter()
    reader, problems = read_crisis(PROJECT_ROOT / "flows")
    load_seconds = time.perf_counter() - started
    gc.collect()
    after = resident_mb()
    if reader is None:
        raise SystemExit("\n".join(str(p) for p in problems))
    started = time.perf_counter()
    reader.read("nobody would even notice if i was gone")  # left to the score
    first_seconds = time.perf_counter() - started
    gc.collect()
    after_first = resident_mb()
    for text in texts[:200]:  # warm: caches as a running line has them
        reader.read(text)
    read_ms: list[float] = []
    floor_ms: list[float] = []
    for _ in range(ROUNDS):
        for text in texts:
            started = time.perf_counter()
            crisis_text(text)
            floor_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            reader.read(text)
            read_ms.append((time.perf_counter() - started) * 1000)
    print(machine_line(time.monotonic() - began))
    print(f"texts: {len(texts)} x {ROUNDS} rounds")
    for name, values in (("reader.read", read_ms), ("crisis_text (baseline)", floor_ms)):
        print(
            f"{name}: p50 {statistics.median(values):.3f} ms, p99 "
            f"{percentile(values, 0.99):.3f} ms, max {max(values):.3f} ms"
        )
    ratio = statistics.median(read_ms) / statistics.median(floor_ms)
    print(f"p50 ratio reader/baseline: {ratio:.1f}")
    gc.collect()
    after_all = resident_mb()
    # What Python keeps of a reader, and the most reading its files takes at once.
    crisis_loader.forget()
    tracemalloc.start()
    kept_reader, _ = read_crisis(PROJECT_ROOT / "flows")
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept_reader
    print(f"memory: +{after - before:.1f} MB resident once read ({load_seconds:.2f} s)")
    print(
        f"memory: +{after_first - before:.1f} MB after the first reading "
        f"({first_seconds:.2f} s), +{after_all - before:.1f} MB after every text"
    )
    print(f"memory kept by the reader {kept / 2**20:.1f} MB, at most {peak / 2**20:.1f} MB reading")


if __name__ == "__main__":
    main()
