"""simcore.inline_copy: Numba's inliner copies a callee's scope once, and compiles the same code."""
from __future__ import annotations

import copy
import inspect
import re

import pytest
from numba import njit
from numba.core import compiler, inline_closurecall

from simcore import inline_copy


def _branchy(x, n):
    s = 0.0
    for k in range(n):
        if x > k:
            s += x - k
        elif x < -k:
            s -= x + k
        else:
            s += 0.5 * k
    return s


def _caller(x, n):
    return _inlined(x, n) + 2.0 * _inlined(-x, n + 1)


_inlined = njit(inline="always")(_branchy)


def test_installed_while_numba_copies_per_block():
    """The wrapper is in place whenever the installed Numba's inliner still deep-copies block by
    block (what it fixes); if a Numba release changes that, this says so."""
    source = inspect.getsource(inline_closurecall.InlineWorker.inline_ir.__wrapped__
                               if inline_copy.INSTALLED else inline_closurecall.InlineWorker.inline_ir)
    if "copy.deepcopy(the_ir.blocks[" in source:
        assert inline_copy.INSTALLED
        assert inline_closurecall.InlineWorker.inline_ir._evsim_shared_memo


def test_blocks_share_one_copied_scope():
    """Deep copies of one IR's blocks share one new scope (copy.deepcopy block by block gives
    each block a scope of its own: the quadratic cost)."""
    fir = compiler.run_frontend(_branchy)
    blocks = list(fir.blocks.values())
    assert len(blocks) > 3 and len({id(b.scope) for b in blocks}) == 1
    shim = inline_copy._SharedMemoCopy()
    copies = [shim.deepcopy(b) for b in blocks]
    assert len({id(b.scope) for b in copies}) == 1
    assert copies[0].scope is not blocks[0].scope
    assert copies[0].scope.localvars._con.keys() == blocks[0].scope.localvars._con.keys()
    plain = [copy.deepcopy(b) for b in blocks]
    assert len({id(b.scope) for b in plain}) == len(blocks)


def test_same_code_with_and_without():
    """A function inlining a many-block callee twice compiles to the same LLVM IR with the
    wrapper as with Numba's own inline_ir, and computes the same values."""
    if not inline_copy.INSTALLED:
        pytest.skip("the wrapper is not installed with this Numba: nothing to compare")
    texts = []
    for wrapped in (True, False):
        saved = inline_closurecall.InlineWorker.inline_ir
        if not wrapped:
            inline_closurecall.InlineWorker.inline_ir = getattr(saved, "__wrapped__", saved)
        try:
            f = njit(_caller)
            values = [f(x, n) for x in (-4.0, 0.0, 2.5) for n in (0, 3, 9)]
            text = "\n".join(f.inspect_llvm().values())
        finally:
            inline_closurecall.InlineWorker.inline_ir = saved
        # addresses, the ids and block labels Numba numbers process-wide, the padding before comments
        texts.append((values, re.sub(r" +", " ", re.sub(r"0x[0-9a-f]+|B\d+v\d+B|\bB\d+|_v\d+_", "", text))))
    assert texts[0] == texts[1]
    assert texts[0][0] == [_branchy(x, n) + 2.0 * _branchy(-x, n + 1) for x in (-4.0, 0.0, 2.5) for n in (0, 3, 9)]
