"""Exact first threshold crossing of an exponential polynomial.

Between two inputs, the distance of a model's membrane from its threshold is

    g(x) = sum_k (a_k + b_k x) exp(-r_k x),        x >= 0 the time since the state was taken,

(b_k is non-zero only where two time constants coincide, e.g. tau_syn == tau_m). This module
finds the first x in (lo, hi] with g(x) >= 0 without ever missing one, whatever the shape:

* Root isolation by Rolle's theorem. For any rate mu, the operator (D + mu) maps g to
  g1 = g' + mu g = exp(-mu x) d/dx[exp(mu x) g], an exponential polynomial with one term (or
  one degree) fewer. Between consecutive roots of g1, exp(mu x) g is monotone, so g has at
  most one root there and a sign change brackets it. Applied recursively down to a single
  term (which has no roots), this isolates every root of g in (lo, hi].
* Two plain exponentials a1 e^{-r1 x} + a2 e^{-r2 x} have their root in closed form (this is
  the classic peak time of the LIF with an exponential current).
* Each bracketed root is refined by safeguarded Newton (Newton steps kept inside the
  bracket, bisection otherwise) to within a few ulps.

Cheap bound tests run first: with only plain terms, g(x) <= sum_k max(a_k e^{-r_k lo},
a_k e^{-r_k hi}) on [lo, hi], and the same bound on each of 16 parts of [lo, hi] (one exp per
term, then products), so most calls that have no crossing cost a few dozen flops.
"""
from __future__ import annotations

import math

import numpy as np
from .jit import kernel

MAX_TERMS = 8
#: rows of first_crossing's ``ws_roots``: critical points, two scratch rows, and row E_HI, where
#: its upper_bound leaves e^{-r_k hi} for tail_bound
ROOT_ROWS = 4
E_HI = 3
NO_ROOT = math.inf
#: parts of [lo, hi] in first_crossing's piecewise bound
PIECES = 16


@kernel(internal=True, refcounted=False, inline="always")
def eval_g(n, rate, a, b, x):
    s = 0.0
    if x == 0.0:
        for k in range(n):
            s += a[k]
        return s
    for k in range(n):
        # (a constant term's exp(-0 x) is 1 exactly: no call)
        s += (a[k] + b[k] * x) * (math.exp(-rate[k] * x) if rate[k] != 0.0 else 1.0)
    return s


@kernel(internal=True, refcounted=False, inline="always")
def eval_g_dg(n, rate, a, b, x):
    """g(x) and g'(x)."""
    g = 0.0
    dg = 0.0
    for k in range(n):
        e = math.exp(-rate[k] * x) if rate[k] != 0.0 else 1.0
        p = a[k] + b[k] * x
        g += p * e
        dg += (b[k] - rate[k] * p) * e
    return g, dg


@kernel(internal=True, refcounted=False)
def _refine(n, rate, a, b, lo, hi, glo, ghi):
    """The root of g in [lo, hi], where g(lo) and g(hi) differ in sign: Newton steps while
    they stay inside the bracket and shrink it fast enough, bisection otherwise."""
    if glo == 0.0:
        return lo
    if ghi == 0.0:
        return hi
    if glo < 0.0:
        xl, xh = lo, hi
    else:
        xl, xh = hi, lo
    x = 0.5 * (lo + hi)
    dxold = abs(hi - lo)
    dx = dxold
    g, dg = eval_g_dg(n, rate, a, b, x)
    for _ in range(200):
        if ((x - xh) * dg - g) * ((x - xl) * dg - g) > 0.0 or abs(2.0 * g) > abs(dxold * dg):
            dxold = dx
            dx = 0.5 * (xh - xl)
            x = xl + dx
        else:
            dxold = dx
            dx = g / dg
            x = x - dx
        if abs(dx) <= 2e-16 * abs(x) or dx == 0.0:
            return x
        g, dg = eval_g_dg(n, rate, a, b, x)
        if g == 0.0:
            return x
        if g < 0.0:
            xl = x
        else:
            xh = x
    return x


@kernel(internal=True, refcounted=False, inline="always")
def _reduce(n, rate, a, b, mu, out_rate, out_a, out_b):
    """Terms of (D + mu) g into out_*; returns their count."""
    m = 0
    for k in range(n):
        d = mu - rate[k]
        if d == 0.0:
            na = b[k]
            nb = 0.0
        else:
            na = b[k] + d * a[k]
            nb = d * b[k]
        if na != 0.0 or nb != 0.0:
            out_rate[m] = rate[k]
            out_a[m] = na
            out_b[m] = nb
            m += 1
    return m


@kernel(internal=True, refcounted=False, inline="always")
def _level_roots(n, rate, a, b, lo, hi, sub, m, out):
    """Roots of one level in (lo, hi), given the ``m`` roots ``sub`` of the level below it
    (which split (lo, hi) into pieces holding at most one root each); returns how many."""
    if n <= 1:
        # a single term (a + b x) e^{-r x} has its root where a + b x = 0
        if n == 1 and b[0] != 0.0:
            x = -a[0] / b[0]
            if lo < x < hi:
                out[0] = x
                return 1
        return 0
    if n == 2 and b[0] == 0.0 and b[1] == 0.0:
        # a0 e^{-r0 x} + a1 e^{-r1 x} = 0  <=>  x = ln(-a1/a0) / (r1 - r0)
        q = -a[1] / a[0] if a[0] != 0.0 else 0.0
        if q > 0.0 and rate[0] != rate[1]:
            x = math.log(q) / (rate[1] - rate[0])
            if lo < x < hi:
                out[0] = x
                return 1
        return 0
    found = 0
    left = lo
    gleft = eval_g(n, rate, a, b, left)
    for j in range(m + 1):
        right = sub[j] if j < m else hi
        gright = eval_g(n, rate, a, b, right)
        if (gleft < 0.0 and gright > 0.0) or (gleft > 0.0 and gright < 0.0):
            x = _refine(n, rate, a, b, left, right, gleft, gright)
            if lo < x < hi:
                out[found] = x
                found += 1
        elif gright == 0.0 and j < m:
            out[found] = right
            found += 1
        left = right
        gleft = gright
    return found


@kernel(internal=True, refcounted=False, inline="always")
def _critical_points(nlev, counts, rates, As, Bs, lo, hi, out, sub, cur):
    """Roots in (lo, hi) of level 1, found bottom-up from the deepest level; returns how many."""
    m = nlev * 0   # not a literal 0: that would compile _level_roots a second time
    for level in range(nlev - 1, 0, -1):
        m = _level_roots(counts[level], rates[level], As[level], Bs[level], lo, hi, sub, m, cur)
        for j in range(m):
            sub[j] = cur[j]
    for j in range(m):
        out[j] = sub[j]
    return m


@kernel(internal=True, refcounted=False, inline="always")
def _build_levels(n, rate, a, b, rates, As, Bs, counts):
    """Fills the Rolle levels of g; returns the number of levels."""
    for k in range(n):
        rates[0, k] = rate[k]
        As[0, k] = a[k]
        Bs[0, k] = b[k]
    counts[0] = n
    level = 0
    while True:
        m = counts[level]
        if m <= 1:
            break
        if m == 2 and Bs[level, 0] == 0.0 and Bs[level, 1] == 0.0:
            break  # closed form in _roots
        # reduce by the rate of a plain (degree-0) term if there is one
        pick = 0
        for k in range(m):
            if Bs[level, k] == 0.0:
                pick = k
                break
        counts[level + 1] = _reduce(m, rates[level], As[level], Bs[level], rates[level, pick],
                                    rates[level + 1], As[level + 1], Bs[level + 1])
        level += 1
    return level + 1


@kernel(internal=True, refcounted=False, inline="always")
def upper_bound(n, rate, a, b, lo, hi, e_hi):
    """An upper bound of g on [lo, hi] (hi may be inf), sum_k max(a_k e^{-r_k lo}, a_k e^{-r_k hi});
    inf if some term has b != 0. Leaves e^{-r_k hi} in e_hi[k] (for :func:`tail_bound`)."""
    s = 0.0
    for k in range(n):
        if b[k] != 0.0:
            return math.inf
        e_lo = math.exp(-rate[k] * lo) if lo != 0.0 and rate[k] != 0.0 else 1.0
        v = a[k] * e_lo
        if rate[k] == 0.0:
            e_hi[k] = 1.0
        elif math.isinf(hi):
            e_hi[k] = 0.0 if rate[k] > 0.0 else 1.0
        else:
            e_hi[k] = math.exp(-rate[k] * hi)
        w = a[k] * e_hi[k]
        s += v if v > w else w
    return s


@kernel(internal=True, refcounted=False, inline="always")
def tail_bound(n, rate, a, b, e_x):
    """upper_bound(n, rate, a, b, x, inf) from e_x[k] = e^{-r_k x} as upper_bound left them for
    its ``hi`` = x: the bound past a searched interval without evaluating its exponentials again."""
    s = 0.0
    for k in range(n):
        if b[k] != 0.0:
            return math.inf
        v = a[k] * e_x[k]
        w = a[k] * (0.0 if rate[k] > 0.0 else 1.0)
        s += v if v > w else w
    return s


@kernel(internal=True, refcounted=False, inline="always")
def piecewise_bound(n, rate, a, b, lo, hi, pieces, e, q):
    """A finer upper bound of g on [lo, hi] than :func:`upper_bound`'s: [lo, hi] is cut into
    ``pieces`` equal parts [x_i, x_i+1], on each of which every plain term is monotone, so

        g(x) <= sum_k max(a_k e^{-r_k x_i}, a_k e^{-r_k x_i+1}),

    the exponentials at the points being powers of e^{-r_k (hi - lo)/pieces} (one exp per
    term). Returns the largest of the piece bounds, or the first that is >= 0 (it stops there);
    inf if some term has b != 0 or hi is inf. ``e`` and ``q`` are scratch rows of MAX_TERMS."""
    if math.isinf(hi):
        return math.inf
    width = (hi - lo) / pieces
    # the powers carry rounding errors of up to ~pieces ulps of each term: a bound within that
    # of zero proves nothing
    margin = 0.0
    for k in range(n):
        if b[k] != 0.0:
            return math.inf
        e[k] = a[k] * (math.exp(-rate[k] * lo) if lo != 0.0 and rate[k] != 0.0 else 1.0)   # a_k e^{-r_k x_0}
        q[k] = math.exp(-rate[k] * width) if rate[k] != 0.0 else 1.0
        margin += 1e-13 * abs(e[k])
    top = -math.inf
    for _ in range(pieces):
        s = 0.0
        for k in range(n):
            left = e[k]
            e[k] = left * q[k]
            s += left if left > e[k] else e[k]
        s += margin
        if s > top:
            top = s
            if top >= 0.0:
                break
    return top


@kernel
def workspace():
    """Scratch arrays for :func:`first_crossing` (allocate once, reuse for every call)."""
    return np.empty((3, MAX_TERMS + 1, MAX_TERMS)), np.zeros(MAX_TERMS + 1, dtype=np.int64), \
        np.empty((ROOT_ROWS, MAX_TERMS))


@kernel(internal=True, refcounted=False, inline="always")
def safe_time(n, rate, a, b):
    """A time before which g cannot reach 0, from g(0), g'(0) and bounds on g' and g''. For
    plain terms (b_k = 0, r_k >= 0), with g_0 = g(0) < 0:

        g'(x) = sum_k -r_k a_k e^{-r_k x} <= sum_k max(0, -r_k a_k) =: M1,
        g''(x) = sum_k r_k^2 a_k e^{-r_k x} <= sum_k max(0, r_k^2 a_k) =: M2,

    so g(x) <= g_0 + M1 x and g(x) <= g_0 + g'(0) x + M2 x^2 / 2, and g < 0 before the larger
    of the two roots. No exponential is evaluated. inf if g never rises; 0 if g(0) >= 0 or a
    term has b != 0 (no bound then)."""
    g0 = 0.0
    m1 = 0.0
    s1 = 0.0
    m2 = 0.0
    for k in range(n):
        if b[k] != 0.0:
            return 0.0
        g0 += a[k]
        slope = -rate[k] * a[k]
        s1 += slope
        if slope > 0.0:
            m1 += slope
        curv = -rate[k] * slope
        if curv > 0.0:
            m2 += curv
    if g0 >= 0.0:
        return 0.0
    if m1 <= 0.0:
        return math.inf
    x1 = -g0 / m1
    if m2 <= 0.0:
        return math.inf if s1 <= 0.0 else -g0 / s1
    d = math.sqrt(s1 * s1 - 2.0 * m2 * g0)
    # the root of the parabola, in the form without cancellation for either sign of s1
    x2 = -2.0 * g0 / (s1 + d) if s1 >= 0.0 else (d - s1) / m2
    return x2 if x2 > x1 else x1


@kernel(internal=True, refcounted=False, inline="always")
def first_crossing(n, rate, a, b, lo, hi, ws_levels, ws_counts, ws_roots):
    """First x in (lo, hi] with g(x) >= 0, given g(lo) < 0; ``NO_ROOT`` (inf) if there is none.

    If g(lo) >= 0 already, returns lo. ``hi`` may be inf (a prediction with no horizon); the
    search then ends where every term has decayed (g has reached its constant part).
    ``ws_*`` come from :func:`workspace`."""
    if n == 0:
        return NO_ROOT
    g_lo = eval_g(n, rate, a, b, lo)
    if g_lo >= 0.0:
        return lo
    if upper_bound(n, rate, a, b, lo, hi, ws_roots[E_HI]) < 0.0:
        return NO_ROOT
    # finer, still cheap: most calls that get this far have no crossing (CUBA: 82 %), and this
    # rules out 98 % of them before the root isolation
    if piecewise_bound(n, rate, a, b, lo, hi, PIECES, ws_roots[1], ws_roots[2]) < 0.0:
        return NO_ROOT
    return _solve(n, rate, a, b, lo, hi, g_lo, ws_levels, ws_counts, ws_roots)


@kernel(internal=True, refcounted=False)
def _solve(n, rate, a, b, lo, hi, g_lo, ws_levels, ws_counts, ws_roots):
    """first_crossing past its cheap tests: root isolation and refinement."""
    if math.isinf(hi):
        hi = _finite_horizon(n, rate, a, b, lo)
        if math.isinf(hi):
            return NO_ROOT
    rates = ws_levels[0]
    As = ws_levels[1]
    Bs = ws_levels[2]
    counts = ws_counts
    for k in range(counts.size):
        counts[k] = 0
    nlev = _build_levels(n, rate, a, b, rates, As, Bs, counts)
    crit = ws_roots[0]
    # critical points of exp(mu x) g split (lo, hi) into pieces where g changes sign at most once
    m = _critical_points(nlev, counts, rates, As, Bs, lo, hi, crit, ws_roots[1], ws_roots[2])
    left = lo
    g_left = g_lo
    for j in range(m + 1):
        right = crit[j] if j < m else hi
        g_right = eval_g(n, rate, a, b, right)
        if g_right >= 0.0:
            return _refine(n, rate, a, b, left, right, g_left, g_right)
        left = right
        g_left = g_right
    return NO_ROOT


@kernel(internal=True, refcounted=False, inline="always")
def _finite_horizon(n, rate, a, b, lo):
    """A time after which g has no further root: past it the slowest part of g dominates the
    rest and keeps its sign. inf if g never settles below zero (then a crossing is certain
    but not bounded here, which the callers avoid by passing a finite hi)."""
    const = 0.0
    slope = 0.0
    rmin = math.inf
    amp = 0.0
    for k in range(n):
        if rate[k] == 0.0:
            const += a[k]
            slope += b[k]
        else:
            if rate[k] < rmin:
                rmin = rate[k]
            amp += (abs(a[k]) + abs(b[k]) * (lo + 1.0 / rate[k])) * math.exp(-rate[k] * lo)
    if rmin == math.inf:
        rmin = 1.0
    if slope > 0.0:
        # the line const + slope x outgrows every decaying term
        return lo + (abs(const) + amp) / slope + 40.0 / rmin
    if slope < 0.0 or const < 0.0:
        if slope == 0.0 and amp <= -const:
            return lo
        # the decaying terms fall below |const| (and stay there) after this time
        return lo + math.log(max(amp / max(-const, 1e-300), 1.0)) / rmin + 40.0 / rmin
    # g tends to const >= 0: it reaches 0 within a few of its slowest time constants
    return lo + 40.0 / rmin
