"""Atomic, owner-only file output and tolerant input helpers.

Nothing iamreach writes is ever half-written: data goes to a temporary file in the target
directory, is flushed and fsynced, then renamed over the destination. Files that hold account
data are created with mode 0600.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write_bytes", "atomic_writer", "read_input_bytes"]


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a binary file object; on success it replaces ``path`` atomically.

    On any exception (including KeyboardInterrupt) the temporary file is removed and ``path``
    is left exactly as it was.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically with permissions ``mode``."""
    with atomic_writer(path, mode=mode) as fh:
        fh.write(data)


def read_input_bytes(path: str) -> bytes:
    """Read a file, or standard input when ``path`` is ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()
