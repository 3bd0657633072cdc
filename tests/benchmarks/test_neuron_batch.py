"""benchmarks/neuron_batch.py: its scalar and batched updates agree with the engine's lif_exp kernels."""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from benchmarks import neuron_batch as NB  # noqa: E402
from simcore.models import lif_exp as L  # noqa: E402


def test_batched_and_scalar_updates_agree_with_the_engine_kernels():
    """Both timed ways reproduce lif_exp's advance, input and safe time to a few ulps, through
    every branch of the safe time: none ever, at once (g(0) >= 0) and in between."""
    rng = np.random.default_rng(5)
    st, pr = NB.cuba_neurons(rng)
    n = st.shape[0]
    calm = np.arange(n) % 3 == 0              # at rest below threshold, no currents: no crossing ever
    pr[calm, L.E_L] = pr[calm, L.V_INF] = -60e-3
    st[calm] = (-55e-3, 0.0, 0.0)
    st[np.arange(n) % 3 == 1, L.V] = -49.5e-3   # above threshold at the input: search at once
    batch, batches = 32, 30
    rows = np.stack([rng.choice(n, batch, replace=False) for _ in range(batches)]).astype(np.int64)
    dt = rng.uniform(0.1e-3, 5e-3, (batches, batch))
    w = np.where(calm[rows], 0.0, rng.choice([7e-4, -5.1e-3], (batches, batch)))
    port = (w < 0).astype(np.int64)
    out = NB.compare(NB.runners_for(batch), st, pr, rows, dt, w, port)
    assert out["same_infinities"]
    assert out["state"] < 1e-14 and out["safe"] < 1e-13
    assert min(out["inf"], out["zero"], out["finite"]) > 20
