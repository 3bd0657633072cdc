"""A cache prefetch hint for the engine's kernels.

The engine touches the rows of the neurons that a bucket's entries name in an order set by the
events, so their loads miss the cache (10^5 neurons: ~9 MB of rows). A load the next
instruction depends on stalls the core; a prefetch issued a few entries or neurons ahead lets
those misses overlap with the work on the current one and never blocks it (measured in
docs/engine.md). Numba has no prefetch, hence this intrinsic emitting LLVM's ``llvm.prefetch``.
"""
from __future__ import annotations

from llvmlite import binding as _llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# LLVM 15 made pointers opaque, which renamed the intrinsic's pointer suffix
_NAME = "llvm.prefetch.p0" if _llvm.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


@intrinsic
def prefetch_row(typingctx, arr, row):
    """Hints that ``arr[row, 0]`` (``arr[row]`` for a 1-D array) will be read soon: a read
    prefetch into every cache level. ``row`` must lie inside the array (no bounds check; a
    prefetch of an unmapped address is harmless on x86 and ARM, but the engine never does one)."""
    if not isinstance(arr, types.Array) or not isinstance(row, types.Integer):
        return None
    sig = types.void(arr, row)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [context.cast(builder, args[1], signature.args[1], types.intp)]
        index += [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer2(context, builder, ary.data, cgutils.unpack_tuple(builder, ary.shape),
                                        cgutils.unpack_tuple(builder, ary.strides), aryty.layout, index,
                                        wraparound=False, boundscheck=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            _NAME)
        # (address, read = 0, locality 3 = keep in every level, data cache = 1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
