#!/usr/bin/env bash
# How long a new developer waits, from `git clone` of this checkout:
#   1. until `make run` answers the first simulated call with its greeting;
#   2. until `make test` has passed (skip it with FRESH_CLONE_TEST=0).
# Each in its own fresh clone; pip's cache is left out unless PIP_CACHE=1, so
# the packages come from the registry as on a new machine.
# Usage: tools/fresh_clone.sh        (figures go into the README's "Numbers")
set -euo pipefail
source_dir="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
port="${PORT:-5080}"
emulator_port="${HELPLINE_EMULATOR_PORT:-5180}"
if [ "${PIP_CACHE:-0}" != 1 ]; then export PIP_NO_CACHE_DIR=1; fi
line_pid=""
cleanup() {
  if [ -n "$line_pid" ]; then kill -INT -- "-$line_pid" 2>/dev/null || true; wait "$line_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { python3 -c 'import time; print(time.time())'; }  # macOS date has no %N
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

start="$(now)"
git clone -q "$source_dir" "$work/run"
cd "$work/run"
# Its own process group, so that the whole line is stopped as Ctrl-C stops it.
set -m
PORT="$port" HELPLINE_EMULATOR_PORT="$emulator_port" make run >"$work/run.log" 2>&1 &
line_pid=$!
set +m
greeted=""
for _ in $(seq 1 600); do
  if [ -x .venv/bin/helpline ] && curl -sS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
    if transcript="$(printf 'q\n' | PORT="$port" .venv/bin/helpline simulate call 2>&1)" \
        && grep -q "9 1 1" <<<"$transcript"; then
      greeted="$(since "$start")"
      break
    fi
  fi
  if ! kill -0 "$line_pid" 2>/dev/null; then cat "$work/run.log"; exit 1; fi
  sleep 0.2
done
[ -n "$greeted" ] || { echo "no greeting within 120 s"; cat "$work/run.log"; exit 1; }
echo "clone to first simulated call answered: ${greeted} s"
kill -INT -- "-$line_pid"; wait "$line_pid" 2>/dev/null || true; line_pid=""

if [ "${FRESH_CLONE_TEST:-1}" = 1 ]; then
  start="$(now)"
  git clone -q "$source_dir" "$work/test"
  cd "$work/test"
  make test PYTEST_ARGS="-q -p no:cacheprovider --durations=15" >"$work/test.log" 2>&1 \
    || { tail -50 "$work/test.log"; exit 1; }
  echo "clone to the end of make test: $(since "$start") s"
  grep -E "slowest|^[0-9.]+s (call|setup|teardown)|passed" "$work/test.log"
fi
