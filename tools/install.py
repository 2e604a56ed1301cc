"""Make `.venv` hold exactly one of the lock files: `python3 tools/install.py run|dev`.

`make run` installs requirements/run.txt (what the line runs on);
`make test` and `make lint` install requirements/dev.txt (the same pins, plus
the tools that test and check it). Every package comes at the version and
with the hash its lock names, so a fresh clone installs today what it
installed the day the lock was made.

A virtualenv that was made from an older lock is made anew rather than
patched: pip installs what a lock names but never removes what it no longer
names. Only the standard library is used here: this runs before there is a
virtualenv at all.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCKS = {"run": ROOT / "requirements" / "run.txt", "dev": ROOT / "requirements" / "dev.txt"}
# Which locks each kind of install satisfies: the dev lock holds every pin of
# the run lock (`make lint` checks it), so installing it installs both.
SATISFIES = {"run": ("run",), "dev": ("dev", "run")}
STAMP = ".installed-{kind}"  # inside .venv: the digest of the lock it was made from


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamp(kind: str, venv: Path = VENV) -> Path:
    return venv / STAMP.format(kind=kind)


def stale(venv: Path = VENV, locks: dict[str, Path] = LOCKS) -> str | None:
    """Why the virtualenv cannot be kept, or None if it can."""
    if not venv.exists():
        return None
    stamps = [kind for kind in locks if stamp(kind, venv).exists()]
    if not stamps:
        return "it was not made from a lock"
    for kind in stamps:
        if stamp(kind, venv).read_text().strip() != digest(locks[kind]):
            return f"requirements/{locks[kind].name} has changed"
    return None


def pip(*arguments: str) -> None:
    command = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*command, *arguments], check=True, cwd=ROOT)  # noqa: S603 - our own argv


def install(kind: str) -> None:
    lock = LOCKS[kind]
    if stamp(kind).exists() and stamp(kind).read_text().strip() == digest(lock):
        stamp(kind).touch()  # the lock was touched, not changed (a checkout)
        return
    reason = stale()
    if reason is not None:
        print(f"Making .venv anew: {reason}.", flush=True)
        shutil.rmtree(VENV)
    if not VENV.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603
    print(f"Installing {lock.relative_to(ROOT)} into .venv", flush=True)
    # --require-hashes: every package must be in the lock, at its version, with
    # a matching hash; a dependency the lock forgot fails here, not later.
    pip("install", "--quiet", "--require-hashes", "--requirement", str(lock))
    # The line itself, from this checkout, built by the setuptools just locked.
    pip("install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--editable", ".")
    for satisfied in SATISFIES[kind]:
        stamp(satisfied).write_text(digest(LOCKS[satisfied]) + "\n")


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - run by whatever python3 the machine has
        print(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}).")
        return 1
    if len(argv) != 1 or argv[0] not in LOCKS:
        print(f"usage: {Path(__file__).name} {'|'.join(LOCKS)}")
        return 2
    try:
        install(argv[0])
    except subprocess.CalledProcessError as error:
        print(f"Installing failed ({error.returncode}); .venv is left as it is.")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
