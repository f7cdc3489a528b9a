"""Writing report files atomically: a reader never sees a half-written file.

`write_atomic` writes the text to a fresh temporary file in the destination's directory
(so `os.replace` stays on one filesystem and is atomic), flushes and fsyncs it, then
renames it over the destination. If anything fails or the run is interrupted
(KeyboardInterrupt included), the temporary file is removed and the destination keeps its
old content (or stays absent).

Leaves out: fsync of the directory after the rename (the rename is atomic for readers;
surviving a power cut right after it is not a goal for a report).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def _open_temp(directory: Path, name: str) -> tuple[int, Path]:
    """Create a new temporary file next to the destination; mode 0666 minus the umask."""
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return fd, tmp
    raise FileExistsError(f"cannot create a temporary file in {directory}")


def write_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write `text` to `path` atomically (temp file in the same directory + os.replace).

    Raises OSError when the directory does not exist or is not writable; the destination
    is then untouched.
    """
    dest = Path(path)
    if dest.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(dest))
    directory = dest.parent if str(dest.parent) else Path(".")
    data = text.encode(encoding)
    fd, tmp = _open_temp(directory, dest.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
