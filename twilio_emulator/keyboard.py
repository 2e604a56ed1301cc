"""The person at a console (`helpline simulate call|counselor`): a question
is put to them and stays open while the call goes on, so the console keeps
reading what the phone hears and can take the question back when the call
moves on without an answer (the caller hung up, a menu timed out).

`Answers` gives answers from a function, at once (tests, scripts); `TypedLines`
reads the terminal on a thread of its own, so a question never blocks the
console.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol

import click

Ask = Callable[[str], str]


class Keyboard(Protocol):
    def ask(self, question: str) -> None:
        """Put QUESTION to the person (shown once)."""

    def answer(self, timeout: float) -> str | None:
        """Their answer, or None when none came within TIMEOUT seconds.
        EOFError when nothing more can come (end of input)."""

    def withdraw(self) -> None:
        """The question is no longer asked: what is typed for it is dropped."""

    def aside(self) -> None:
        """Something is about to be shown while the question is open."""

    def resume(self) -> None:
        """Shown; put the open question again, if something interrupted it."""


class Answers:
    """Answers from a function, one per question: `ask` as the console calls it."""

    def __init__(self, ask: Ask) -> None:
        self._ask = ask
        self._question = ""

    def ask(self, question: str) -> None:
        self._question = question

    def answer(self, timeout: float) -> str | None:
        return self._ask(self._question)

    def withdraw(self) -> None:
        pass

    def aside(self) -> None:
        pass

    def resume(self) -> None:
        pass


def _read_stdin() -> str:
    return sys.stdin.readline()


def _write(text: str) -> None:
    click.echo(text, nl=False)


class TypedLines:
    """Lines typed at the terminal, each taken with the moment it arrived.

    A line typed after a question was withdrawn, before the next one was put,
    answered the question that was gone (an Enter to hang up a call that had
    just ended): it is dropped, not taken as the answer to the next question
    (which might be "answer? [y/N]"). Lines typed ahead of any question (a
    script piped in) are kept in order."""

    def __init__(
        self, read: Callable[[], str] = _read_stdin, write: Callable[[str], None] = _write
    ) -> None:
        self._read = read
        self._write = write
        self._lines: queue.Queue[tuple[float, str | None]] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._open: str | None = None  # the question put and not yet answered
        self._interrupted = False  # its line was ended by something shown
        self._withdrawn_at: float | None = None

    def _start(self) -> None:
        if self._reader is None:
            self._reader = threading.Thread(target=self._run, name="keyboard", daemon=True)
            self._reader.start()

    def _run(self) -> None:
        while True:
            try:
                line = self._read()
            except (OSError, ValueError):  # the terminal went away
                line = ""
            if not line:
                self._lines.put((time.monotonic(), None))
                return
            self._lines.put((time.monotonic(), line.rstrip("\r\n")))

    def ask(self, question: str) -> None:
        self._start()
        if self._withdrawn_at is not None:
            self._drop_typed_since(self._withdrawn_at)
            self._withdrawn_at = None
        self._open, self._interrupted = question, False
        self._write(question)

    def _drop_typed_since(self, moment: float) -> None:
        kept: list[tuple[float, str | None]] = []
        while True:
            try:
                entry = self._lines.get_nowait()
            except queue.Empty:
                break
            if entry[1] is None or entry[0] <= moment:
                kept.append(entry)
        for entry in kept:
            self._lines.put(entry)

    def answer(self, timeout: float) -> str | None:
        try:
            at, line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self._lines.put((at, None))  # the end stays the end
            raise EOFError
        self._open = None
        return line

    def withdraw(self) -> None:
        if self._open is not None and not self._interrupted:
            self._write("\n")
        self._open, self._interrupted = None, False
        self._withdrawn_at = time.monotonic()

    def aside(self) -> None:
        if self._open is not None and not self._interrupted:
            self._write("\n")
            self._interrupted = True

    def resume(self) -> None:
        if self._open is not None and self._interrupted:
            self._write(self._open)
            self._interrupted = False
