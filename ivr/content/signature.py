"""What tells that content files changed, without reading them: each file's
size, inode and change times. A file copied over with its old modification
time kept (`cp -p`, `rsync -a`) still changes its ctime (and an inode, when
replaced), so size and mtime alone miss it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

Stamp = tuple[str, int, int, int, int]  # path, size, inode, mtime ns, ctime ns
Signature = tuple[Stamp, ...]


def files_signature(paths: Iterable[str | Path]) -> Signature:
    """The stamps of PATHS that exist, in the order given: a file gone (or
    gone while listed) is left out, which changes the signature too."""
    found = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            continue
        found.append((str(path), stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns))
    return tuple(found)


def tree_signature(directory: Path) -> Signature:
    """The stamps of every file under DIRECTORY, links followed, in a fixed order."""
    return files_signature(
        os.path.join(folder, name)
        for folder, _, names in sorted(os.walk(directory, followlinks=True))
        for name in sorted(names)
    )
