"""prefetch_row: emits a prefetch instruction and leaves the results as they were."""
from __future__ import annotations

import numpy as np
from numba import njit

from simcore.prefetch import prefetch_row


@njit
def _sum_rows_ahead(a, rows, ahead):
    s = 0.0
    for k in range(rows.size):
        if k + ahead < rows.size:
            prefetch_row(a, rows[k + ahead])
        s += a[rows[k], 0]
    return s


@njit
def _touch_1d(a, i):
    prefetch_row(a, i)
    return a[i]


def test_prefetch_is_emitted_and_leaves_the_results_alone():
    """The compiled code holds a prefetch instruction (not a silent no-op), and the results are
    those of the same loop without it, for 2-D and 1-D arrays of either dtype."""
    rng = np.random.default_rng(3)
    a = rng.random((1000, 3))
    rows = rng.integers(0, 1000, 5000)
    assert _sum_rows_ahead(a, rows, 4) == sum(a[r, 0] for r in rows)
    asm = _sum_rows_ahead.inspect_asm(_sum_rows_ahead.signatures[0]).lower()
    assert "prefetch" in asm or "prfm" in asm      # x86, ARM
    ints = np.arange(10, dtype=np.int32)
    assert _touch_1d(ints, np.int64(7)) == 7
