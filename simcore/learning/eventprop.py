"""EventProp: exact gradients of a loss on spike times and membrane maxima with respect to
every synapse's weight and delay, for exact-mode ``lif_exp`` networks (any topology, several
spikes per neuron, refractory periods, both ports).

Three compiled kernels, each run over a batch of independent trials (``prange``; results do
not depend on the number of threads, gradients are summed over trials in a fixed order):

* ``forward``: a compact event-driven simulation of one trial, following docs/semantics.md
  exact mode (the tests check it gives the main engine's spikes). A heap of in-flight spikes
  (one cursor per spike walking its source's row, sorted by delay), an indexed heap of the
  neurons' predicted threshold crossings (``simcore.crossing``, the model's own closed-form
  propagator ``lif_exp.advance``). It stores, per spike: time, neuron, the synaptic currents
  at the spike and at the end of its refractory period. Nothing per time step.
* ``readout``: the maximum over the trial of chosen neurons' membranes (for a max-over-time
  readout and for the silent-neuron regulariser), with where it lies: inside an interval
  (v' = 0), at the end of the trial, or at an input that turned the membrane down (a kink).
* ``backward``: the adjoint, event by event in reverse time.

The adjoint (derived for this project's lif_exp form; docs in the README's Training section).
Per neuron x = (v, i_exc, i_inh). Between events sensitivities obey s(t2) = Phi(t2 - t1) s(t1)
with the closed-form propagator Phi = [[e_m, P_e, P_i], [0, e_e, 0], [0, 0, e_i]] (refractory:
v held, Phi = diag(1, e_e, e_i)), so the adjoint is lambda(t1) = Phi^T lambda(t2). Events:

* spike k of neuron n at t_k (v reaches v_th, vdot^- = (v_inf - v_th + i_e + i_i)/tau_m):
  t_k' = -s_v(t_k^-)/vdot^-; v is reset (s_v^+ = 0 while refractory). With Lambda_k = dL/dt_k
  (loss term plus everything later events add), lambda_v(t_k^-) = -Lambda_k / vdot^-;
  lambda_I is continuous.
* end of the refractory period at t_e = t_k + t_ref (the switch moves with t_k):
  s_v(t_e^+) = s_v(t_e^-) - vdot_free(t_e) t_k', vdot_free = (v_inf - v_reset + i_e + i_i)/tau_m,
  so Lambda_k -= vdot_free(t_e) lambda_v(t_e^+). (t_ref = 0: the same at t_e = t_k.)
* arrival of spike k through synapse s (weight w, delay d, port p) at a = t_k + d, target j:
  with alpha = t_k' + d', s_Ip^+ = s_Ip^- + w' + (w/tau_p) alpha and, when j is not
  refractory, s_v^+ = s_v^- - (w/tau_m) alpha. Hence
  dL/dw_s += lambda_Ip(a),  dL/dd_s += G,  Lambda_k += G,
  G = w (lambda_Ip(a)/tau_p - [j free] lambda_v(a)/tau_m).
* readout of a membrane maximum v* at t* with dL/dv* = g: lambda_v(t*) += g; at a kink (t* is an
  arrival time a, v rising before it) v* also moves with a: dv* = s_v(a^-) + vdot(a^-) alpha,
  so Lambda_k and dL/dd_s also get g vdot(a^-).

Exact as long as no spike appears or disappears and no crossing is tangential (vdot^- = 0
makes t_k' infinite; such spikes get a finite, clamped gradient, see VDOT_MIN).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import prange

from ..crossing import MAX_TERMS, _build_levels, _critical_points, eval_g, first_crossing
from ..jit import kernel
from ..models.lif_exp import (E_L, IE, II, INV_TE, INV_TI, INV_TM, K_E, K_I, T_REF, TAU_E, TAU_I, TAU_M, V, V_INF,
                              V_RESET, V_TH, _psc, advance, threshold_terms)

#: smallest |vdot| at a spike used in the adjoint (V/s): a tangential crossing has an infinite
#: spike-time derivative; below this the derivative is clamped
VDOT_MIN = 1e-9
#: heap priorities of the backward pass at equal times (reverse of the forward order)
_P_ARRIVAL, _P_READOUT, _P_REFEND = 3, 2, 1
_SHIFT = 1 << 40

KIND_NONE = -1     # readout of a neuron that fired: v* = v_th, no gradient
KIND_FIXED = 0     # the maximum is the initial state: no gradient
KIND_PLAIN = 1     # v' = 0 inside an interval, or the end of the trial
KIND_KINK = 2      # at an input that turned the membrane down


# ----------------------------------------------------------------------------- heaps
@kernel(refcounted=False, inline="always")
def _less(pred, i, j):
    return pred[i] < pred[j] or (pred[i] == pred[j] and i < j)


@kernel(refcounted=False)
def _ih_up(hh, hpos, pred, x):
    j = hh[x]
    while x > 0:
        p = (x - 1) >> 1
        q = hh[p]
        if _less(pred, q, j):
            break
        hh[x] = q
        hpos[q] = x
        x = p
    hh[x] = j
    hpos[j] = x


@kernel(refcounted=False)
def _ih_down(hh, hpos, pred, nh, x):
    j = hh[x]
    while True:
        c = 2 * x + 1
        if c >= nh:
            break
        if c + 1 < nh and _less(pred, hh[c + 1], hh[c]):
            c += 1
        q = hh[c]
        if _less(pred, j, q):
            break
        hh[x] = q
        hpos[q] = x
        x = c
    hh[x] = j
    hpos[j] = x


@kernel(refcounted=False)
def _ih_set(hh, hpos, pred, nh, j, t):
    old = pred[j]
    pred[j] = t
    if t < old:
        _ih_up(hh, hpos, pred, hpos[j])
    elif t > old:
        _ih_down(hh, hpos, pred, nh, hpos[j])


@kernel(refcounted=False)
def _push(ht, hk, hp, hq, n, t, key, p, q):
    """Pushes (t, key; p, q) on a min-heap ordered by (t, key); returns the new size."""
    x = n
    while x > 0:
        par = (x - 1) >> 1
        if ht[par] < t or (ht[par] == t and hk[par] < key):
            break
        ht[x] = ht[par]
        hk[x] = hk[par]
        hp[x] = hp[par]
        hq[x] = hq[par]
        x = par
    ht[x] = t
    hk[x] = key
    hp[x] = p
    hq[x] = q
    return n + 1


@kernel(refcounted=False)
def _pop(ht, hk, hp, hq, n):
    """Removes the root; returns the new size."""
    n -= 1
    if n <= 0:
        return 0
    t = ht[n]
    key = hk[n]
    p = hp[n]
    q = hq[n]
    x = 0
    while True:
        c = 2 * x + 1
        if c >= n:
            break
        if c + 1 < n and (ht[c + 1] < ht[c] or (ht[c + 1] == ht[c] and hk[c + 1] < hk[c])):
            c += 1
        if t < ht[c] or (t == ht[c] and key < hk[c]):
            break
        ht[x] = ht[c]
        hk[x] = hk[c]
        hp[x] = hp[c]
        hq[x] = hq[c]
        x = c
    ht[x] = t
    hk[x] = key
    hp[x] = p
    hq[x] = q
    return n


# ----------------------------------------------------------------------------- forward
@kernel(refcounted=False)
def _predict(st, P, j, t_state, ref_until, t_end, scratch, rate, a, b, lv, lc, lr):
    """Neuron j's next threshold crossing before t_end with no further input (inf if none)."""
    start = t_state if t_state > ref_until else ref_until
    if start >= t_end:
        return math.inf
    if start > t_state:
        scratch[0, 0] = st[j, 0]
        scratch[0, 1] = st[j, 1]
        scratch[0, 2] = st[j, 2]
        row = P[j:j + 1]
        advance(scratch, row, 0, t_state, start, ref_until)
        n = threshold_terms(scratch, row, 0, rate, a, b)
    else:
        n = threshold_terms(st, P, j, rate, a, b)
    x = first_crossing(n, rate, a, b, 0.0, t_end - start, lv, lc, lr)
    if math.isinf(x):
        return math.inf
    t = start + x
    return t if t < t_end else math.inf


@kernel(refcounted=False)
def _advance_to(st, P, j, tst, ref, pend, o_rie, o_rii, t):
    """Advances neuron j to t; on passing the end of its refractory period, stores the
    currents there for the spike that started it."""
    k = pend[j]
    if k >= 0 and t >= ref[j]:
        h = ref[j] - tst[j]
        ie = st[j, IE]
        ii = st[j, II]
        if h > 0.0:
            if ie != 0.0:
                ie *= math.exp(-h * P[j, INV_TE])
            if ii != 0.0:
                ii *= math.exp(-h * P[j, INV_TI])
        o_rie[k] = ie
        o_rii[k] = ii
        pend[j] = -1
    if t > tst[j]:
        advance(st, P, j, tst[j], t, ref[j])
        tst[j] = t


@kernel
def forward_trial(P, S0, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, in_t, in_n,
                  o_t, o_n, o_ie, o_ii, o_rie, o_rii):
    """One trial; returns (spikes recorded, 1 if the buffers overflowed)."""
    N = S0.shape[0]
    S = pre.size
    cap = o_t.size
    st = S0.copy()
    tst = np.zeros(N)
    ref = np.full(N, -np.inf)
    pend = np.full(N, -1, np.int64)
    pred = np.full(N, np.inf)
    hh = np.empty(N, np.int64)
    hpos = np.full(N, -1, np.int64)
    at = np.empty(cap + 1)
    ak = np.empty(cap + 1, np.int64)
    asp = np.empty(cap + 1, np.int64)
    apos = np.empty(cap + 1, np.int64)
    dirty = np.empty(N, np.int64)
    isd = np.zeros(N, np.uint8)
    scratch = np.empty((1, 3))
    rate = np.empty(MAX_TERMS)
    ca = np.empty(MAX_TERMS)
    cb = np.empty(MAX_TERMS)
    lv = np.empty((3, MAX_TERMS + 1, MAX_TERMS))
    lc = np.zeros(MAX_TERMS + 1, np.int64)
    lr = np.empty((3, MAX_TERMS))
    nh = 0
    for j in range(N):
        if is_src[j] == 0:
            pred[j] = _predict(st, P, j, 0.0, -np.inf, t_end, scratch, rate, ca, cb, lv, lc, lr)
            hh[nh] = j
            hpos[j] = nh
            nh += 1
    for x in range(nh // 2 - 1, -1, -1):
        _ih_down(hh, hpos, pred, nh, x)
    na = 0
    nd = 0
    nsp = 0
    ip = 0
    n_in = in_t.size
    flag = 0
    while True:
        ta = at[0] if na > 0 else math.inf
        tp = pred[hh[0]] if nh > 0 else math.inf
        jp = hh[0] if nh > 0 else -1
        ti = in_t[ip] if ip < n_in else math.inf
        ji = in_n[ip] if ip < n_in else -1
        source = ti < tp or (ti == tp and ti < math.inf and ji < jp)
        ts = ti if source else tp
        js = ji if source else jp
        if ts <= ta:
            if ts >= t_end:
                break
            if nsp >= cap:
                flag = 1
                break
            k = nsp
            nsp += 1
            o_t[k] = ts
            o_n[k] = js
            if source:
                ip += 1
                o_ie[k] = 0.0
                o_ii[k] = 0.0
                o_rie[k] = 0.0
                o_rii[k] = 0.0
            else:
                _advance_to(st, P, js, tst, ref, pend, o_rie, o_rii, ts)
                ie = st[js, IE]
                ii = st[js, II]
                o_ie[k] = ie
                o_ii[k] = ii
                st[js, V] = P[js, V_RESET]
                ref[js] = ts + P[js, T_REF]
                if ref[js] > ts:
                    pend[js] = k
                    o_rie[k] = 0.0
                    o_rii[k] = 0.0
                else:
                    o_rie[k] = ie
                    o_rii[k] = ii
                t_new = _predict(st, P, js, tst[js], ref[js], t_end, scratch, rate, ca, cb, lv, lc, lr)
                _ih_set(hh, hpos, pred, nh, js, t_new)
            r0 = row_ptr[js]
            if r0 < row_ptr[js + 1]:
                s = row_syn[r0]
                t_a = ts + d[s]
                if t_a < t_end:
                    na = _push(at, ak, asp, apos, na, t_a, js * S + s, k, 0)
            continue
        if ta >= t_end:
            break
        k = asp[0]
        p = apos[0]
        na = _pop(at, ak, asp, apos, na)
        src = o_n[k]
        r0 = row_ptr[src]
        s = row_syn[r0 + p]
        j = post[s]
        _advance_to(st, P, j, tst, ref, pend, o_rie, o_rii, ta)
        if port[s] == 0:
            st[j, IE] += w[s]
        else:
            st[j, II] += w[s]
        if isd[j] == 0:
            isd[j] = 1
            dirty[nd] = j
            nd += 1
        if r0 + p + 1 < row_ptr[src + 1]:
            s2 = row_syn[r0 + p + 1]
            t2 = o_t[k] + d[s2]
            if t2 < t_end:
                na = _push(at, ak, asp, apos, na, t2, src * S + s2, k, p + 1)
        if na == 0 or at[0] != ta:
            for x in range(nd):
                j = dirty[x]
                isd[j] = 0
                t_new = _predict(st, P, j, tst[j], ref[j], t_end, scratch, rate, ca, cb, lv, lc, lr)
                _ih_set(hh, hpos, pred, nh, j, t_new)
            nd = 0
    for j in range(N):
        if pend[j] >= 0 and ref[j] < t_end:
            _advance_to(st, P, j, tst, ref, pend, o_rie, o_rii, ref[j])
    return nsp, flag


@kernel(parallel=True)
def forward_batch(P, S0, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, in_ptr, in_t, in_n,
                  o_t, o_n, o_ie, o_ii, o_rie, o_rii, nsp, flags):
    for b in prange(in_ptr.size - 1):
        lo = in_ptr[b]
        hi = in_ptr[b + 1]
        nsp[b], flags[b] = forward_trial(P, S0, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end,
                                         in_t[lo:hi], in_n[lo:hi], o_t[b], o_n[b], o_ie[b], o_ii[b], o_rie[b],
                                         o_rii[b])


# ----------------------------------------------------------------------------- readout
@kernel(refcounted=False)
def _interval_max(n, rate, a, b, h, lv, lc, lr):
    """Largest value of g at its critical points in (0, h) (g's first term is its constant):
    (value, x); (-inf, -1) if there are none."""
    for q in range(lc.size):
        lc[q] = 0
    nlev = _build_levels(n, rate, a, b, lv[0], lv[1], lv[2], lc)
    m = _critical_points(nlev, lc, lv[0], lv[1], lv[2], 0.0, h, lr[0], lr[1], lr[2])
    best = -math.inf
    bx = -1.0
    for q in range(m):
        x = lr[0, q]
        g = eval_g(n, rate, a, b, x)
        if g > best:
            best = g
            bx = x
    return best, bx


@kernel
def readout_trial(P, S0, pre, w, d, port, col_ptr, col_syn, t_end, o_t, o_n, nsp, req,
                  r_v, r_t, r_kind, r_k, r_s, r_vdot):
    """Membrane maximum over [0, t_end] of each neuron in ``req`` (see the KIND_* codes)."""
    N = S0.shape[0]
    S = pre.size
    ptr = np.zeros(N + 1, np.int64)
    for k in range(nsp):
        ptr[o_n[k] + 1] += 1
    for j in range(N):
        ptr[j + 1] += ptr[j]
    fill = ptr[:-1].copy()
    idx = np.empty(max(nsp, 1), np.int64)
    for k in range(nsp):
        idx[fill[o_n[k]]] = k
        fill[o_n[k]] += 1
    sc = np.empty((1, 3))
    rate = np.empty(MAX_TERMS)
    ca = np.empty(MAX_TERMS)
    cb = np.empty(MAX_TERMS)
    lv = np.empty((3, MAX_TERMS + 1, MAX_TERMS))
    lc = np.zeros(MAX_TERMS + 1, np.int64)
    lr = np.empty((3, MAX_TERMS))
    for r in range(req.size):
        j = req[r]
        row = P[j:j + 1]
        r_k[r] = -1
        r_s[r] = -1
        r_vdot[r] = 0.0
        if ptr[j + 1] > ptr[j]:
            r_v[r] = P[j, V_TH]
            r_t[r] = o_t[idx[ptr[j]]]
            r_kind[r] = KIND_NONE
            continue
        m = 0
        for c in range(col_ptr[j], col_ptr[j + 1]):
            i = pre[col_syn[c]]
            m += ptr[i + 1] - ptr[i]
        arr_t = np.empty(m)
        arr_k = np.empty(m, np.int64)
        arr_s = np.empty(m, np.int64)
        m = 0
        for c in range(col_ptr[j], col_ptr[j + 1]):
            s = col_syn[c]
            i = pre[s]
            for q in range(ptr[i], ptr[i + 1]):
                k = idx[q]
                arr_t[m] = o_t[k] + d[s]
                arr_k[m] = k
                arr_s[m] = s
                m += 1
        order = np.argsort(arr_t, kind="mergesort")
        sc[0, 0] = S0[j, 0]
        sc[0, 1] = S0[j, 1]
        sc[0, 2] = S0[j, 2]
        tcur = 0.0
        best = sc[0, V]
        tb = 0.0
        kind = KIND_FIXED
        q = 0
        while True:
            tn = arr_t[order[q]] if q < m else t_end
            if tn > t_end:
                tn = t_end
            h = tn - tcur
            if h > 0.0:
                n = threshold_terms(sc, row, 0, rate, ca, cb)
                g, x = _interval_max(n, rate, ca, cb, h, lv, lc, lr)
                if g + P[j, V_TH] > best:
                    best = g + P[j, V_TH]
                    tb = tcur + x
                    kind = KIND_PLAIN
                    r_k[r] = -1
                    r_s[r] = -1
                advance(sc, row, 0, tcur, tn, -math.inf)
                tcur = tn
            v = sc[0, V]
            if q >= m or tn >= t_end:
                if v > best:
                    best = v
                    tb = t_end
                    kind = KIND_PLAIN
                    r_k[r] = -1
                    r_s[r] = -1
                break
            if v > best:
                best = v
                tb = tn
                kind = KIND_KINK
                r_k[r] = arr_k[order[q]]
                r_s[r] = arr_s[order[q]]
                r_vdot[r] = (P[j, V_INF] - v + sc[0, IE] + sc[0, II]) * P[j, INV_TM]
            while q < m and arr_t[order[q]] == tn:
                s = arr_s[order[q]]
                if port[s] == 0:
                    sc[0, IE] += w[s]
                else:
                    sc[0, II] += w[s]
                q += 1
        r_v[r] = best
        r_t[r] = tb
        r_kind[r] = kind
    return 0


@kernel(parallel=True)
def readout_batch(P, S0, pre, w, d, port, col_ptr, col_syn, t_end, o_t, o_n, nsp, req_ptr, req_n,
                  r_v, r_t, r_kind, r_k, r_s, r_vdot):
    for b in prange(req_ptr.size - 1):
        lo = req_ptr[b]
        hi = req_ptr[b + 1]
        if hi > lo:
            readout_trial(P, S0, pre, w, d, port, col_ptr, col_syn, t_end, o_t[b], o_n[b], nsp[b], req_n[lo:hi],
                          r_v[lo:hi], r_t[lo:hi], r_kind[lo:hi], r_k[lo:hi], r_s[lo:hi], r_vdot[lo:hi])


# ----------------------------------------------------------------------------- backward
@kernel(refcounted=False)
def _lam_to(lam, tl, inref, P, j, t):
    """Carries neuron j's adjoint back from its time tl[j] to t (Phi^T of the propagator)."""
    h = tl[j] - t
    if h <= 0.0:
        return
    tl[j] = t
    lv = lam[j, 0]
    le = lam[j, 1]
    li = lam[j, 2]
    if lv == 0.0 and le == 0.0 and li == 0.0:
        return
    ee = math.exp(-h * P[j, INV_TE])
    ei = math.exp(-h * P[j, INV_TI])
    if inref[j] != 0 or lv == 0.0:
        lam[j, 1] = le * ee
        lam[j, 2] = li * ei
        return
    em = math.exp(-h * P[j, INV_TM])
    lam[j, 0] = lv * em
    lam[j, 1] = le * ee + lv * _psc(h, em, ee, P[j, K_E], P[j, INV_TM], P[j, TAU_E], P[j, TAU_M])
    lam[j, 2] = li * ei + lv * _psc(h, em, ei, P[j, K_I], P[j, INV_TM], P[j, TAU_I], P[j, TAU_M])


@kernel
def backward_trial(P, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, o_t, o_n, o_ie, o_ii, o_rie, o_rii,
                   nsp, dl_dt, r_n, r_t, r_kind, r_k, r_s, r_vdot, dl_dv, gw, gd, vdot_min):
    """Adds one trial's dL/dw and dL/dd to gw, gd."""
    N = P.shape[0]
    S = pre.size
    lam = np.zeros((N, 3))
    tl = np.full(N, t_end)
    inref = np.zeros(N, np.uint8)
    big = np.zeros(max(nsp, 1))
    for k in range(nsp):
        big[k] = dl_dt[k]
    n_req = r_n.size
    cap = 2 * nsp + n_req + 1
    ht = np.empty(cap)
    hk = np.empty(cap, np.int64)
    hp = np.empty(cap, np.int64)
    hq = np.empty(cap, np.int64)
    nh = 0
    for k in range(nsp):
        i = o_n[k]
        r0 = row_ptr[i]
        p = row_ptr[i + 1] - 1
        while p >= r0 and o_t[k] + d[row_syn[p]] >= t_end:
            p -= 1
        if p >= r0:
            s = row_syn[p]
            nh = _push(ht, hk, hp, hq, nh, -(o_t[k] + d[s]), -(_P_ARRIVAL * _SHIFT + i * S + s), k, p - r0)
        if is_src[i] == 0:
            nh = _push(ht, hk, hp, hq, nh, -(o_t[k] + P[i, T_REF]), -(_P_REFEND * _SHIFT + k), k, -1)
    for r in range(n_req):
        if r_kind[r] >= KIND_PLAIN and dl_dv[r] != 0.0:
            nh = _push(ht, hk, hp, hq, nh, -r_t[r], -(_P_READOUT * _SHIFT + r), r, -2)
    kk = nsp - 1
    while True:
        th = -ht[0] if nh > 0 else -math.inf
        if kk >= 0 and o_t[kk] > th:
            k = kk
            kk -= 1
            j = o_n[k]
            if is_src[j] != 0:
                continue
            _lam_to(lam, tl, inref, P, j, o_t[k])
            if o_t[k] <= 0.0:
                lam[j, 0] = 0.0      # fired at t = 0 from its initial state: no parameter moves it
            else:
                vd = (P[j, V_INF] - P[j, V_TH] + o_ie[k] + o_ii[k]) * P[j, INV_TM]
                if vd < vdot_min:
                    vd = vdot_min
                lam[j, 0] = -big[k] / vd
            inref[j] = 0
            continue
        if nh == 0:
            break
        t = -ht[0]
        k = hp[0]
        q = hq[0]
        nh = _pop(ht, hk, hp, hq, nh)
        if q >= 0:
            i = o_n[k]
            r0 = row_ptr[i]
            s = row_syn[r0 + q]
            j = post[s]
            _lam_to(lam, tl, inref, P, j, t)
            if port[s] == 0:
                li = lam[j, 1]
                ga = li * P[j, INV_TE]
            else:
                li = lam[j, 2]
                ga = li * P[j, INV_TI]
            if inref[j] == 0:
                ga -= lam[j, 0] * P[j, INV_TM]
            ga *= w[s]
            gw[s] += li
            gd[s] += ga
            big[k] += ga
            if q > 0:
                s2 = row_syn[r0 + q - 1]
                nh = _push(ht, hk, hp, hq, nh, -(o_t[k] + d[s2]), -(_P_ARRIVAL * _SHIFT + i * S + s2), k, q - 1)
        elif q == -1:
            j = o_n[k]
            _lam_to(lam, tl, inref, P, j, t)
            vdf = (P[j, V_INF] - P[j, V_RESET] + o_rie[k] + o_rii[k]) * P[j, INV_TM]
            big[k] -= vdf * lam[j, 0]
            inref[j] = 1
        else:
            r = k
            j = r_n[r]
            _lam_to(lam, tl, inref, P, j, t)
            lam[j, 0] += dl_dv[r]
            if r_kind[r] == KIND_KINK:
                c = dl_dv[r] * r_vdot[r]
                big[r_k[r]] += c
                gd[r_s[r]] += c
    return 0


@kernel(parallel=True)
def backward_batch(P, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, o_t, o_n, o_ie, o_ii, o_rie, o_rii,
                   nsp, dl_dt, req_ptr, r_n, r_t, r_kind, r_k, r_s, r_vdot, dl_dv, gw, gd, vdot_min):
    for b in prange(nsp.size):
        lo = req_ptr[b]
        hi = req_ptr[b + 1]
        backward_trial(P, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, o_t[b], o_n[b], o_ie[b], o_ii[b],
                       o_rie[b], o_rii[b], nsp[b], dl_dt[b], r_n[lo:hi], r_t[lo:hi], r_kind[lo:hi], r_k[lo:hi],
                       r_s[lo:hi], r_vdot[lo:hi], dl_dv[lo:hi], gw[b], gd[b], vdot_min)


@kernel(parallel=True)
def spike_stats(o_t, o_n, nsp, n, first_t, first_k, counts):
    """Per trial and neuron: spike count, first spike time (inf) and its index (-1)."""
    for b in prange(nsp.size):
        for j in range(n):
            first_t[b, j] = math.inf
            first_k[b, j] = -1
            counts[b, j] = 0
        for k in range(nsp[b]):
            j = o_n[b, k]
            counts[b, j] += 1
            if first_k[b, j] < 0:
                first_k[b, j] = k
                first_t[b, j] = o_t[b, k]


# ----------------------------------------------------------------------------- Python side
@dataclass
class Trials:
    """Input spikes of a batch of trials: trial b's spikes are times[ptr[b]:ptr[b+1]] of global
    neurons ids[...], sorted by (time, id)."""

    ptr: np.ndarray
    times: np.ndarray
    ids: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ptr.size - 1)

    @classmethod
    def from_lists(cls, trials) -> "Trials":
        """From a list of (times, global ids) pairs, one per trial."""
        ptr = [0]
        ts, ids = [], []
        for t, i in trials:
            t = np.asarray(t, dtype=np.float64)
            i = np.asarray(i, dtype=np.int64)
            o = np.lexsort((i, t))
            ts.append(t[o])
            ids.append(i[o])
            ptr.append(ptr[-1] + t.size)
        cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
        return cls(np.asarray(ptr, dtype=np.int64), cat(ts, np.float64), cat(ids, np.int64))


@dataclass
class Spikes:
    """What the forward pass keeps of a batch: per trial, its spikes in processing order."""

    t: np.ndarray        # (B, cap) float64
    n: np.ndarray        # (B, cap) int32 global neuron
    ie: np.ndarray       # currents at the spike
    ii: np.ndarray
    rie: np.ndarray      # currents at the end of the refractory period
    rii: np.ndarray
    count: np.ndarray    # (B,) spikes recorded
    overflow: np.ndarray  # (B,) 1 if the buffer was too small

    @property
    def batch(self) -> int:
        return int(self.count.size)

    def stats(self, n_neurons: int):
        """(first spike time (B, N), its index (B, N), counts (B, N))."""
        B = self.batch
        ft = np.empty((B, n_neurons))
        fk = np.empty((B, n_neurons), dtype=np.int64)
        c = np.empty((B, n_neurons), dtype=np.int64)
        spike_stats(self.t, self.n, self.count, n_neurons, ft, fk, c)
        return ft, fk, c

    def trial(self, b: int):
        k = int(self.count[b])
        return self.t[b, :k], self.n[b, :k]


class BufferOverflow(RuntimeError):
    pass


def forward(net, trials: Trials, max_spikes: int = 4096) -> Spikes:
    """Simulates a batch of trials (in parallel); spikes include the input spikes."""
    B = trials.n
    cap = int(max_spikes)
    # only the first count[b] entries of a row are written and read (times are zeroed for numpy's sake)
    out = Spikes(np.zeros((B, cap)), np.zeros((B, cap), dtype=np.int32), np.empty((B, cap)), np.empty((B, cap)),
                 np.empty((B, cap)), np.empty((B, cap)), np.zeros(B, dtype=np.int64), np.zeros(B, dtype=np.int64))
    P, S0, is_src, pre, post, w, d, port, row_ptr, row_syn, _, _, t_end = net.kernel_args()
    forward_batch(P, S0, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, trials.ptr, trials.times,
                  trials.ids, out.t, out.n, out.ie, out.ii, out.rie, out.rii, out.count, out.overflow)
    if out.overflow.any():
        b = int(np.flatnonzero(out.overflow)[0])
        raise BufferOverflow(f"trial {b} fired more than {cap} spikes (inputs included); raise train.max_spikes "
                             f"or quieten the network")
    return out


@dataclass
class Readouts:
    ptr: np.ndarray      # (B + 1,) requests of trial b: ptr[b]:ptr[b+1]
    neuron: np.ndarray   # global neuron ids
    v: np.ndarray        # the maximum
    t: np.ndarray        # where
    kind: np.ndarray     # KIND_*
    k: np.ndarray        # kink: the arriving spike
    s: np.ndarray        # kink: its synapse
    vdot: np.ndarray     # kink: v' just before

    @classmethod
    def empty(cls, batch: int) -> "Readouts":
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(batch + 1, dtype=np.int64), zi, z, z, zi, zi, zi, z)


def readout(net, spikes: Spikes, requests) -> Readouts:
    """Membrane maxima of the neurons ``requests[b]`` (a list of global id arrays, one per trial)."""
    B = spikes.batch
    ptr = np.zeros(B + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in requests])
    neuron = np.concatenate([np.asarray(r, dtype=np.int64) for r in requests]) if B else np.zeros(0, np.int64)
    m = int(ptr[-1])
    out = Readouts(ptr, neuron, np.zeros(m), np.zeros(m), np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64),
                   np.zeros(m, dtype=np.int64), np.zeros(m))
    if m:
        P, S0, _, pre, _, w, d, port, _, _, col_ptr, col_syn, t_end = net.kernel_args()
        readout_batch(P, S0, pre, w, d, port, col_ptr, col_syn, t_end, spikes.t, spikes.n, spikes.count, ptr,
                      neuron, out.v, out.t, out.kind, out.k, out.s, out.vdot)
    return out


def backward(net, spikes: Spikes, dl_dt: np.ndarray, readouts: Readouts | None = None,
             dl_dv: np.ndarray | None = None, vdot_min: float = VDOT_MIN):
    """dL/dw and dL/dd for every synapse (summed over the trials, in trial order), given dL/dt
    for every recorded spike (B, cap) and dL/dv* for every readout."""
    B = spikes.batch
    if readouts is None:
        readouts = Readouts.empty(B)
    if dl_dv is None:
        dl_dv = np.zeros(readouts.v.size)
    P, _, is_src, pre, post, w, d, port, row_ptr, row_syn, _, _, t_end = net.kernel_args()
    gw = np.zeros((B, net.n_syn))
    gd = np.zeros((B, net.n_syn))
    backward_batch(P, is_src, pre, post, w, d, port, row_ptr, row_syn, t_end, spikes.t, spikes.n, spikes.ie, spikes.ii,
                   spikes.rie, spikes.rii, spikes.count, np.ascontiguousarray(dl_dt, dtype=np.float64), readouts.ptr,
                   readouts.neuron, readouts.t, readouts.kind, readouts.k, readouts.s, readouts.vdot,
                   np.ascontiguousarray(dl_dv, dtype=np.float64), gw, gd, float(vdot_min))
    return _sum_rows(gw), _sum_rows(gd)


def _sum_rows(g: np.ndarray) -> np.ndarray:
    """Sum over trials in trial order (the same bits whatever the thread count)."""
    out = np.zeros(g.shape[1])
    for row in g:
        out += row
    return out
