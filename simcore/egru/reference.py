"""The EGRU equations step by step with dense matrices (NumPy, BLAS): the reference the
event-driven engine is tested against, written directly from the equations (simcore/models/egru.py).

Every unit is updated in every step; the gates' inputs are dense matrix-vector products of the
whole network's weights (one (N, N) matrix per gate and delay) with the values of this step and
of the previous one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import EGRU, R, U, Z, ZG, GatedNet, sigmoid


@dataclass
class ReferenceRun:
    c: np.ndarray        # (n_steps, N): internal state after each step (sources: 0)
    y: np.ndarray        # (n_steps, N): value of each unit in each step (events of EGRU units, sources' inputs)
    u: np.ndarray        # (n_steps, N) gates (sources: 0)
    r: np.ndarray
    z: np.ndarray


def run(gn: GatedNet, n_steps: int | None = None) -> ReferenceRun:
    n_steps = gn.n_steps if n_steps is None else n_steps
    n = gn.n
    W = {(d, g): gn.dense(d, g) for d in (0, 1) for g in (U, R, Z, ZG)}
    c = gn.c0.copy()
    y_prev = gn.y0.copy()
    out = {k: np.zeros((n_steps, n)) for k in ("c", "y", "u", "r", "z")}
    event_mode = gn.mode == 0
    for t in range(n_steps):
        v = np.zeros(n)
        a, b = gn.in_ptr[t], gn.in_ptr[t + 1]
        v[gn.in_id[a:b]] = gn.in_val[a:b]
        for k in gn.order:
            if gn.kinds[k] != EGRU:
                continue
            sl = slice(int(gn.offsets[k]), int(gn.offsets[k + 1]))
            pre = {g: gn.b[sl, g] + W[0, g][sl] @ v + W[1, g][sl] @ y_prev for g in (U, R, Z)}
            u = sigmoid(pre[U])
            r = sigmoid(pre[R])
            # the population's own recurrent z input, each sender's event scaled by its reset gate
            pre[Z] = pre[Z] + W[1, ZG][sl, sl] @ (r * y_prev[sl])
            z = np.tanh(pre[Z])
            ct = u * z + (1.0 - u) * c[sl] - np.where(event_mode[sl], y_prev[sl], 0.0)
            fire = ct > gn.theta[sl]
            y = np.where(fire, ct, 0.0)
            c[sl] = np.where(fire & ~event_mode[sl], ct - gn.theta[sl], ct)
            v[sl] = y
            out["u"][t, sl], out["r"][t, sl], out["z"][t, sl] = u, r, z
            out["c"][t, sl] = c[sl]
        out["y"][t] = v
        y_prev = v
    return ReferenceRun(**out)
