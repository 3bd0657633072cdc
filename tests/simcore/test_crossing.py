"""simcore.crossing: the cheap bounds that let first_crossing skip root isolation."""
from __future__ import annotations

import numpy as np
from numba import njit

from simcore.crossing import MAX_TERMS, first_crossing, piecewise_bound, safe_time, tail_bound, upper_bound, workspace


@njit(cache=False)
def _bounds(rate, a, b, lo, hi, pieces):
    e = np.empty(MAX_TERMS)
    q = np.empty(MAX_TERMS)
    return upper_bound(rate.size, rate, a, b, lo, hi, np.empty(MAX_TERMS)), \
        piecewise_bound(rate.size, rate, a, b, lo, hi, pieces, e, q)


@njit(cache=False)
def _tails(rate, a, b, x):
    """(upper_bound on [x, inf), tail_bound from what upper_bound on [0, x] left)"""
    e_x = np.empty(MAX_TERMS)
    direct = upper_bound(rate.size, rate, a, b, x, np.inf, e_x)
    upper_bound(rate.size, rate, a, b, 0.0, x, e_x)
    return direct, tail_bound(rate.size, rate, a, b, e_x)


@njit(cache=False)
def _first(rate, a, b, lo, hi, lv, lc, lr):
    return first_crossing(rate.size, rate, a, b, lo, hi, lv, lc, lr)


@njit(cache=False)
def _safe(rate, a, b):
    return safe_time(rate.size, rate, a, b)


def _g(rate, a, x):
    return (a[None, :] * np.exp(-np.outer(x, rate))).sum(axis=1)


def _random_terms(rng):
    """A constant and two or three decaying exponentials, as a LIF with synaptic currents has."""
    n = rng.integers(3, 5)
    rate = np.concatenate([[0.0], rng.uniform(20.0, 500.0, n - 1)])
    a = rng.normal(0.0, 1.0, n)
    return rate, a, np.zeros(n)


def test_piecewise_bound_bounds_g_and_is_no_looser_than_the_endpoint_bound():
    """On random exponential polynomials, the piecewise bound lies above g sampled densely on
    [lo, hi] and at or below the whole-interval endpoint bound."""
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(300):
        rate, a, b = _random_terms(rng)
        lo = rng.choice([0.0, rng.uniform(0.0, 5e-3)])
        hi = lo + rng.uniform(1e-4, 2e-2)
        x = np.linspace(lo, hi, 4001)
        # shift the constant so that g's maximum lies below zero by up to 30 % of its scale
        a[0] -= _g(rate, a, x).max() + rng.uniform(0.0, 0.3) * np.abs(a).sum()
        coarse, fine = _bounds(rate, a, b, lo, hi, 16)
        g_max = _g(rate, a, x).max()
        if fine < 0.0:
            # it may stop early at a piece bound >= 0; below zero it is the bound of every piece
            assert g_max <= fine
            checked += 1
        assert fine <= coarse + 1e-12 * np.abs(a).sum()
    assert checked > 100


def test_tail_bound_equals_the_endpoint_bound_past_the_searched_interval():
    """tail_bound, from the exponentials upper_bound left for its interval's end x, is upper_bound
    on [x, inf) to the last bit (constant terms included), and inf for a term with b != 0."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        rate, a, b = _random_terms(rng)
        direct, reused = _tails(rate, a, b, rng.uniform(1e-4, 2e-2))
        assert direct == reused
    rate, a, b = _random_terms(rng)
    b[1] = 1.0
    assert _tails(rate, a, b, 1e-3) == (np.inf, np.inf)


def test_first_crossing_agrees_with_a_dense_scan_where_the_piecewise_bound_decides():
    """first_crossing finds a crossing exactly when a dense scan of g sees g >= 0 (cases near
    the piecewise bound's decision, g's maximum within a few percent of zero, included)."""
    rng = np.random.default_rng(4)
    lv, lc, lr = workspace()
    decided = 0
    for _ in range(400):
        rate, a, b = _random_terms(rng)
        hi = rng.uniform(1e-3, 2e-2)
        x = np.linspace(0.0, hi, 20001)
        g = _g(rate, a, x)
        # shift the constant so that g's maximum on [0, hi] is just below or just above zero
        a[0] -= g.max() + rng.uniform(-0.03, 0.03) * np.abs(a).sum()
        g = _g(rate, a, x)
        if g[0] >= 0.0 or abs(g.max()) < 1e-6:
            continue
        _, fine = _bounds(rate, a, b, 0.0, hi, 16)
        decided += fine < 0.0
        t = _first(rate, a, b, 0.0, hi, lv, lc, lr)
        if g.max() > 0.0:
            assert 0.0 < t <= x[np.argmax(g >= 0.0)] + 1e-12
            assert np.all(g[x < t - 1e-9] < 0.0)   # not early either
        else:
            assert t == np.inf
    assert decided > 50


def test_safe_time_lies_before_the_first_crossing_and_beyond_the_slope_bound():
    """safe_time never passes g's first crossing (dense scan and first_crossing, crossings
    within a fraction of it included), and is at least -g(0)/M1, the slope bound alone."""
    rng = np.random.default_rng(6)
    lv, lc, lr = workspace()
    crossed = 0
    for _ in range(400):
        rate, a, b = _random_terms(rng)
        a[0] = -rng.uniform(0.01, 1.0) * (1.0 + abs(a[1:].sum())) - a[1:].sum()   # g(0) < 0
        g0 = a.sum()
        x_safe = _safe(rate, a, b)
        m1 = np.maximum(-rate * a, 0.0).sum()
        assert x_safe >= -g0 / m1 if m1 > 0.0 else x_safe == np.inf
        hi = 0.05                       # every term has decayed to e^{-1} of itself or less
        x = np.linspace(0.0, min(x_safe, hi), 20001)
        assert np.all(_g(rate, a, x) < 1e-12 * np.abs(a).sum())
        t = _first(rate, a, b, 0.0, hi, lv, lc, lr)
        assert t >= x_safe * (1.0 - 1e-12)
        crossed += t < np.inf and t < 2.0 * x_safe
    assert crossed > 20          # the bound is tested where it is close to a crossing


def test_safe_time_closed_forms():
    """A LIF settling above threshold from below, g(x) = c - d e^{-r x} (no positive
    curvature): the line's root -g(0)/(d r); with an excitatory current (a rising then decaying
    term) the parabola's root, later than the slope bound's; no bound for b != 0."""
    r = 50.0
    # g = 1 - 3 e^{-r x}: g(0) = -2, g' <= 3 r, g'' < 0, root ln(3) / r
    assert _safe(np.array([0.0, r]), np.array([1.0, -3.0]), np.zeros(2)) == 2.0 / (3.0 * r)
    # g = -2 + 3 e^{-r x} - 3 e^{-4 r x}: g(0) = -2, g'(0) = 9 r, g'' <= 3 r^2,
    # parabola -2 + 9 r x + 1.5 r^2 x^2 = 0; slope bound 2 / (12 r)
    rate, a = np.array([0.0, r, 4.0 * r]), np.array([-2.0, 3.0, -3.0])
    x2 = (np.sqrt(81.0 + 12.0) - 9.0) / (3.0 * r)
    assert np.isclose(_safe(rate, a, np.zeros(3)), x2, rtol=1e-14) and x2 > 2.0 / (12.0 * r)
    assert _safe(rate, a, np.array([0.0, 1.0, 0.0])) == 0.0
