"""Writing files so that a reader never sees half of one: a temporary name, then a rename."""
from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def replacing(path: str, mode: str = "wb"):
    """Yields a file object; on success the file replaces ``path`` atomically, on error it is removed."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str, text: str) -> None:
    with replacing(path, "w") as fh:
        fh.write(text)
