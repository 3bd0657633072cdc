"""The event-driven EGRU kernel: per step, only units that receive an event or an input, or
that have an event of their own pending, are computed; every other unit is silent and is
brought up to date in closed form when it is next touched.

Why that is exact. With no input in a step, a unit's pre-activations are its biases, so its
gates are the constants u* = sigmoid(b_u), z* = tanh(b_z) (r only ever scales the unit's own
events, and a silent unit has none pending), and c_t = u* z* + (1 - u*) c_{t-1}: after k silent
steps c_k = z* + (1 - u*)^k (c_0 - z*). c_k moves monotonically towards z*, so a silent unit
crosses theta only if z* > theta, and the first step it does is found in closed form,

    k = the least k >= 1 with z* + q^k (c_0 - z*) > theta,  q = 1 - u*,
      ~ log((z* - theta) / (z* - c_0)) / log q,  checked and adjusted with the same expression,

and scheduled as a wake in that step's bucket (a doubly linked list per step, so touching the
unit earlier removes it in O(1)). The result equals the dense step-by-step reference
(simcore/egru/reference.py) up to rounding (sums in event order instead of BLAS order, q^k
instead of k products, gate_math's exp within 1 ulp of NumPy's): 1e-10 in the tests, on random
networks with long silent stretches.

One step t, populations in processing order (sources of zero-delay projections first):

1. the units whose wake is due are marked touched;
2. the previous step's events are delivered over delay-1 synapses: w y added to the target's
   running pre-activation sum of that gate, the target marked touched (a unit with inputs from
   one sender costs that sender's column of multiply-accumulates, nothing else);
3. per population: a sequence source emits this step's input values as events; an EGRU
   population first scales its own previous events by each sender's reset gate r_j (its r sum
   is complete now) and delivers them to z (the paper's r * y_{t-1}), then computes every
   touched unit in full (catching up its silent steps in closed form), emits events, and
   reschedules each computed unit's wake; its events go out at once over delay-0 synapses.

Kernels never allocate (``refcounted=False``) and never raise: the caller sizes every buffer,
and the step loop returns early when the event log could overflow, to be drained and resumed.
"""
from __future__ import annotations

import math

from numba import prange

from ..jit import kernel
from . import gate_math

#: dense multiply-adds in one batch of events from which the batch is split over threads
#: (below it, handing the work out costs more than it saves); ``run_steps``' ``par_macs``
PARALLEL_MACS = 1 << 16
#: a step's u and z gates are split over threads from PARALLEL_MACS / UNIT_MACS (4096) units on:
#: a unit's two gates take about 4 ns vectorised (1024 units x 1000 steps in 4.1 ms alone), 16
#: multiply-adds' worth, so 1024 units (4 us) no longer pay for a parallel region of their own
#: (bench_egru, 90 % silent, 2 threads, medians over 8 alternating pairs: 71 ms against 76.5 ms
#: split from 1024 units; before the gates' loop vectorised, at 10 ns a unit, splitting won)
UNIT_MACS = 16


@kernel(refcounted=False)
def crossing(c0, zs, q, theta, kmax):
    """The least k in [1, kmax] with zs + q**k (c0 - zs) > theta; kmax + 1 if there is none."""
    d0 = c0 - zs
    if zs + q * d0 > theta:
        return 1
    if zs <= theta or d0 >= 0.0 or q <= 0.0 or q >= 1.0 or kmax <= 1:
        return kmax + 1       # moving towards z* <= theta, or c_1 already at z*, or never moving
    x = math.log((zs - theta) / (-d0)) / math.log(q)
    if not x < kmax + 2.0:    # also nan
        return kmax + 1
    k = int(math.floor(x))
    if k < 1:
        k = 1
    while k > 1 and zs + math.pow(q, k - 1) * d0 > theta:
        k -= 1
    while k <= kmax and not zs + math.pow(q, k) * d0 > theta:
        k += 1
    return k


@kernel(refcounted=False, inline="always")
def _emit(cur, t, kp, i, v, ev_id, ev_val, ev_n, out_step, out_id, out_val, out_n, ev_count):
    """Unit (or input element) i sends v in step t: into this step's event list and the log."""
    m = ev_n[cur]
    ev_id[cur, m] = i
    ev_val[cur, m] = v
    ev_n[cur] = m + 1
    m = out_n[0]
    out_step[m] = t
    out_id[m] = i
    out_val[m] = v
    out_n[0] = m + 1
    ev_count[t, kp] += 1


@kernel(refcounted=False)
def _link(i, s, whead, wnext, wprev, wstep):
    wstep[i] = s
    wprev[i] = -1
    h = whead[s]
    wnext[i] = h
    if h >= 0:
        wprev[h] = i
    whead[s] = i


@kernel(refcounted=False)
def _unlink(i, whead, wnext, wprev, wstep):
    s = wstep[i]
    p = wprev[i]
    nx = wnext[i]
    if p >= 0:
        wnext[p] = nx
    else:
        whead[s] = nx
    if nx >= 0:
        wprev[nx] = p
    wstep[i] = -1


@kernel(refcounted=False)
def init_wakes(kinds, offsets, mode, y0, c, zs, q, theta, n_steps, whead, wnext, wprev, wstep):
    """First wakes, counted from step -1 (the initial state): a pending reset of an initial
    event (paper form) at step 0, else the first crossing of a silent unit."""
    for kp in range(kinds.shape[0]):
        if kinds[kp] != 1:
            continue
        for i in range(offsets[kp], offsets[kp + 1]):
            if y0[i] != 0.0 and mode[i] == 0:
                s = 0
            else:
                s = -1 + crossing(c[i], zs[i], q[i], theta[i], n_steps + 1)
            if s < n_steps:
                _link(i, s, whead, wnext, wprev, wstep)


@kernel(refcounted=False)
def _touch(k, t, tmark, tlist, tcount, offsets, unit_pop):
    if tmark[k] != t:
        tmark[k] = t
        kp = unit_pop[k]
        tlist[offsets[kp] + tcount[kp]] = k
        tcount[kp] += 1


@kernel(refcounted=False)
def _axpy(dst, src, v):
    """dst += src * v over contiguous views (vectorised: no index arithmetic in the loop)."""
    for x in range(dst.shape[0]):
        dst[x] += src[x] * v


@kernel(refcounted=False, inline="always")
def _deliver(j, v, t, n, ptr, post, gate, w, cnt, n_pop, bptr, b_pre_lo, b_post_lo, b_post_hi, b_post_pop,
             b_gate, b_woff, bw, acc, macs, tmark, tlist, tcount, offsets, unit_pop, pop_all):
    """One event (unit j, value v) over one delay's sparse (CSR) synapses; its dense blocks are
    counted and their target populations marked here, their multiply-adds done per batch of
    events by :func:`_dense`. Returns those multiply-adds. Inlined: a call passes each of its
    twenty arrays as nine words, which per event cost more than the work (bench_egru, 90 %
    silent, 2 threads: the three phases that call it per event took 29 of 111 ms, 10 inlined)."""
    for s in range(ptr[j], ptr[j + 1]):
        k = post[s]
        _touch(k, t, tmark, tlist, tcount, offsets, unit_pop)
        acc[gate[s] * n + k] += w[s] * v
    base = j * n_pop
    for kp in range(n_pop):
        macs[kp] += cnt[base + kp]
    kpre = unit_pop[j]
    dense = 0
    for b in range(bptr[kpre], bptr[kpre + 1]):
        m = b_post_hi[b] - b_post_lo[b]
        kp = b_post_pop[b]
        pop_all[kp] = t
        macs[kp] += m
        dense += m
    return dense


@kernel(refcounted=False, inline="always")
def _axpy4(dst, s0, s1, s2, s3, v0, v1, v2, v3):
    """dst += s0 v0; dst += s1 v1; ... in that order for each element (the same sums, bit for
    bit, as four :func:`_axpy` calls), with dst loaded and stored once instead of four times."""
    for x in range(dst.shape[0]):
        a = dst[x]
        a += s0[x] * v0
        a += s1[x] * v1
        a += s2[x] * v2
        a += s3[x] * v3
        dst[x] = a


@kernel(refcounted=False, inline="always")
def _dense_part(c, n_chunks, ids, vals, n_ev, n, bptr, b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff, bw, acc,
                unit_pop):
    """Part c of n_chunks (a slice of every dense block's targets) of the events' dense blocks.
    Consecutive events of one sender population go through each of its blocks four at a time
    (the blocks of one population feed distinct sums, so every sum still receives the events in
    their order)."""
    e = 0
    while e < n_ev:
        kpre = unit_pop[ids[e]]
        e_end = e + 1
        while e_end < n_ev and unit_pop[ids[e_end]] == kpre:
            e_end += 1
        for b in range(bptr[kpre], bptr[kpre + 1]):
            m = b_post_hi[b] - b_post_lo[b]
            x0 = c * m // n_chunks
            x1 = (c + 1) * m // n_chunks
            w = x1 - x0
            a = b_gate[b] * n + b_post_lo[b] + x0
            dst = acc[a:a + w]
            row = b_woff[b] + x0 - b_pre_lo[b] * m         # + j m: sender j's slice of the block
            f = e
            while f + 4 <= e_end:
                o0 = row + ids[f] * m
                o1 = row + ids[f + 1] * m
                o2 = row + ids[f + 2] * m
                o3 = row + ids[f + 3] * m
                _axpy4(dst, bw[o0:o0 + w], bw[o1:o1 + w], bw[o2:o2 + w], bw[o3:o3 + w],
                       vals[f], vals[f + 1], vals[f + 2], vals[f + 3])
                f += 4
            while f < e_end:
                o0 = row + ids[f] * m
                _axpy(dst, bw[o0:o0 + w], vals[f])
                f += 1
        e = e_end


@kernel(parallel=True)
def _dense_threads(threads, ids, vals, n_ev, n, bptr, b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff, bw, acc,
                   unit_pop):
    for c in prange(threads):
        _dense_part(c, threads, ids, vals, n_ev, n, bptr, b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff, bw,
                    acc, unit_pop)


@kernel(refcounted=False)
def _dense(ids, vals, n_ev, dense_macs, par_macs, threads, n, bptr, b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff,
           bw, acc, unit_pop):
    """The dense-block multiply-adds of events ids[:n_ev] (values vals), acc[gate, target] +=
    w[sender, target] v. Each element of acc receives the events in their order whatever the
    number of threads, so the result is the same bit for bit with one thread or many: with
    ``dense_macs`` >= ``par_macs`` the blocks' targets are split into ``threads`` slices."""
    if threads > 1 and dense_macs >= par_macs:
        _dense_threads(threads, ids, vals, n_ev, n, bptr, b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff, bw, acc,
                       unit_pop)
    else:
        one = threads * 0 + 1
        _dense_part(one * 0, one, ids, vals, n_ev, n, bptr, b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff, bw,
                    acc, unit_pop)


@kernel(refcounted=False, inline="always")
def _gates_part(c, n_chunks, every, lo, tlist, n_do, n, bu, bz, acc, gate_u, gate_z):
    """Part c of n_chunks of the u and z gates of the n_do units phase C computes (all of lo..
    when ``every``: a loop over consecutive units, which vectorises; else tlist[lo..])."""
    a = c * n_do // n_chunks
    b = (c + 1) * n_do // n_chunks
    if every:
        # over views from 0: indexing the arrays by lo + a.. left the loop scalar for some lo
        # (bench_egru's layer at lo = 32: 15-45 ms per 1000 steps against 3-7 over views)
        i0 = lo + a
        m = b - a
        out_u = gate_u[i0:i0 + m]
        out_z = gate_z[i0:i0 + m]
        in_u = acc[i0:i0 + m]
        in_z = acc[2 * n + i0:2 * n + i0 + m]
        b_u = bu[i0:i0 + m]
        b_z = bz[i0:i0 + m]
        for x in range(m):
            out_u[x] = gate_math.sigmoid(b_u[x] + in_u[x])
            out_z[x] = gate_math.tanh(b_z[x] + in_z[x])
    else:
        for idx in range(a, b):
            i = tlist[lo + idx]
            gate_u[i] = gate_math.sigmoid(bu[i] + acc[i])
            gate_z[i] = gate_math.tanh(bz[i] + acc[2 * n + i])


@kernel(parallel=True)
def _gates_threads(threads, every, lo, tlist, n_do, n, bu, bz, acc, gate_u, gate_z):
    for c in prange(threads):
        _gates_part(c, threads, every, lo, tlist, n_do, n, bu, bz, acc, gate_u, gate_z)


@kernel(refcounted=False)
def _gates(threads, every, lo, tlist, n_do, n, bu, bz, acc, gate_u, gate_z):
    """u and z of the units phase C computes into gate_u, gate_z, split over ``threads``
    threads when there is more than one (each value is the same bit for bit either way)."""
    if threads > 1:
        _gates_threads(threads, every, lo, tlist, n_do, n, bu, bz, acc, gate_u, gate_z)
    else:
        _gates_part(threads * 0, 1, every, lo, tlist, n_do, n, bu, bz, acc, gate_u, gate_z)


@kernel(refcounted=False, inline="always")
def _update_all(lo, hi, n, t, c, tl, yp, acc, gate_u, gate_z, mode, theta, fired):
    """Phase C for units lo..hi that were all computed in the previous step (none has silent
    steps to catch up, none a pending wake):

        c~ = u z + (1 - u) c - [event reset] y,   y = c~ H(c~ - theta),   c = c~ - [threshold reset] theta H(c~ - theta)

    with fired[x] = (c~ > theta) for unit lo + x, and their gate sums cleared. The same IEEE
    operations as the general loop in run_steps, over views from 0 with selects for its
    branches, so the loop vectorises (bench_egru's 1024 units, measured alone: 1.5 against 4.2
    ms per 1000 steps); the caller emits the events from ``fired`` in unit order."""
    m = hi - lo
    cc = c[lo:hi]
    yy = yp[lo:hi]
    gu = gate_u[lo:hi]
    gz = gate_z[lo:hi]
    md = mode[lo:hi]
    th = theta[lo:hi]
    fr = fired[:m]
    for x in range(m):
        u = gu[x]
        ct = u * gz[x] + (1.0 - u) * cc[x]
        if md[x] == 0:
            ct = ct - yy[x]
        f = ct > th[x]
        yy[x] = ct if f else 0.0
        if f and md[x] == 1:
            ct = ct - th[x]
        cc[x] = ct
        fr[x] = f
    a_u = acc[lo:hi]
    a_r = acc[n + lo:n + hi]
    a_z = acc[2 * n + lo:2 * n + hi]
    tt = tl[lo:hi]
    for x in range(m):
        a_u[x] = 0.0
        a_r[x] = 0.0
        a_z[x] = 0.0
        tt[x] = t


@kernel(refcounted=False)
def run_steps(t0, t1, n_steps, kinds, offsets, order, unit_pop,
              bu, br, bz, theta, mode, zs, q,
              ptr0, post0, gate0, w0, cnt0, ptr1, post1, gate1, w1, cnt1, ptrg, postg, gateg, wg, cntg, has_zg,
              bptr0, bptr1, bptrg, b_pre_lo, b_post_lo, b_post_hi, b_post_pop, b_gate, b_woff, bw,
              in_ptr, in_id, in_val,
              c, tl, yp, acc, tmark, tlist, tcount, pop_all, pop_hot,
              whead, wnext, wprev, wstep,
              ev_id, ev_val, ev_popstart, ev_n,
              out_step, out_id, out_val, out_n,
              ev_count, macs, updates, catchups,
              rec_units, rec_c, rec_y, zb_id, zb_val, gate_u, gate_z, fired, par_macs, threads):
    """Steps t0 .. t1 - 1; returns the step reached (earlier than t1 when the event log is full).
    Synapses: delay 0 (``*0``), delay 1 except r-scaled z (``*1``), r-scaled z (``*g``), each as
    CSR by sender (``cnt``: synapses per sender and target population, for the counters) plus
    dense blocks (``bptr*`` by sender population: fully connected population pairs, weights
    row-major by sender in ``bw``, so an event is one contiguous multiply-add per block).
    ``acc`` is (3 x N) flat: the gates' input sums of this step. ``zb_*``: room for one
    population's r-scaled events; ``gate_u``, ``gate_z`` (N): the u and z gates of a step's
    computed units, computed before the units' serial update (on ``threads`` threads from
    ``par_macs`` / UNIT_MACS units); ``fired`` (N, bool): scratch of :func:`_update_all`;
    ``par_macs``, ``threads``: see :func:`_dense`."""
    n = c.shape[0]
    n_pop = kinds.shape[0]
    cap = out_step.shape[0]
    n_rec = rec_units.shape[0]
    t = t0
    while t < t1:
        if out_n[0] + n > cap:
            return t
        cur = t & 1
        prv = 1 - cur
        for k in range(n_pop):
            tcount[k] = 0
        # 1. wakes due now
        i = whead[t]
        while i >= 0:
            nxt = wnext[i]
            wstep[i] = -1
            _touch(i, t, tmark, tlist, tcount, offsets, unit_pop)
            i = nxt
        whead[t] = -1
        # 2. the previous step's events over delay-1 synapses (r-scaled z inputs wait for phase B),
        #    marking the targets of r-scaled z as touched now
        dense_macs = 0
        for e in range(ev_n[prv]):
            j = ev_id[prv, e]
            dense_macs += _deliver(j, ev_val[prv, e], t, n, ptr1, post1, gate1, w1, cnt1, n_pop, bptr1, b_pre_lo,
                                   b_post_lo, b_post_hi, b_post_pop, b_gate, b_woff, bw, acc, macs, tmark, tlist,
                                   tcount, offsets, unit_pop, pop_all)
            if has_zg[j]:
                for s in range(ptrg[j], ptrg[j + 1]):
                    _touch(postg[s], t, tmark, tlist, tcount, offsets, unit_pop)
                for b in range(bptrg[unit_pop[j]], bptrg[unit_pop[j] + 1]):
                    pop_all[b_post_pop[b]] = t
        _dense(ev_id[prv], ev_val[prv], ev_n[prv], dense_macs, par_macs, threads, n, bptr1, b_pre_lo, b_post_lo, b_post_hi,
               b_gate, b_woff, bw, acc, unit_pop)
        # 3. populations in processing order
        ev_n[cur] = 0
        ic = in_ptr[t]
        iend = in_ptr[t + 1]
        for pos in range(n_pop):
            kp = order[pos]
            ev_popstart[cur, pos] = ev_n[cur]
            lo = offsets[kp]
            hi = offsets[kp + 1]
            if kinds[kp] == 0:
                while ic < iend and in_id[ic] >= lo and in_id[ic] < hi:
                    _emit(cur, t, kp, in_id[ic], in_val[ic], ev_id, ev_val, ev_n, out_step, out_id, out_val, out_n,
                          ev_count)
                    ic += 1
            else:
                # phase B: this population's own previous events, scaled by each sender's r, into z
                nz = 0
                dense_macs = 0
                for e in range(ev_popstart[prv, pos], ev_popstart[prv, pos + 1]):
                    j = ev_id[prv, e]
                    if has_zg[j]:
                        ry = gate_math.sigmoid(br[j] + acc[n + j]) * ev_val[prv, e]
                        dense_macs += _deliver(j, ry, t, n, ptrg, postg, gateg, wg, cntg, n_pop, bptrg, b_pre_lo,
                                               b_post_lo, b_post_hi, b_post_pop, b_gate, b_woff, bw, acc, macs,
                                               tmark, tlist, tcount, offsets, unit_pop, pop_all)
                        zb_id[nz] = j
                        zb_val[nz] = ry
                        nz += 1
                _dense(zb_id, zb_val, nz, dense_macs, par_macs, threads, n, bptrg, b_pre_lo, b_post_lo, b_post_hi, b_gate,
                       b_woff, bw, acc, unit_pop)
                # phase C: every touched unit in full (all of them when a dense block reached the population)
                # a population reached by a dense block is computed in full, and again in the next
                # step ("hot"): its units need no crossing prediction (computing a unit in a silent
                # step is exact too); a hot step that no block reaches predicts as usual
                reached = pop_all[kp] == t
                was_reached = pop_hot[kp] == t - 1
                every = reached or was_reached
                if reached:
                    pop_hot[kp] = t
                n_do = hi - lo if every else tcount[kp]
                _gates(threads if n_do * UNIT_MACS >= par_macs else 1, every, lo, tlist, n_do, n, bu, bz, acc,
                       gate_u, gate_z)
                if reached and was_reached:
                    # every unit was computed last step and none linked: the loop below, branch-free
                    _update_all(lo, hi, n, t, c, tl, yp, acc, gate_u, gate_z, mode, theta, fired)
                    for x in range(hi - lo):
                        if fired[x]:
                            _emit(cur, t, kp, lo + x, yp[lo + x], ev_id, ev_val, ev_n, out_step, out_id, out_val,
                                  out_n, ev_count)
                    updates[kp] += hi - lo
                    n_do = 0
                for idx in range(n_do):
                    i = lo + idx if every else tlist[lo + idx]
                    last = tl[i]
                    ci = c[i]
                    if last < t - 1:
                        ci = zs[i] + math.pow(q[i], t - 1 - last) * (ci - zs[i])
                        catchups[kp] += 1
                    u = gate_u[i]
                    z = gate_z[i]
                    acc[i] = 0.0
                    acc[n + i] = 0.0
                    acc[2 * n + i] = 0.0
                    ct = u * z + (1.0 - u) * ci
                    if mode[i] == 0 and last == t - 1:
                        ct = ct - yp[i]
                    y = 0.0
                    if ct > theta[i]:
                        y = ct
                        if mode[i] == 1:
                            ct = ct - theta[i]
                        _emit(cur, t, kp, i, y, ev_id, ev_val, ev_n, out_step, out_id, out_val, out_n, ev_count)
                    c[i] = ct
                    tl[i] = t
                    yp[i] = y
                    updates[kp] += 1
                    if wstep[i] >= 0:
                        _unlink(i, whead, wnext, wprev, wstep)
                    if reached:
                        continue                         # computed next step anyway
                    if y != 0.0 and mode[i] == 0:
                        nxt = t + 1                      # the pending reset
                    else:
                        nxt = t + crossing(ct, zs[i], q[i], theta[i], n_steps - t)
                    if nxt < n_steps:
                        _link(i, nxt, whead, wnext, wprev, wstep)
            # this population's events of this step over delay-0 synapses
            first = ev_popstart[cur, pos]
            dense_macs = 0
            for e in range(first, ev_n[cur]):
                dense_macs += _deliver(ev_id[cur, e], ev_val[cur, e], t, n, ptr0, post0, gate0, w0, cnt0, n_pop,
                                       bptr0, b_pre_lo, b_post_lo, b_post_hi, b_post_pop, b_gate, b_woff, bw, acc,
                                       macs, tmark, tlist, tcount, offsets, unit_pop, pop_all)
            _dense(ev_id[cur, first:], ev_val[cur, first:], ev_n[cur] - first, dense_macs, par_macs, threads, n, bptr0,
                   b_pre_lo, b_post_lo, b_post_hi, b_gate, b_woff, bw, acc, unit_pop)
        ev_popstart[cur, n_pop] = ev_n[cur]
        # samples: the state after this step (silent units in closed form, their state untouched)
        for m in range(n_rec):
            i = rec_units[m]
            if tl[i] == t:
                rec_c[t, m] = c[i]
                rec_y[t, m] = yp[i]
            else:
                rec_c[t, m] = zs[i] + math.pow(q[i], t - tl[i]) * (c[i] - zs[i])
                rec_y[t, m] = 0.0
        t += 1
    return t
