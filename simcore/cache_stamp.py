"""Numba's on-disk caches of simcore's kernels invalidated by any change to simcore's source.

Numba keys a cached function on the content of the one file that defines it. A kernel that
inlines or calls kernels of another file, or reads its constants, keeps its cached code when
only that other file changes: ``alif`` builds on ``lif_exp``'s kernels and column indices, and
when ``lif_exp`` gained two columns (in a trial) the cached ``alif`` kernels read the wrong
columns: the single-ALIF netlist fired 1 spike instead of 29. A source checkout that pulls such
a change would silently run stale code.

:func:`install` puts two cache locators in front of Numba's own for files inside simcore (a
cache beside the source, or under ``NUMBA_CACHE_DIR``): the same places, but the stamp a
cached function is checked against is the file's own plus :func:`package_stamp`, a hash of
every source file of simcore. Any edit in simcore then recompiles its kernels once; an
installed, unchanged package never does. The generated engines use the same stamp in their
names (simcore/codegen.py). If the installed Numba's caching is not laid out as expected,
nothing is installed and caching is Numba's own.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from numba.core import caching

ROOT = Path(__file__).resolve().parent


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


@functools.cache
def package_stamp() -> str:
    """sha256 of the relative names and contents of simcore's .py files, once per process (the
    code a process runs is what it imported, whatever changes on disk later)."""
    h = hashlib.sha256()
    for p in _sources():
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def inside(py_file) -> bool:
    """Whether a file lies inside simcore (whose package stamp covers it)."""
    try:
        return Path(py_file).resolve().is_relative_to(ROOT)
    except (OSError, ValueError):
        return False


class _PackageStamped:
    """Mixin: a Numba cache locator for simcore's files only, stamped with the whole package."""

    def get_source_stamp(self):
        return super().get_source_stamp(), package_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):
        if not inside(py_file):
            return None
        return super().from_function(py_func, py_file)


def install() -> bool:
    """Puts the package-stamped locators first in Numba's list (once); returns whether they are."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)
    bases = [getattr(caching, n, None) for n in ("UserProvidedCacheLocator", "InTreeCacheLocator")]
    if not isinstance(classes, list) or None in bases:
        return False
    if any(getattr(c, "_evsim_package_stamp", False) for c in classes):
        return True
    mine = [type(f"PackageStamped{b.__name__}", (_PackageStamped, b),
                 {"_evsim_package_stamp": True, "__module__": __name__}) for b in bases]
    classes[:0] = mine
    return True


INSTALLED = install()
