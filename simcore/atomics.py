"""Atomic operations on int64 array elements, for threads that share arrays (simcore's
partitions, each on a thread of its own, meet at barriers between the stages of a bucket).

Numba has none for the CPU, so these are LLVM's own (``atomicrmw``, atomic ``load`` and
``store``), sequentially consistent: every write a thread made before it arrives at a barrier
is seen by every thread after they leave it. ``cpu_relax`` gives the CPU back while waiting
(``sched_yield``), for machines with fewer free cores than threads.
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _int64_vector(ary):
    return isinstance(ary, types.Array) and ary.dtype == types.int64 and ary.ndim == 1


def _element_pointer(context, builder, sig, args):
    """Pointer to element args[1] of the int64 vector args[0]."""
    aryty = sig.args[0]
    arr = context.make_array(aryty)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, aryty, arr, [args[1]], wraparound=False)


@intrinsic
def atomic_add(typingctx, ary, idx, val):
    """ary[idx] += val atomically; returns the value before."""
    if not _int64_vector(ary):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig, args)
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, v, "seq_cst")
    return types.int64(ary, idx, val), codegen


@intrinsic
def atomic_load(typingctx, ary, idx):
    """ary[idx], read atomically."""
    if not _int64_vector(ary):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig, args)
        return builder.load_atomic(ptr, "seq_cst", 8)
    return types.int64(ary, idx), codegen


@intrinsic
def atomic_store(typingctx, ary, idx, val):
    """ary[idx] = val, written atomically."""
    if not _int64_vector(ary):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig, args)
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(v, ptr, "seq_cst", 8)
        return context.get_dummy_value()
    return types.none(ary, idx, val), codegen


@intrinsic
def cpu_relax(typingctx):
    """sched_yield(): lets another thread run on this core."""
    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.IntType(32), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.none(), codegen
