"""A newcomer's first hour, in real terminals (issue 16): the line started
as `make run` starts it, the banner read, a whole call placed with the caller
simulator, a counselor accepting it in the counselor simulator, and a text.

`helpline run` is what `make run` runs once the lock file's packages are in
.venv; the test runs it directly, so that it never reinstalls the venv it
runs from. Each program has its own pseudo-terminal, as a person's would."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.rosters import COUNSELOR_A, store_always_on_call
from tests.test_first_hour import offline
from tests.test_processes import HELPLINE, wait_for_health

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """A program in a pseudo-terminal: what it printed, and keys typed into it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            args, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.seen = ""
        self.position = 0  # where the next expect starts: after the last match
        self.code: int | None = None

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the program ended and its terminal closed
                chunk = b""
            self.seen += chunk.decode(errors="replace")

    def expect(self, pattern: str, timeout: float = 30) -> str:
        """Wait until PATTERN (a regex) appears after what was matched before."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = wanted.search(self.seen, self.position)
            if found:
                self.position = found.end()
                return found.group(0)
            if time.monotonic() > deadline or self.process.poll() is not None:
                self._read(0.2)  # what it printed last
                found = wanted.search(self.seen, self.position)
                if found:
                    self.position = found.end()
                    return found.group(0)
                raise AssertionError(f"{pattern!r} not seen in:\n{self.seen[-3000:]}")
            self._read(0.2)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def stop(self) -> int:
        if self.code is not None:
            return self.code
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._read(0.2)
        os.close(self.master)
        self.code = code
        return code


@pytest.mark.timeout(180)
def test_a_newcomer_runs_the_line_calls_it_answers_as_a_counselor_and_texts_it(
    tmp_path: Path,
) -> None:
    env, port = offline(tmp_path)
    line = Terminal([HELPLINE, "run"], env)
    terminals = [line]
    try:
        line.expect(r"Ctrl-C stops everything", timeout=90)
        wait_for_health(port, line.process, workers=True)
        assert ANSI.search(line.seen) is None  # no colour codes in the terminal
        where = json.loads((tmp_path / "var" / "run.json").read_text())
        assert f"admin         {where['web']}/admin" in line.seen
        store_always_on_call(redis.Redis.from_url(where["redis"]), ("alex", COUNSELOR_A, ["en"]))
        as_line = {**env, "REDIS_URL": where["redis"], "HELPLINE_TWILIO_API_URL": where["twilio"]}

        counselor = Terminal([HELPLINE, "simulate", "counselor", "--once"], as_line)
        terminals.append(counselor)
        counselor.expect(r"waits for the line to ring")
        caller = Terminal([HELPLINE, "simulate", "call"], as_line)
        terminals.append(caller)
        caller.expect(r"9 1 1")  # the greeting, 911 first
        caller.type("1\n")  # talk to someone
        counselor.expect(r"answer\? \[y/N\]", timeout=60)  # the counselor's phone rings
        counselor.type("y\n")
        counselor.expect(r"(?i)press 1", timeout=30)  # the whisper
        counselor.type("1\n")
        caller.expect(r"(?i)connected|bridged|talking", timeout=60)
        caller.type("q\n")  # the caller hangs up
        counselor.expect(r"(?i)hung up", timeout=30)

        texter = Terminal([HELPLINE, "simulate", "sms", "KLONOPIN", "--wait", "3"], as_line)
        terminals.append(texter)
        texter.expect(r"line → you: .*clonazepam", timeout=60)  # the facts came back
        texter.process.wait(timeout=30)  # it watches for more, then ends by itself
        assert texter.stop() == 0, texter.seen
    finally:
        codes = []
        for terminal in reversed(terminals):  # every one stopped, whatever failed
            try:
                codes.append(terminal.stop())
            except OSError:
                codes.append(-1)
    assert codes[-1] == 0, line.seen[-3000:]  # the line stopped cleanly
    assert "Traceback" not in line.seen
