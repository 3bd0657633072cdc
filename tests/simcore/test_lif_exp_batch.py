"""lif_exp's batched update (update_batch, taken by the exact-mode engine) against its one-neuron
kernels: advance, apply_input, threshold_terms, then crossing's safe_time and upper_bound."""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from simcore import crossing
from simcore.models import lif_exp as M


@njit(cache=False)
def _one_at_a_time(s, p, prow, j, h, w, port, nb, x_safe, bound):
    rate, a, b = np.empty(8), np.empty(8), np.empty(8)
    e_hi = np.empty(8)
    for x in range(nb):
        i = np.int64(j[x])
        sv = s[i:i + 1]
        pv = p[prow[i]:prow[i] + 1]
        M.advance(sv, pv, 0, 0.0, h[x], -math.inf)
        M.apply_input(sv, pv, 0, np.int64(port[x]), w[x], False)
        n = M.threshold_terms(sv, pv, 0, rate, a, b)
        x_safe[x] = crossing.safe_time(n, rate, a, b)
        bound[x] = crossing.upper_bound(n, rate, a, b, 0.0, math.inf, e_hi)


def _neurons(rng, n):
    """n neurons in 3 parameter rows, states and inputs drawn so that every branch of the safe
    time is taken: no crossing ever (no excitation left), one at once (g(0) >= 0), one later."""
    tm = np.array([0.02, 0.01, 0.005])
    te = np.array([0.005, 0.002, 0.0011])
    ti = np.array([0.01, 0.003, 0.0007])
    p = np.zeros((3, len(M.COLUMNS)))
    p[:, M.TAU_M], p[:, M.TAU_E], p[:, M.TAU_I] = tm, te, ti
    p[:, M.E_L], p[:, M.V_TH], p[:, M.I_BIAS] = -0.07, -0.05, [0.0, 0.005, -0.01]
    for name, col in M.derive({"tau_m": tm, "tau_exc": te, "tau_inh": ti, "e_l": p[:, M.E_L],
                               "i_bias": p[:, M.I_BIAS]}).items():
        p[:, M.COLUMNS.index(name)] = col
    s = np.empty((n, 3))
    s[:, M.V] = rng.uniform(-0.08, -0.04, n)
    s[:, M.IE] = rng.choice([0.0, 1.0], n) * rng.uniform(0.0, 0.06, n)
    s[:, M.II] = rng.choice([0.0, 1.0], n) * rng.uniform(-0.06, 0.0, n)
    # time since the state's: from 1 ns to long enough that every exponential underflows
    h = 10.0 ** rng.uniform(-9.0, 1.5, n)
    w = rng.uniform(-0.02, 0.03, n)
    port = rng.integers(0, 2, n).astype(float)
    prow = rng.integers(0, 3, n)
    return s, p, prow, h, w, port


def test_update_batch_matches_the_one_neuron_kernels():
    """States within 1e-15 relative or 1e-17 V (the vectorized exponential is within one ulp of
    libm's; an input can cancel most of a decayed current), safe times within 1e-13 relative
    with the same infinities, bounds of the same sign."""
    rng = np.random.default_rng(7)
    nb = 2000
    s, p, prow, h, w, port = _neurons(rng, nb)
    j = rng.permutation(nb).astype(float)
    for n in (1, 7, 64, nb):     # the scalar remainder only (8 lanes a vector), and vector bodies
        s_ref, s_bat = s.copy(), s.copy()
        xs_ref, b_ref, xs_bat, b_bat = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
        _one_at_a_time(s_ref, p, prow, j, h, w, port, n, xs_ref, b_ref)
        M.update_batch(s_bat, p, prow, j, h, w, port, n, np.empty((10, n)), xs_bat, b_bat)
        np.testing.assert_allclose(s_bat, s_ref, rtol=1e-15, atol=1e-17)
        # a current decayed past libm's underflow is exactly zero before the input, as in advance
        idx = j[:n].astype(int)
        gone = h[:n] * p[prow[idx], M.INV_TE] > 746.0
        assert np.array_equal(s_bat[idx[gone], M.IE], s_ref[idx[gone], M.IE])
        assert np.array_equal(np.isinf(xs_bat), np.isinf(xs_ref))
        fin = np.isfinite(xs_ref)
        np.testing.assert_allclose(xs_bat[fin], xs_ref[fin], rtol=1e-13, atol=0.0)
        assert np.array_equal(np.sign(b_bat), np.sign(b_ref))
        np.testing.assert_allclose(b_bat, b_ref, rtol=1e-12, atol=1e-18)
    # the sample above took every branch of the safe time
    assert (xs_ref == 0.0).sum() > 100 and np.isinf(xs_ref).sum() > 100
    assert ((xs_ref > 0.0) & np.isfinite(xs_ref)).sum() > 100
    assert gone.sum() > 100


def test_batch_ok_excludes_what_update_batch_does_not_cover():
    """batch_ok is false where a current's time constant equals (or nearly equals) tau_m, or the
    two currents share one (threshold_terms then merges or rewrites their terms)."""
    p = np.zeros((1, len(M.COLUMNS)))
    for te, ti, ok in ((0.005, 0.01, True), (0.02, 0.01, False), (0.02 * (1 + 1e-5), 0.01, False),
                       (0.005, 0.005, False)):
        d = M.derive({"tau_m": np.array([0.02]), "tau_exc": np.array([te]), "tau_inh": np.array([ti]),
                      "e_l": np.array([0.0]), "i_bias": np.array([0.0])})
        for name, col in d.items():
            p[0, M.COLUMNS.index(name)] = col[0]
        assert M.batch_ok(np.zeros((1, 3)), p, 0) == ok
