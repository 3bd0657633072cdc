"""The one decorator every compiled kernel in simcore uses.

``cache=True``: compiled code is kept on disk, so only the first run in an environment pays
for compilation (checked against every source file of simcore: simcore/cache_stamp.py).
``error_model="numpy"``: a float division by zero gives inf/nan as in NumPy instead of raising;
besides matching the closed forms' limits, this keeps exception paths out of the hot loops,
which would otherwise stop Numba from pruning reference counting around every call that passes
arrays. No fastmath: IEEE semantics are part of exactness.
"""
from __future__ import annotations

from numba import njit

from . import cache_stamp, inline_copy  # noqa: F401  (before anything compiles: see their docstrings)


def kernel(fn=None, *, refcounted=True, internal=False, **options):
    """``refcounted=False`` for kernels that never create arrays: Numba then emits no reference
    counting in them at all; in the per-event path that counting (atomic increments of every
    array passed) otherwise costs more than the arithmetic. ``internal=True`` for kernels only
    ever called from other kernels: no Python or C wrapper is generated for them (less to
    compile; calling one from Python fails)."""
    opts = {"cache": True, "error_model": "numpy", **options}
    if not refcounted:
        opts["_nrt"] = False
    if internal:
        opts["no_cpython_wrapper"] = True
        opts["no_cfunc_wrapper"] = True
    if fn is None:
        return lambda f: njit(**opts)(f)
    return njit(**opts)(fn)
