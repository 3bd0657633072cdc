"""A compile-time fix for Numba's IR inliner: each inlined function's IR is copied once, not once
per block.

``InlineWorker.inline_ir`` (numba/core/inline_closurecall.py) copies the callee's IR twice per
inlining, each time with one ``copy.deepcopy`` per basic block. Every variable refers to the IR's
scope, which holds every variable of the function, so each block's deep copy copies the whole
scope again: the cost grows as blocks x variables. The engine's kernels inline large functions
(run_neuron, with predict and the crossing search inside it, into run_stage), where this copying
took about 3.5 s of a 16-17 s cold compile (CUBA). Numba issue #8989 ("Spurious deep copies in
inlining") reports the same; still so in 0.68.

:func:`install` wraps ``inline_ir`` so that, during one call, deep copies of blocks that share a
scope share one memo: the scope and the variables are copied once, and the copy's blocks share
one scope object, as the original IR's blocks do (the per-block copies had equal but distinct
scopes, which the inliner then replaces by the caller's scope anyway). The IR produced is the
same; only the copying is cheaper. Nothing else in Numba is touched. If the installed Numba's
inliner is not laid out as expected, nothing is installed and compilation takes as long as before.
"""
from __future__ import annotations

import copy

from numba.core import inline_closurecall, ir


class _SharedMemoCopy:
    """Stands in for the ``copy`` module inside inline_closurecall during one ``inline_ir`` call:
    ``deepcopy`` of an ``ir.Block`` uses one memo per source scope; all else is ``copy``'s own."""

    def __init__(self):
        self._memos = {}      # id(scope) -> memo; the scopes stay alive for the whole call

    def deepcopy(self, x, memo=None):
        if memo is None and isinstance(x, ir.Block):
            memo = self._memos.setdefault(id(x.scope), {})
        return copy.deepcopy(x, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def install() -> bool:
    """Wraps ``InlineWorker.inline_ir`` (once); returns whether the wrapper is in place."""
    worker = getattr(inline_closurecall, "InlineWorker", None)
    original = getattr(worker, "inline_ir", None)
    if getattr(original, "_evsim_shared_memo", False):
        return True
    if original is None or getattr(inline_closurecall, "copy", None) is not copy:
        return False

    def inline_ir(self, *args, **kwargs):
        saved = inline_closurecall.copy
        inline_closurecall.copy = _SharedMemoCopy()
        try:
            return original(self, *args, **kwargs)
        finally:
            inline_closurecall.copy = saved

    inline_ir._evsim_shared_memo = True
    inline_ir.__wrapped__ = original
    worker.inline_ir = inline_ir
    return True


INSTALLED = install()
