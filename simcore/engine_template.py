"""The event-driven engine kernel.

This file is a template: :mod:`simcore.codegen` copies it into a module of its own for each set
of models a network uses, replacing the dispatch import below with functions that call those
models' kernels (``m_advance``, ``m_terms``, ``m_apply``, ``m_reset``, ``m_next_spike``). The
copy is compiled by Numba and cached on disk, so a network's engine is compiled once.

Algorithm (docs/semantics.md is the contract; docs/engine.md explains the design):

* A calendar queue of ``n_slots`` buckets of width ``width`` = the smallest positive synaptic
  delay. A spike emitted inside bucket k reaches its targets in bucket k + 1 or later, so inside
  one bucket every neuron can be advanced on its own, in any order.
* Queue entries: deliveries (time, target, weight, port, synapse), wakes (a neuron's predicted
  threshold crossing, or a source's next spike, valid while the neuron's version is unchanged),
  and state samples. Entries live in a pool of fixed-size chunks linked per bucket.
* A bucket is processed stage by stage (stages order populations joined by zero-delay
  projections). For each neuron touched in a stage, its entries are sorted by (time, synapse);
  for each input time it fires every threshold crossing up to that time, applies the inputs and
  takes the samples due; then it fires the crossings left in the bucket and schedules a wake at
  its next crossing, searched up to ``horizon`` ahead (if none, a wake to look again then). The
  time of that wake is remembered: an input that arrives before it needs no search.
* Spikes found in a stage are sorted by (time, neuron) and expanded through the CSR rows of
  their projections into the buckets of their arrival times. Rows are sorted by delay, so a row
  stops at the first delivery after the end of the run.
* On P threads (run_until_parts) the neurons run as P partitions, each with a queue of its own;
  a stage is one parallel region, and the calling thread merges the spikes.

A neuron that receives nothing and cannot reach threshold costs nothing after its first look.
Array layouts: see simcore/layout.py (column constants below are shared with it).
"""
import math
from collections import namedtuple

import numpy as np
from numba import prange
from simcore.jit import kernel

from simcore.crossing import E_HI, MAX_TERMS, ROOT_ROWS, eval_g, first_crossing, safe_time, tail_bound, upper_bound
from simcore.crossing import workspace as crossing_workspace
from simcore.prefetch import prefetch_row
from simcore.rng import stream_key

# --- dispatch: replaced by simcore.codegen ---
from simcore._dispatch_stub import m_advance, m_apply, m_next_spike, m_reset, m_run_stage, m_terms  # noqa: F401
# --- end dispatch ---
# the time mode, fixed per engine (simcore.codegen writes an exact and a grid copy), and whether the
# engine's models include sources: Numba takes a module global as a constant and prunes the
# branches it rules out before compiling them
GRID = False
SOURCES = True
# whether the engine is the one for threads (run_until_parts; its own engine, because the parallel
# loop and what surrounds it double a cold compile)
THREADS = False
# the index of the engine's one model that runs in run_stage (neuron or source), -1 if several
ONLY_MODEL = -1

CHUNK = 64
# how far ahead the prefetches look: group_stage, in queue entries; run_stage, in touched neurons
# (sparse benchmark network, 10^5 neurons: 0.22-0.27 s -> 0.18-0.20 s in an A/B; CUBA, whose 4000
# neurons stay in cache, unchanged; 16/8 ahead and 24 entries ahead gained nothing more)
ENTRIES_AHEAD = 8
NEURONS_AHEAD = 4
# run_stage pushes the wakes of this many neurons together, after their updates (see schedule_wakes)
WAKE_BATCH = 16
# np.int64, not int: a literal constant argument would compile push/schedule once per value
KIND_WAKE = np.int64(-1)
KIND_SAMPLE = np.int64(-2)
NEURON_KIND = 0
GENERATOR_KIND = 1
LIST_KIND = 2

# queue entry columns: qf (float64) and qi (int64)
QT, QW = 0, 1
QAUX, QTGT, QKIND, QLINK = 0, 1, 2, 3
# bucket columns of `slots`
SHEAD, STAIL, SFILL, SCOUNT = 0, 1, 2, 3
# per-neuron float columns of `nf`; a source's NEXT_SRC is its next spike, a neuron's WAKE_DUE (the
# same column) the wake run_neuron asked for, until run_stage pushes it with the rest of its batch
T_STATE, REF_UNTIL, SAFE, NEXT_SRC = 0, 1, 2, 3
WAKE_DUE = NEXT_SRC
# per-neuron int columns of `ni`
VERSION, SRC_POS, NB_HEAD = 0, 1, 2
# population columns of `pop_i`
P_OFFSET, P_MODEL, P_KIND, P_STAGE, P_RECORD, P_PROJ_LO, P_PROJ_HI = 0, 1, 2, 3, 4, 5, 6
# projection columns of `proj_i` and `proj_f`
J_PORT, J_SRC_LO, J_INDPTR, J_SYN, J_W_CONST, J_D_CONST, J_W_OFF, J_D_OFF = 0, 1, 2, 3, 4, 5, 6, 7
JF_W, JF_D = 0, 1
# counters columns
C_SPIKES, C_DELIVERIES, C_UPDATES = 0, 1, 2
# meta: int64 bookkeeping
M_FREE = 0        # head of the free chunk list (-1: none)
M_CHUNKS = 1      # chunks allocated
M_PENDING = 2     # entries in the calendar
M_BUCKET = 3      # the next bucket to process
M_SPIKES = 4      # recorded spikes in the output buffer
M_SAMPLES = 5     # samples in the output buffer
M_SVALS = 6       # sample values in the output buffer
M_DONE = 7        # 1 once nothing is left to simulate
M_STAGE = 8       # spikes found so far in the current stage
M_OVERFLOW = 9    # 1 if a neuron fired more often within one bucket than the spike buffer holds
M_THREADS = 10    # threads of the run (set by the runner, for the record)
M_SPLIT = 11      # neuron updates done by partitions (run_until_parts)
# stage_part's progress through a stage (columns of its ``state``), and what it ran short of
S_PHASE, S_NEED, S_TOUCHED, S_SAMPLES, S_MODEL, S_TI, S_DELIVERED, S_STAGE, S_ENTRIES, S_COLUMNS = \
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9
PH_GROUP, PH_RUN, PH_DONE = 0, 1, 2
NEED_NOTHING, NEED_QUEUE, NEED_ORDER, NEED_SPIKES, NEED_SAMPLES, NEED_RECORD = 0, 1, 2, 3, 4, 5
# columns of segs (models x 2): where group_stage lists each model's touched neurons in by_model
SEG_START, SEG_END = 0, 1
# a stage's partitions run on the threads from this many queue entries on (deliveries and the
# bucket's entries); below it one after the other on the calling thread, the same results (the
# earlier split's threshold, in touched neurons; not tuned again for partitions)
PAR_MIN = 128


@kernel(internal=True, refcounted=False, inline="always")
def fmax(a, b):
    return a if a > b else b


@kernel(internal=True, refcounted=False, inline="always")
def bucket_of(cfg, t):
    if GRID:
        return round(t / cfg.dt) // cfg.ticks_per_bucket
    return math.floor(t / cfg.width)


@kernel(refcounted=False, inline="always")
def bucket_start(cfg, k):
    if GRID:
        return k * cfg.ticks_per_bucket * cfg.dt
    return k * cfg.width


# ---------------------------------------------------------------------------- the queue
@kernel(refcounted=False, inline="always")    # the runner sizes the first pools with it
def chunks_needed(n_entries, n_slots):
    """Free chunks that hold ``n_entries`` appends to at most ``n_slots`` buckets (each bucket's
    last chunk may be nearly full)."""
    return (n_entries + CHUNK - 1) // CHUNK + min(n_entries, n_slots) + 1


@kernel(internal=True, refcounted=False)
def has_room(chunk_next, meta, n_entries, n_slots):
    """Whether the free list holds ``chunks_needed`` chunks."""
    need = chunks_needed(n_entries, n_slots)
    free = 0
    c = meta[M_FREE]
    while c >= 0 and free < need:
        free += 1
        c = chunk_next[c]
    return free >= need


@kernel
def reserve(q, meta, n_entries, n_slots):
    """Makes room for ``n_entries`` appends to at most ``n_slots`` buckets; returns the queue."""
    qf, qi, chunk_next = q
    if has_room(chunk_next, meta, n_entries, n_slots):
        return q
    need = chunks_needed(n_entries, n_slots)
    old = meta[M_CHUNKS]
    new = max(2 * old, old + need)
    qf2 = np.empty((new * CHUNK, 2))
    qi2 = np.empty((new * CHUNK, 4), dtype=np.int64)
    next2 = np.empty(new, dtype=np.int64)
    # element loops, not slice assignments: those compile a broadcasting error path
    for e in range(old * CHUNK):
        qf2[e, 0] = qf[e, 0]
        qf2[e, 1] = qf[e, 1]
        for c in range(4):
            qi2[e, c] = qi[e, c]
    for c in range(old):
        next2[c] = chunk_next[c]
    for c in range(old, new):
        next2[c] = c + 1 if c + 1 < new else meta[M_FREE]
    meta[M_FREE] = old
    meta[M_CHUNKS] = new
    return (qf2, qi2, next2)


@kernel(internal=True, refcounted=False)
def push(qf, qi, chunk_next, meta, slots, b, t, tgt, w, kind, aux):
    """Appends an entry to bucket b of the ring (room must have been reserved)."""
    if slots[b, STAIL] < 0 or slots[b, SFILL] == CHUNK:
        c = meta[M_FREE]
        meta[M_FREE] = chunk_next[c]
        chunk_next[c] = -1
        if slots[b, STAIL] < 0:
            slots[b, SHEAD] = c
        else:
            chunk_next[slots[b, STAIL]] = c
        slots[b, STAIL] = c
        slots[b, SFILL] = 0
    e = slots[b, STAIL] * CHUNK + slots[b, SFILL]
    slots[b, SFILL] += 1
    slots[b, SCOUNT] += 1
    meta[M_PENDING] += 1
    qf[e, QT] = t
    qf[e, QW] = w
    qi[e, QAUX] = aux
    qi[e, QTGT] = tgt
    qi[e, QKIND] = kind


@kernel(internal=True, refcounted=False)
def schedule(cfg, qf, qi, chunk_next, meta, slots, k, t, tgt, w, kind, aux):
    """Pushes an entry for time t into its bucket (after bucket k), or into the farthest bucket
    the ring can hold if t lies beyond it (the entry is pushed on when that bucket comes)."""
    b = bucket_of(cfg, t)
    if b <= k:
        b = k + 1
    if b > k + cfg.n_slots - 2:
        b = k + cfg.n_slots - 2
    push(qf, qi, chunk_next, meta, slots, b & (cfg.n_slots - 1), t, tgt, w, kind, aux)


@kernel(internal=True, refcounted=False)
def release(chunk_next, meta, slots, b):
    """Returns the chunks of bucket b to the free list."""
    if slots[b, SHEAD] >= 0:
        chunk_next[slots[b, STAIL]] = meta[M_FREE]
        meta[M_FREE] = slots[b, SHEAD]
    meta[M_PENDING] -= slots[b, SCOUNT]
    slots[b, SHEAD] = -1
    slots[b, STAIL] = -1
    slots[b, SFILL] = 0
    slots[b, SCOUNT] = 0


@kernel
def grow_f(a, need):
    if need <= a.size:
        return a
    b = np.empty(max(need, 2 * a.size + 16))
    for x in range(a.size):
        b[x] = a[x]
    return b


@kernel
def grow_i(a, need):
    if need <= a.size:
        return a
    b = np.empty(max(need, 2 * a.size + 16), dtype=a.dtype)
    for x in range(a.size):
        b[x] = a[x]
    return b


# ---------------------------------------------------------------------------- one neuron
@kernel(internal=True, refcounted=False, inline="always")
def terms_at(mid, sv, pv, i0, start, t_state, ref_until, scratch, rate, a, b):
    """Threshold terms of neuron j taken at ``start`` (>= its state time): from its state row,
    or from a copy advanced to ``start`` (the state itself must not run ahead of inputs that
    may still arrive)."""
    if start <= t_state:
        return m_terms(mid, sv, pv, i0, rate, a, b)
    for c in range(sv.shape[1]):
        scratch[i0, c] = sv[i0, c]
    m_advance(mid, scratch, pv, i0, t_state, start, ref_until)
    return m_terms(mid, scratch, pv, i0, rate, a, b)


@kernel(internal=True, refcounted=False)
def first_grid_point(dt, n, rate, a, b, start, p_first, p_last, lv, lc, lr):
    """First grid point p in [p_first, p_last] with g(t_p) > 0 (g's terms taken at time
    ``start``); -1 if none."""
    x_hi = p_last * dt - start
    p_min = p_first
    while p_min <= p_last:
        x_lo = fmax((p_min - 1) * dt - start, 0.0)
        x = first_crossing(n, rate, a, b, x_lo, x_hi, lv, lc, lr)
        if math.isinf(x):
            return -1
        p = int(math.ceil((start + x) / dt - 1e-9))
        if p < p_min:
            p = p_min
        if p > p_last:
            return -1
        if eval_g(n, rate, a, b, p * dt - start) > 0.0:
            return p
        p_min = p + 1
    return -1


@kernel(internal=True, refcounted=False)
def emit(spk_t, spk_i, meta, t, j):
    n = meta[M_STAGE]
    if n >= spk_t.size:
        meta[M_OVERFLOW] = 1  # reported by the runner; the run stops at the end of this bucket
        return
    spk_t[n] = t
    spk_i[n] = j
    meta[M_STAGE] = n + 1


@kernel(internal=True, refcounted=False)
def reset_neuron(cfg, mid, sv, pv, i0, nf, j, t_sp):
    """Applies the model's reset at t_sp and starts the refractory period."""
    t_ref = m_reset(mid, sv, pv, i0)
    if GRID:
        # held at the reset value up to point p - 1 + R, R = Brian2's timestep(t_ref)
        # (as integer * dt, like every grid time, so that comparisons with input times are exact)
        r = int((t_ref + 1e-3 * cfg.dt) / cfg.dt)
        nf[j, REF_UNTIL] = (round(t_sp / cfg.dt) + r - 1) * cfg.dt
    else:
        nf[j, REF_UNTIL] = t_sp + t_ref


@kernel(internal=True, refcounted=False)
def fire_until(cfg, mid, sv, pv, i0, nf, j, t_lim, defer_at_limit, spk_t, spk_i, meta,
               scratch, rate, a, b, lv, lc, lr):
    """Fires every threshold crossing of neuron j up to and including t_lim, with no input in
    between. Returns 1 if it fired exactly at t_lim; then, if ``defer_at_limit``, the reset is
    left to the caller (Brian2 resets after the inputs of the same step)."""
    while True:
        t_state = nf[j, T_STATE]
        ref = nf[j, REF_UNTIL]
        start = fmax(t_state, ref)
        if GRID:
            m0 = round(start / cfg.dt)
            p_last = round(t_lim / cfg.dt)
            if m0 + 1 > p_last:
                return 0
            n = terms_at(mid, sv, pv, i0, m0 * cfg.dt, t_state, ref, scratch, rate, a, b)
            p = first_grid_point(cfg.dt, n, rate, a, b, m0 * cfg.dt, m0 + 1, p_last, lv, lc, lr)
            if p < 0:
                return 0
            t_sp = p * cfg.dt
        else:
            if start > t_lim:
                return 0
            n = terms_at(mid, sv, pv, i0, start, t_state, ref, scratch, rate, a, b)
            x = first_crossing(n, rate, a, b, 0.0, t_lim - start, lv, lc, lr)
            if math.isinf(x):
                return 0
            t_sp = start + x
            if t_sp > t_lim:
                return 0
        m_advance(mid, sv, pv, i0, t_state, t_sp, ref)
        nf[j, T_STATE] = t_sp
        emit(spk_t, spk_i, meta, t_sp, j)
        at_limit = t_sp == t_lim
        if not (at_limit and defer_at_limit):
            reset_neuron(cfg, mid, sv, pv, i0, nf, j, t_sp)
        if at_limit:
            return 1


@kernel(internal=True, refcounted=False, inline="always")    # one caller; a call costs ~20 % of CUBA's run
def predict(cfg, mid, sv, pv, i0, nf, j, k, spk_t, spk_i, meta, scratch, rate, a, b, lv, lc, lr):
    """Fires neuron j's crossings left in bucket k; returns the time of its next wake (its next
    crossing, or when to look again), inf if it cannot reach threshold without input. Sets the
    neuron's safe time: no crossing happens before it unless an input arrives."""
    while True:
        t_state = nf[j, T_STATE]
        ref = nf[j, REF_UNTIL]
        start = fmax(t_state, ref)
        if GRID:
            start = round(start / cfg.dt) * cfg.dt
        n = terms_at(mid, sv, pv, i0, start, t_state, ref, scratch, rate, a, b)
        if upper_bound(n, rate, a, b, 0.0, math.inf, lr[E_HI]) < 0.0:
            nf[j, SAFE] = math.inf
            return math.inf
        end = bucket_start(cfg, k + 1)
        x_safe = safe_time(n, rate, a, b)
        if start + x_safe > end:
            # no crossing in this bucket (slope and curvature bounds): look again at the bound,
            # without any exponential; the search waits for a wake that is not stale
            t_w = start + x_safe
            if GRID:
                t_w = math.floor(t_w / cfg.dt) * cfg.dt
            nf[j, SAFE] = t_w
            return t_w
        hi = fmax(end - start, 0.0) + cfg.horizon
        if GRID:
            m0 = round(start / cfg.dt)
            p_last = round((start + hi) / cfg.dt)
            p = first_grid_point(cfg.dt, n, rate, a, b, start, m0 + 1, p_last, lv, lc, lr)
            t_c = p * cfg.dt if p >= 0 else math.inf
            t_look = p_last * cfg.dt      # searched up to here
        else:
            t_c = start + first_crossing(n, rate, a, b, 0.0, hi, lv, lc, lr)
            t_look = start + hi
        if not math.isinf(t_c):
            t_w = t_c
        elif (upper_bound(n, rate, a, b, t_look - start, math.inf, lr[E_HI]) if GRID else
              tail_bound(n, rate, a, b, lr[E_HI])) < 0.0:   # exact: first_crossing's e^{-r_k hi}
            # none up to t_look and g bounded below zero after it: none ever, so no wake (with
            # sparse input, a neuron left near threshold would otherwise look again every horizon)
            t_w = math.inf
        else:
            t_w = t_look
        if not math.isinf(t_c) and bucket_of(cfg, t_c) <= k and t_c < cfg.t_end:
            m_advance(mid, sv, pv, i0, t_state, t_c, ref)
            nf[j, T_STATE] = t_c
            emit(spk_t, spk_i, meta, t_c, j)
            reset_neuron(cfg, mid, sv, pv, i0, nf, j, t_c)
            continue
        nf[j, SAFE] = t_w
        return t_w


@kernel(internal=True, refcounted=False)
def take_sample(cfg, k, j, r, t, changed, q, slots, meta, sv, pv, i0, nf, mid, spk_t, spk_i, ws, smp, n_s, n_v,
                rec_group, rec_every, rec_var_ptr, rec_vars):
    """Samples neuron j's state at t (after firing its crossings up to t) for sampling slot r;
    returns the next sample if it falls in bucket k (time, slot; else inf, -1, after
    scheduling it) and the updated sample counts."""
    qf, qi, chunk_next = q
    scratch, rate, a, b, lv, lc, lr = ws
    out_sr, out_st, out_sv = smp
    if t >= nf[j, SAFE] or changed:
        no_defer = np.bool_(False)   # not a literal: that would compile fire_until twice
        fire_until(cfg, mid, sv, pv, i0, nf, j, t, no_defer, spk_t, spk_i, meta, scratch, rate, a, b, lv, lc, lr)
    m_advance(mid, sv, pv, i0, nf[j, T_STATE], t, nf[j, REF_UNTIL])
    if t > nf[j, T_STATE]:
        nf[j, T_STATE] = t
    g = rec_group[r]
    out_sr[n_s] = r
    out_st[n_s] = t
    n_s += 1
    for vi in range(rec_var_ptr[g], rec_var_ptr[g + 1]):
        out_sv[n_v] = sv[i0, rec_vars[vi]]
        n_v += 1
    t_next = next_sample_time(cfg, t, rec_every[g])
    if t_next >= cfg.t_end - (cfg.dt if GRID else 0.0):
        return math.inf, -1, n_s, n_v
    if bucket_of(cfg, t_next) <= k:
        return t_next, r, n_s, n_v
    schedule(cfg, qf, qi, chunk_next, meta, slots, k, t_next, j, 0.0, KIND_SAMPLE, r)
    return math.inf, -1, n_s, n_v


@kernel(internal=True, refcounted=False, inline="always")
def run_neuron(cfg, net, j, k, order, n_ent, q, slots, meta, st, nf, ni, mid, spk_t, spk_i, ws, smp, n_s, n_v,
               counters, pop):
    """Processes neuron j's entries in bucket k (sorted in ``order``); returns the updated
    sample counts (n_s, n_v) and the time of the neuron's new wake (inf: none, or its pending
    one stays valid), which the caller schedules. ``ws`` is the solver workspace, ``smp`` the
    sample buffers."""
    qf, qi, chunk_next = q
    scratch, rate, a, b, lv, lc, lr = ws
    out_sr, out_st, out_sv = smp
    # the kernels see one-row views: the neuron's state, and its parameter row (shared by a whole
    # population whose parameters are uniform, so it stays in cache); i0 is a variable because a
    # literal 0 would make Numba compile every kernel a second time
    sv = st[j:j + 1]
    pv = net.params[net.prow[j]:net.prow[j] + 1]
    i0 = j * 0
    jumps = net.model_jumps[mid]
    # exact mode keeps the pending wake when nothing could have brought a crossing earlier
    keep = not GRID and net.model_lowered[mid]
    n_spikes = meta[M_STAGE]
    rec_group, rec_every, rec_var_ptr, rec_vars = net.rec_group, net.rec_every, net.rec_var_ptr, net.rec_vars
    x = 0
    changed = False
    pend_t = math.inf     # the sample due next in this bucket (a neuron is in one record entry at most)
    pend_r = x - 1        # -1, as a variable: a literal would compile take_sample a second time
    while True:
        while x < n_ent and qi[order[x], QKIND] == KIND_WAKE:
            keep = False   # the pending wake is this one (group_stage dropped stale ones)
            x += 1
        if x < n_ent and qi[order[x], QKIND] == KIND_SAMPLE:
            e = order[x]
            x += 1
            if bucket_of(cfg, qf[e, QT]) > k:
                # a sample beyond the ring's reach, parked in this bucket: push it on
                schedule(cfg, qf, qi, chunk_next, meta, slots, k, qf[e, QT], j, 0.0, KIND_SAMPLE, qi[e, QAUX])
            else:
                pend_t = qf[e, QT]
                pend_r = qi[e, QAUX]
            continue
        t_x = qf[order[x], QT] if x < n_ent else math.inf
        if pend_t < t_x:
            # the state after everything at pend_t (inputs at the same time come first)
            pend_t, pend_r, n_s, n_v = take_sample(cfg, k, j, pend_r, pend_t, changed, q, slots, meta, sv, pv, i0,
                                                   nf, mid, spk_t, spk_i, ws, smp, n_s, n_v, rec_group, rec_every,
                                                   rec_var_ptr, rec_vars)
            continue
        if x >= n_ent:
            break
        # the inputs arriving at t_x
        t_in = t_x
        if t_in < nf[j, T_STATE]:
            t_in = nf[j, T_STATE]   # a rounding-level overlap across a bucket boundary
        spiked = 0
        if t_in >= nf[j, SAFE] or changed:
            spiked = fire_until(cfg, mid, sv, pv, i0, nf, j, t_in, np.bool_(GRID), spk_t, spk_i, meta,
                                scratch, rate, a, b, lv, lc, lr)
        ref = nf[j, REF_UNTIL]
        m_advance(mid, sv, pv, i0, nf[j, T_STATE], t_in, ref)
        nf[j, T_STATE] = t_in
        if GRID:
            refractory = spiked == 1 or t_in <= ref
        else:
            refractory = spiked == 1 or t_in < ref
        while x < n_ent and qi[order[x], QKIND] >= 0 and qf[order[x], QT] == t_x:
            f = order[x]
            m_apply(mid, sv, pv, i0, qi[f, QKIND], qf[f, QW], refractory)
            if qf[f, QW] > 0.0:
                keep = False
            counters[pop, C_DELIVERIES] += 1
            x += 1
        changed = True
        if spiked == 1 and GRID:
            reset_neuron(cfg, mid, sv, pv, i0, nf, j, t_in)
        elif jumps and not GRID and not refractory:
            n = m_terms(mid, sv, pv, i0, rate, a, b)
            if eval_g(n, rate, a, b, 0.0) >= 0.0:
                emit(spk_t, spk_i, meta, t_in, j)
                reset_neuron(cfg, mid, sv, pv, i0, nf, j, t_in)
    if keep and meta[M_STAGE] == n_spikes and nf[j, SAFE] > bucket_start(cfg, k + 1):
        # not woken, only inputs of weight <= 0 (or samples), no spike, and the pending wake (at
        # SAFE) lies beyond this bucket: it stays valid, since those inputs only delay crossings
        return n_s, n_v, math.inf
    ni[j, VERSION] += 1
    t_w = predict(cfg, mid, sv, pv, i0, nf, j, k, spk_t, spk_i, meta, scratch, rate, a, b, lv, lc, lr)
    return n_s, n_v, t_w


@kernel(internal=True, refcounted=False, inline="always")
def next_sample_time(cfg, t, every):
    if GRID:
        return (round(t / cfg.dt) + round(every / cfg.dt)) * cfg.dt
    return (round(t / every) + 1) * every


# ---------------------------------------------------------------------------- sources
@kernel(internal=True, refcounted=False)
def next_source_time(cfg, sv, pv, i0, pop_i, pop_key, neuron_pop, src_ptr, src_times, ni, j, t_prev):
    """Event time of source j's next spike after the one at t_prev (-inf: its first)."""
    pop = neuron_pop[j]
    if pop_i[pop, P_KIND] == LIST_KIND:
        i = ni[j, SRC_POS]
        if src_ptr[j] + i >= src_ptr[j + 1]:
            return math.inf
        ni[j, SRC_POS] = i + 1
        return src_times[src_ptr[j] + i]
    key = stream_key(pop_key[pop], j - pop_i[pop, P_OFFSET])
    mid = pop_i[pop, P_MODEL]
    if GRID:
        prev = -math.inf if t_prev == -math.inf else t_prev - cfg.dt     # its recorded time t_n
        return m_next_spike(mid, sv, pv, i0, prev, key, cfg.dt) + cfg.dt  # acts at point n + 1
    return m_next_spike(mid, sv, pv, i0, t_prev, key, 0.0)


@kernel(internal=True, refcounted=False)
def run_source(cfg, j, k, qf, qi, chunk_next, slots, meta, sv, pv, i0, pop_i, pop_key, neuron_pop, src_ptr,
               src_times, nf, ni, spk_t, spk_i):
    """Emits source j's spikes that fall in bucket k and schedules a wake for its next one."""
    while True:
        t = nf[j, NEXT_SRC]
        if math.isinf(t) or t >= cfg.t_end:
            return
        if bucket_of(cfg, t) > k:
            schedule(cfg, qf, qi, chunk_next, meta, slots, k, t, j, 0.0, KIND_WAKE, ni[j, VERSION])
            return
        emit(spk_t, spk_i, meta, t, j)
        nf[j, NEXT_SRC] = next_source_time(cfg, sv, pv, i0, pop_i, pop_key, neuron_pop, src_ptr, src_times, ni,
                                           j, t)


# ---------------------------------------------------------------------------- the run
@kernel
def start(cfg, net, st, nf, ni, q, meta, slots, lo, hi):
    """Schedules the first look of every neuron lo <= j < hi, every source's first spike among
    them and every first sample of theirs."""
    n_rec = net.rec_neuron.size
    q = reserve(q, meta, hi - lo + n_rec, cfg.n_slots)
    qf, qi, chunk_next = q
    for j in range(lo, hi):
        pop = net.neuron_pop[j]
        if SOURCES and net.pop_i[pop, P_KIND] != NEURON_KIND:
            i0 = j * 0
            t = next_source_time(cfg, st[j:j + 1], net.params[net.prow[j]:net.prow[j] + 1], i0, net.pop_i,
                                 net.pop_key, net.neuron_pop, net.src_ptr, net.src_times, ni, j, -math.inf)
            nf[j, NEXT_SRC] = t
            if t < cfg.t_end:
                schedule(cfg, qf, qi, chunk_next, meta, slots, np.int64(-1), t, j, 0.0, KIND_WAKE, ni[j, VERSION])
        else:
            push(qf, qi, chunk_next, meta, slots, np.int64(0), 0.0, j, 0.0, KIND_WAKE, ni[j, VERSION])
    for r in range(n_rec):
        if lo <= net.rec_neuron[r] < hi:
            push(qf, qi, chunk_next, meta, slots, np.int64(0), 0.0, np.int64(net.rec_neuron[r]), 0.0, KIND_SAMPLE, r)
    return q


@kernel(refcounted=False)
def run_buckets(cfg, net, st, nf, ni, q, meta, slots, by_model, segs, work, out, counters, ws, state, t_stop):
    """Processes buckets while they start before t_stop (meta[M_DONE] 1 at the end), or until a
    buffer runs short: returns NEED_NOTHING, or what must grow (the caller grows it and calls
    again; ``state`` says where to go on: state[S_STAGE] the stage, state[S_PHASE] its phase,
    state[S_ENTRIES] the queue entries to make room for).

    ``work`` = (stage spike times, stage spike neurons, sorting buffer); ``out`` = (recorded
    spike times, neurons, sample slots, sample times, sample values); ``ws`` the solver
    workspace. Nothing here allocates, so Numba emits no reference counting: in the function
    that grew the buffers in the loop itself every tuple taken apart and every array taken from
    ``net`` counted up and down, about 1 us per bucket (docs/engine.md)."""
    spk_t, spk_i, order = work
    k = meta[M_BUCKET]
    while True:
        slot = k & (cfg.n_slots - 1)
        if state[S_STAGE] == 0 and state[S_PHASE] == PH_GROUP:
            # a bucket not begun yet
            t0 = bucket_start(cfg, k)
            if t0 >= cfg.t_end or meta[M_PENDING] == 0:
                meta[M_DONE] = 1
                break
            if t0 >= t_stop:
                break
            if slots[slot, SCOUNT] == 0:
                k += 1
                continue
        while state[S_STAGE] < cfg.n_stages:
            stage_part(cfg, net, st, nf, ni, q, meta, slots, by_model, segs, order, spk_t, spk_i, out, counters, ws,
                       k, slot, state[S_STAGE], state)
            need = state[S_NEED]
            if need == NEED_NOTHING and meta[M_STAGE] > 0:
                need = deliver(cfg, net, q, meta, slots, spk_t, spk_i, k, out, counters, state)
            if need != NEED_NOTHING:
                meta[M_BUCKET] = k
                return need
            state[S_STAGE] += 1
            state[S_PHASE] = PH_GROUP
        state[S_STAGE] = 0
        release(q[2], meta, slots, slot)
        k += 1
        if meta[M_OVERFLOW]:
            break
    meta[M_BUCKET] = k
    return NEED_NOTHING


@kernel(inline="always")
def workspace(n_state):
    """A scratch state row, the threshold terms' rows and the crossing solver's workspace."""
    lv, lc, lr = crossing_workspace()
    return (np.empty((1, max(n_state, 1))), np.empty(MAX_TERMS), np.empty(MAX_TERMS), np.empty(MAX_TERMS), lv, lc, lr)


@kernel(internal=True, refcounted=False, inline="always")
def stage_part(cfg, net, st, nf, ni, q, meta, slots, by_model, segs, order, spk_t, spk_i, out, counters, ws,
               k, slot, stage, state):
    """Stage ``stage`` of bucket k for the neurons whose entries are in this queue (all of them,
    or one partition's), from where ``state`` says it stopped: groups the entries per neuron,
    then runs the touched neurons model by model. Stops early when a buffer is short, with
    state[S_NEED] saying which, for the caller to grow it and call again: this function does
    not allocate."""
    state[S_NEED] = NEED_NOTHING
    if state[S_PHASE] == PH_GROUP:
        if order.size < slots[slot, SCOUNT]:
            state[S_NEED] = NEED_ORDER      # zero delays add entries
            return
        n_touched, n_samples = group_stage(cfg, net, st, nf, ni, q, meta, slots, by_model, segs, k, slot, stage)
        state[S_TOUCHED] = n_touched
        state[S_SAMPLES] = n_samples
        state[S_MODEL] = 0
        state[S_TI] = 0
        state[S_PHASE] = PH_RUN
    if state[S_PHASE] == PH_RUN and state[S_TOUCHED] > 0:
        n_samples = state[S_SAMPLES]
        # room: one wake per touched neuron, and the samples (and next samples) due
        if not has_room(q[2], meta, state[S_TOUCHED] + n_samples, cfg.n_slots):
            state[S_NEED] = NEED_QUEUE
            state[S_ENTRIES] = state[S_TOUCHED] + n_samples
            return
        if out[2].size < meta[M_SAMPLES] + n_samples or out[4].size < meta[M_SVALS] + n_samples * max(st.shape[1], 1):
            state[S_NEED] = NEED_SAMPLES
            return
        for mid in range(state[S_MODEL], segs.shape[0]):
            hi = segs[mid, SEG_END]
            ti = max(state[S_TI], segs[mid, SEG_START])
            if ti < hi:
                ti = m_run_stage(mid, cfg, net, st, nf, ni, q, meta, slots, by_model, ti, hi, spk_t, spk_i, order,
                                 out, counters, k, ws)
                if ti < hi:
                    state[S_MODEL] = mid
                    state[S_TI] = ti
                    state[S_NEED] = NEED_SPIKES   # the stage's spike buffer ran low
                    return
    state[S_PHASE] = PH_DONE


# ---------------------------------------------------------------------------- partitions (threads)
# On P threads the neurons are split into P consecutive blocks (Parts.bounds), each with a calendar
# queue of its own (row p of every Parts array). A stage is one parallel region: each partition
# pushes the deliveries of the spikes found last to its own neurons, then groups and runs its
# share of the stage; then the calling thread merges the partitions' spikes, sorts them by (time,
# neuron) and records them. A neuron's entries, and so everything it computes, are the same as on
# one thread: results do not depend on the number of threads. Each partition reads only the
# synapses onto its own neurons: for a run on partitions simcore.layout groups each CSR row by the
# target's partition (Layout.syn_ptr; by delay within a group), which keeps every comparison of
# synapse indices between two synapses onto one neuron, and so the order of simultaneous inputs.
Parts = namedtuple("Parts", "bounds syn_ptr qf qi cn meta slots by_model segs state order spk_t spk_i out_sr "
                            "out_st out_sv counters ws_scratch ws_rate ws_a ws_b ws_lv ws_lc ws_lr")
# Parts.meta, .segs and .counters rows are padded by 128 bytes or more: two threads writing into one
# cache line would take turns owning it
META_PAD = 16


@kernel(parallel=True)
def parts_region(cfg, net, st, nf, ni, bounds, syn_ptr, qf, qi, cn, meta, slots, by_model, segs, state, order, spk_t,
                 spk_i, out_sr, out_st, out_sv, counters, ws_scratch, ws_rate, ws_a, ws_b, ws_lv, ws_lc, ws_lr, srt_t,
                 srt_i, n_sp, k_del, k, stage, no_f, no_i):
    """part_work for every partition, partition p on a thread of its own (flat arguments: a
    parallel loop cannot take a tuple inside a tuple)."""
    for p in prange(bounds.size - 1):
        part_work(cfg, net, st, nf, ni, syn_ptr, p, qf[p], qi[p], cn[p], meta[p], slots[p], by_model[p],
                  segs[p], state[p], order[p], spk_t[p], spk_i[p], out_sr[p], out_st[p], out_sv[p],
                  counters[p], ws_scratch[p], ws_rate[p], ws_a[p], ws_b[p], ws_lv[p], ws_lc[p], ws_lr[p], srt_t, srt_i,
                  n_sp, k_del, k, stage, no_f, no_i)


@kernel(internal=True, refcounted=False)
def part_work(cfg, net, st, nf, ni, syn_ptr, p, qf, qi, cn, meta, slots, by_model, segs, state, order, spk_t,
              spk_i, out_sr, out_st, out_sv, counters, scratch, rate, a, b, lv, lc, lr, srt_t, srt_i, n_sp, k_del, k,
              stage, no_f, no_i):
    """Partition p's part of a region: the deliveries of the spikes srt[:n_sp] (found in
    bucket k_del) to its neurons, then (k >= 0) its share of stage ``stage`` of bucket k, each
    from where ``state`` says it stopped. The workspace rows are cut to run_buckets' shapes (the
    rest of each row is padding)."""
    q = (qf, qi, cn)
    if state[S_DELIVERED] == 0:
        push_deliveries(cfg, net, q, meta, slots, srt_t, srt_i, n_sp, k_del, syn_ptr, p)
        state[S_DELIVERED] = 1
    if k >= 0 and state[S_PHASE] != PH_DONE:
        ws = (scratch[:1], rate[:MAX_TERMS], a[:MAX_TERMS], b[:MAX_TERMS], lv[:3], lc[:MAX_TERMS + 1], lr[:ROOT_ROWS])
        stage_part(cfg, net, st, nf, ni, q, meta, slots, by_model, segs, order, spk_t, spk_i,
                   (no_f, no_i, out_sr, out_st, out_sv), counters, ws, k, k & (cfg.n_slots - 1), stage,
                   state)


@kernel(refcounted=False)
def region(cfg, net, st, nf, ni, pa, srt_t, srt_i, n_sp, n_del, k_del, k, stage, no_f, no_i):
    """The partitions' work (part_work) in one parallel region, or one after the other on this
    thread when there is little of it (``n_del`` deliveries and the entries of bucket k fewer than
    PAR_MIN: starting the threads would cost more). Returns whether a partition ran short of
    something (state[p, S_NEED]): the caller grows it (grow_parts) and calls again, and the
    partitions done return at once. Without reference counting: this runs for every bucket, and
    counting the 24 arrays of Parts up and down was a good part of the calling thread's serial
    work on CUBA."""
    work = n_del
    if k >= 0:
        for p in range(pa.bounds.size - 1):
            work += pa.slots[p, k & (cfg.n_slots - 1), SCOUNT]
    if work >= PAR_MIN:
        parts_region(cfg, net, st, nf, ni, pa.bounds, pa.syn_ptr, pa.qf, pa.qi, pa.cn, pa.meta, pa.slots,
                     pa.by_model, pa.segs, pa.state, pa.order, pa.spk_t, pa.spk_i, pa.out_sr, pa.out_st, pa.out_sv,
                     pa.counters, pa.ws_scratch, pa.ws_rate, pa.ws_a, pa.ws_b, pa.ws_lv, pa.ws_lc, pa.ws_lr, srt_t,
                     srt_i, n_sp, k_del, k, stage, no_f, no_i)
    else:
        for p in range(pa.bounds.size - 1):
            part_work(cfg, net, st, nf, ni, pa.syn_ptr, p, pa.qf[p], pa.qi[p], pa.cn[p],
                      pa.meta[p], pa.slots[p], pa.by_model[p], pa.segs[p], pa.state[p], pa.order[p],
                      pa.spk_t[p], pa.spk_i[p], pa.out_sr[p], pa.out_st[p], pa.out_sv[p], pa.counters[p],
                      pa.ws_scratch[p], pa.ws_rate[p], pa.ws_a[p], pa.ws_b[p], pa.ws_lv[p], pa.ws_lc[p],
                      pa.ws_lr[p], srt_t, srt_i, n_sp, k_del, k, stage, no_f, no_i)
    for p in range(pa.state.shape[0]):
        if pa.state[p, S_NEED] != NEED_NOTHING:
            return True
    return False


@kernel
def grow_parts(cfg, pa, k, n_state):
    """Grows what each partition ran short of (state[p, S_NEED]); every partition's row grows
    alike. Returns the parts."""
    qf, qi, cn, order, spk_t, spk_i = pa.qf, pa.qi, pa.cn, pa.order, pa.spk_t, pa.spk_i
    out_sr, out_st, out_sv = pa.out_sr, pa.out_st, pa.out_sv
    slot = k & (cfg.n_slots - 1)
    for p in range(pa.state.shape[0]):
        need = pa.state[p, S_NEED]
        n_smp = pa.state[p, S_SAMPLES]
        if need == NEED_QUEUE:
            qf, qi, cn = reserve_part(qf, qi, cn, pa.meta, p, pa.state[p, S_ENTRIES], cfg.n_slots)
        elif need == NEED_ORDER:
            order = grow_rows_i(order, pa.slots[p, slot, SCOUNT])
        elif need == NEED_SPIKES:
            spk_t = grow_rows_f(spk_t, 2 * spk_t.shape[1] + 256)
            spk_i = grow_rows_i(spk_i, 2 * spk_i.shape[1] + 256)
        elif need == NEED_SAMPLES:
            out_sr = grow_rows_i(out_sr, pa.meta[p, M_SAMPLES] + n_smp)
            out_st = grow_rows_f(out_st, pa.meta[p, M_SAMPLES] + n_smp)
            out_sv = grow_rows_f(out_sv, pa.meta[p, M_SVALS] + n_smp * max(n_state, 1))
    return Parts(pa.bounds, pa.syn_ptr, qf, qi, cn, pa.meta, pa.slots, pa.by_model, pa.segs, pa.state, order, spk_t,
                 spk_i, out_sr, out_st, out_sv, pa.counters, pa.ws_scratch, pa.ws_rate, pa.ws_a, pa.ws_b, pa.ws_lv,
                 pa.ws_lc, pa.ws_lr)


@kernel(internal=True, refcounted=False)
def parts_have_room(cfg, cn, pmeta, n_entries):
    """Whether every partition's queue has room for ``n_entries`` appends (reserve_deliveries
    has nothing to do): checked first because building a new Parts for every bucket, 24 arrays
    counted up and down, is a good part of the calling thread's serial work on CUBA."""
    for p in range(cn.shape[0]):
        if not has_room(cn[p], pmeta[p], n_entries, cfg.n_slots):
            return False
    return True


@kernel
def reserve_deliveries(cfg, pa, n_del):
    """Room in every partition's queue for ``n_del`` deliveries; returns the parts."""
    qf, qi, cn = pa.qf, pa.qi, pa.cn
    for p in range(qf.shape[0]):
        qf, qi, cn = reserve_part(qf, qi, cn, pa.meta, p, n_del, cfg.n_slots)
    return Parts(pa.bounds, pa.syn_ptr, qf, qi, cn, pa.meta, pa.slots, pa.by_model, pa.segs, pa.state, pa.order,
                 pa.spk_t, pa.spk_i, pa.out_sr, pa.out_st, pa.out_sv, pa.counters, pa.ws_scratch, pa.ws_rate, pa.ws_a,
                 pa.ws_b, pa.ws_lv, pa.ws_lc, pa.ws_lr)


@kernel
def reserve_part(qf, qi, cn, pmeta, p, n_entries, n_slots):
    """reserve for partition p of the stacked queues: if its free list is short, every
    partition's pool grows to the same new size (the new chunks put in front of each free list).
    Returns the queues."""
    if has_room(cn[p], pmeta[p], n_entries, n_slots):
        return qf, qi, cn
    parts = qf.shape[0]
    old = cn.shape[1]
    new = max(2 * old, old + chunks_needed(n_entries, n_slots))
    qf2 = np.empty((parts, new * CHUNK, 2))
    qi2 = np.empty((parts, new * CHUNK, 4), dtype=np.int64)
    cn2 = np.empty((parts, new), dtype=np.int64)
    for c in range(parts):
        for e in range(old * CHUNK):
            qf2[c, e, 0] = qf[c, e, 0]
            qf2[c, e, 1] = qf[c, e, 1]
            for x in range(4):
                qi2[c, e, x] = qi[c, e, x]
        for x in range(old):
            cn2[c, x] = cn[c, x]
        for x in range(old, new):
            cn2[c, x] = x + 1 if x + 1 < new else pmeta[c, M_FREE]
        pmeta[c, M_FREE] = old
        pmeta[c, M_CHUNKS] = new
    return qf2, qi2, cn2


@kernel
def grow_rows_f(a, need):
    """a (rows x n) with n >= need, the rows' contents kept."""
    if need <= a.shape[1]:
        return a
    b = np.empty((a.shape[0], max(need, 2 * a.shape[1] + 16)))
    for r in range(a.shape[0]):
        for x in range(a.shape[1]):
            b[r, x] = a[r, x]
    return b


@kernel
def grow_rows_i(a, need):
    if need <= a.shape[1]:
        return a
    b = np.empty((a.shape[0], max(need, 2 * a.shape[1] + 16)), dtype=a.dtype)
    for r in range(a.shape[0]):
        for x in range(a.shape[1]):
            b[r, x] = a[r, x]
    return b


@kernel(internal=True, refcounted=False)
def staged_spikes(meta, pmeta):
    """How many spikes the partitions found in the last stage (and meta[M_OVERFLOW] set when a
    partition's spike log overflowed)."""
    n_sp = 0
    for p in range(pmeta.shape[0]):
        n_sp += pmeta[p, M_STAGE]
        if pmeta[p, M_OVERFLOW]:
            meta[M_OVERFLOW] = 1
    return n_sp


@kernel(internal=True, refcounted=False)
def merge_into(cfg, net, pmeta, spk_t, spk_i, meta, srt_t, srt_i, out_t, out_i, counters, n_sp):
    """The n_sp spikes the partitions found in a stage, sorted by (time, neuron) into
    srt[:n_sp] (srt[n_sp:2 n_sp] the sort's scratch), counted and recorded into out (room for
    them checked by the caller). Without reference counting and without the Parts tuple: it runs
    for every stage of every bucket, and the merge that took Parts, net, work and out counted
    each of their arrays up and down every time (CUBA on 2 threads, perf, 40 runs, this and
    run_until_parts taking its arrays out of their tuples once, together: NRT_incref and
    NRT_decref 3287 samples of the calling thread, 835 after)."""
    o = 0
    for p in range(pmeta.shape[0]):
        for x in range(pmeta[p, M_STAGE]):
            srt_t[o] = spk_t[p, x]
            srt_i[o] = spk_i[p, x]
            o += 1
        pmeta[p, M_STAGE] = 0
    if n_sp > 0:
        sort_spikes(srt_t[:n_sp], srt_i[:n_sp], srt_t[n_sp:2 * n_sp], srt_i[n_sp:2 * n_sp])
        record_spikes(cfg, net, meta, srt_t, srt_i, n_sp, out_t, out_i, counters)


@kernel
def grow_merge(meta, n_sp, work, out):
    """work and out with room for merge_into of n_sp spikes."""
    srt_t, srt_i = work
    out_t, out_i, out_sr, out_st, out_sv = out
    return ((grow_f(srt_t, 2 * n_sp), grow_i(srt_i, 2 * n_sp)),
            (grow_f(out_t, meta[M_SPIKES] + n_sp), grow_i(out_i, meta[M_SPIKES] + n_sp), out_sr, out_st, out_sv))


@kernel
def run_until_parts(cfg, net, st, nf, ni, parts, meta, work, out, counters, t_stop):
    """run_buckets with the neurons split into partitions, each on a thread of its own (above).
    ``work`` = (merged spike times, neurons; twice the room of a stage's spikes: the sort's
    scratch); ``out`` as for run_buckets (its sample buffers unused: each partition has its own).
    Returns parts, work and out (any of them grown); the partitions' counters are added to
    ``counters`` and their updates to meta[M_SPLIT]. The arrays used every bucket are taken out
    of their tuples once (and again when grown): in a function with reference counting each
    access counts the array up and down."""
    n_parts = parts.bounds.size - 1
    n_sp = np.int64(0)   # not a literal: that would compile region and what it calls a second time
    no_f = np.empty(0)   # part_work's places for spike output, unused by partitions
    no_i = np.empty(0, dtype=np.int64)
    # of what is taken out here only cn is ever replaced (reserve_deliveries, grow_parts): meta,
    # slots and state keep their arrays, so only pcn is taken out again after a growth
    pmeta, pslots, pstate, pcn = parts.meta, parts.slots, parts.state, parts.cn
    srt_t, srt_i = work
    out_t, out_i = out[0], out[1]
    k_del = meta[M_BUCKET]
    k = meta[M_BUCKET]
    while True:
        t0 = bucket_start(cfg, k)
        pending = n_sp > 0
        empty = n_sp == 0
        slot = k & (cfg.n_slots - 1)
        for p in range(n_parts):
            if pmeta[p, M_PENDING] > 0:
                pending = True
            if pslots[p, slot, SCOUNT] > 0:
                empty = False
        if t0 >= cfg.t_end or not pending:
            meta[M_DONE] = 1
            break
        if t0 >= t_stop:
            break
        if empty:
            k += 1
            continue
        for stage in range(cfg.n_stages):
            n_del = np.int64(delivery_count(net, srt_i, n_sp))
            for p in range(n_parts):
                pstate[p, S_PHASE] = PH_GROUP
                pstate[p, S_DELIVERED] = 0 if n_sp > 0 else 1
            if not parts_have_room(cfg, pcn, pmeta, n_del):
                parts = reserve_deliveries(cfg, parts, n_del)
                pcn = parts.cn
            while region(cfg, net, st, nf, ni, parts, srt_t, srt_i, n_sp, n_del, k_del, k, stage, no_f, no_i):
                parts = grow_parts(cfg, parts, k, st.shape[1])
                pcn = parts.cn
            n_sp = staged_spikes(meta, pmeta)
            if 2 * n_sp > srt_t.size or meta[M_SPIKES] + n_sp > out_t.size:
                work, out = grow_merge(meta, n_sp, (srt_t, srt_i), out)
                srt_t, srt_i = work
                out_t, out_i = out[0], out[1]
            merge_into(cfg, net, pmeta, parts.spk_t, parts.spk_i, meta, srt_t, srt_i, out_t, out_i, counters, n_sp)
            k_del = k
        for p in range(n_parts):
            release(pcn[p], pmeta[p], pslots[p], slot)
        k += 1
        if meta[M_OVERFLOW]:
            break
    if n_sp > 0:
        # the last stage's deliveries, before the caller looks at the queues
        for p in range(n_parts):
            pstate[p, S_DELIVERED] = 0
        n_del = np.int64(delivery_count(net, srt_i, n_sp))
        parts = reserve_deliveries(cfg, parts, n_del)
        k_none = np.int64(-1)
        while region(cfg, net, st, nf, ni, parts, srt_t, srt_i, n_sp, n_del, k_del, k_none, np.int64(0), no_f,
                     no_i):
            parts = grow_parts(cfg, parts, k_none, st.shape[1])
    meta[M_BUCKET] = k
    for p in range(n_parts):
        for x in range(counters.shape[0]):
            meta[M_SPLIT] += parts.counters[p, x, C_UPDATES]
            for c in range(counters.shape[1]):
                counters[x, c] += parts.counters[p, x, c]
                parts.counters[p, x, c] = 0
    return parts, (srt_t, srt_i), (out_t, out_i, out[2], out[3], out[4])


@kernel(internal=True, refcounted=False)
def group_stage(cfg, net, st, nf, ni, q, meta, slots, by_model, segs, k, slot, stage):
    """Links this stage's entries of bucket k per target neuron and lists the neurons touched by
    model: model m's in by_model[segs[m, SEG_START]:segs[m, SEG_END]], in the order they were
    first touched (a segment has room for all of the model's neurons). The order neurons are
    processed in within a bucket does not change any result (they are independent there, and
    what they produce is sorted: spikes by (time, neuron), each neuron's entries by (time, kind,
    synapse)). Returns the number of neurons touched and a bound on the samples they will take."""
    qf, qi, chunk_next = q
    for m in range(segs.shape[0]):
        segs[m, SEG_END] = segs[m, SEG_START]
    n_touched = 0
    n_samples = 0
    c = slots[slot, SHEAD]
    while c >= 0:
        used = slots[slot, SFILL] if c == slots[slot, STAIL] else CHUNK
        for e in range(c * CHUNK, c * CHUNK + used):
            if e + ENTRIES_AHEAD < c * CHUNK + used:
                # the rows this loop reads, for a later entry's target: their cache misses then
                # overlap with the work instead of stalling it (run_stage prefetches its own)
                jn = qi[e + ENTRIES_AHEAD, QTGT]
                prefetch_row(ni, jn)
                prefetch_row(net.neuron_pop, jn)
            j = qi[e, QTGT]
            pop = net.neuron_pop[j]
            if net.pop_i[pop, P_STAGE] != stage:
                continue
            kind = qi[e, QKIND]
            if kind == KIND_WAKE and qi[e, QAUX] != ni[j, VERSION]:
                continue  # a stale prediction
            if kind == KIND_SAMPLE:
                # samples this entry can lead to within the bucket (one per interval)
                n_samples += int(cfg.width / net.rec_every[net.rec_group[qi[e, QAUX]]]) + 2
            qi[e, QLINK] = ni[j, NB_HEAD]
            if ni[j, NB_HEAD] < 0:
                # listed here, where the model is one load away, rather than sorted by model
                # afterwards: that pass read each neuron's population again, a cache miss
                # each (sparse network on two threads: 12 % of the engine's samples)
                m = ONLY_MODEL if ONLY_MODEL >= 0 else net.pop_i[pop, P_MODEL]
                by_model[segs[m, SEG_END]] = j
                segs[m, SEG_END] += 1
                n_touched += 1
            ni[j, NB_HEAD] = e
        c = chunk_next[c]
    return n_touched, n_samples


@kernel(internal=True, refcounted=False, inline="always")
def take_touched(net, st, nf, ni, qf, qi, touched, ti, n_touched, order):
    """Neuron touched[ti] and the number m of its entries, sorted into order[:m] by (time, inputs
    before samples and wakes, synapse); prefetches the rows of the neuron NEURONS_AHEAD later."""
    j = touched[ti]
    if ti + NEURONS_AHEAD < n_touched:
        # a later neuron's rows (without this, prefetching them in group_stage only: 0.26-0.30
        # -> 0.38-0.62 s on the sparse network; evicted again before they are used)
        jn = touched[ti + NEURONS_AHEAD]
        prefetch_row(nf, jn)
        prefetch_row(ni, jn)
        prefetch_row(net.prow, jn)
        prefetch_row(net.neuron_pop, jn)
        if st.shape[1] > 0:
            prefetch_row(st, jn)
    m = 0
    e = ni[j, NB_HEAD]
    while e >= 0:
        order[m] = e
        m += 1
        e = qi[e, QLINK]
    ni[j, NB_HEAD] = -1
    for x in range(1, m):
        y = order[x]
        z = x - 1
        while z >= 0 and _later(qf, qi, order[z], y):
            order[z + 1] = order[z]
            z -= 1
        order[z + 1] = y
    return j, m


@kernel(internal=True, refcounted=False)
def run_stage(cfg, net, st, nf, ni, q, meta, slots, touched, ti, n_touched, spk_t, spk_i, order, out, counters, k,
              ws, mid, is_source):
    """Processes the touched neurons touched[ti:n_touched], all of model ``mid`` (a source model
    if ``is_source``); returns where it stopped (n_touched, or earlier when the stage's spike
    buffer runs low: the caller grows it and calls again). Called with constants for ``mid`` and
    ``is_source`` (simcore.codegen's m_run_stage), so Numba compiles it once per model, each
    dispatch reduced to that model's kernels. A neuron's new wake is scheduled at once."""
    qf, qi, chunk_next = q
    out_t, out_i, out_sr, out_st, out_sv = out
    smp = (out_sr, out_st, out_sv)
    n_s = meta[M_SAMPLES]
    n_v = meta[M_SVALS]
    neurons = not (SOURCES and is_source)
    batch_lo = ti     # touched[batch_lo:ti] have run, their wakes wait in nf[:, WAKE_DUE]
    while ti < n_touched:
        if spk_t.size - meta[M_STAGE] < 256:
            break
        if neurons and ti - batch_lo == WAKE_BATCH:
            schedule_wakes(cfg, nf, ni, q, meta, slots, touched, batch_lo, ti, k)
            batch_lo = ti
        j, m = take_touched(net, st, nf, ni, qf, qi, touched, ti, n_touched, order)
        ti += 1
        pop = net.neuron_pop[j]
        counters[pop, C_UPDATES] += 1
        if neurons:
            n_s, n_v, nf[j, WAKE_DUE] = run_neuron(cfg, net, j, k, order, m, q, slots, meta, st, nf, ni, mid, spk_t,
                                                   spk_i, ws, smp, n_s, n_v, counters, pop)
            continue
        # a source only takes its samples and schedules its next spike (its spikes do not depend
        # on its state)
        sv = st[j:j + 1]
        pv = net.params[net.prow[j]:net.prow[j] + 1]
        i0 = j * 0
        ni[j, VERSION] += 1
        for x in range(m):
            f = order[x]
            if qi[f, QKIND] != KIND_SAMPLE:
                continue
            if bucket_of(cfg, qf[f, QT]) > k:
                schedule(cfg, qf, qi, chunk_next, meta, slots, k, qf[f, QT], j, 0.0, KIND_SAMPLE, qi[f, QAUX])
                continue
            t_s = qf[f, QT]
            r = qi[f, QAUX]
            unchanged = r < 0   # False, as a variable: literal arguments specialise the callee
            while r >= 0:
                t_s, r, n_s, n_v = take_sample(cfg, k, j, r, t_s, unchanged, q, slots, meta, sv, pv, i0, nf, mid,
                                               spk_t, spk_i, ws, smp, n_s, n_v, net.rec_group, net.rec_every,
                                               net.rec_var_ptr, net.rec_vars)
        run_source(cfg, j, k, qf, qi, chunk_next, slots, meta, sv, pv, i0, net.pop_i, net.pop_key,
                   net.neuron_pop, net.src_ptr, net.src_times, nf, ni, spk_t, spk_i)
    if neurons:
        schedule_wakes(cfg, nf, ni, q, meta, slots, touched, batch_lo, ti, k)
    meta[M_SAMPLES] = n_s
    meta[M_SVALS] = n_v
    return ti


@kernel(internal=True, refcounted=False, inline="always")
def schedule_wakes(cfg, nf, ni, q, meta, slots, touched, lo, hi, k):
    """Pushes the wakes that the neurons touched[lo:hi] asked for (nf[j, WAKE_DUE], inf: none).
    Together after their updates rather than each right after its own: a push waits on a division
    and on its bucket's fill count, and that chain held up the next neuron's work (CUBA on one
    thread 0.170 -> 0.163 s; batches of 8 to 32 alike)."""
    qf, qi, chunk_next = q
    for x in range(lo, hi):
        j = touched[x]
        t_w = nf[j, WAKE_DUE]
        if t_w < cfg.t_end:
            schedule(cfg, qf, qi, chunk_next, meta, slots, k, t_w, j, 0.0, KIND_WAKE, ni[j, VERSION])


@kernel(internal=True, refcounted=False, inline="always")
def _later(qf, qi, e1, e2):
    if qf[e1, QT] != qf[e2, QT]:
        return qf[e1, QT] > qf[e2, QT]
    w1 = 1 if qi[e1, QKIND] < 0 else 0
    w2 = 1 if qi[e2, QKIND] < 0 else 0
    if w1 != w2:
        return w1 > w2
    return qi[e1, QAUX] > qi[e2, QAUX]


@kernel(internal=True, refcounted=False, inline="always")     # one caller, like the three kernels it calls
def deliver(cfg, net, q, meta, slots, spk_t, spk_i, k, out, counters, state):
    """Sorts the stage's spikes by (time, neuron) in place, the spike buffer's second half as the
    sort's scratch, records them and pushes their deliveries; returns NEED_NOTHING, or, having
    done nothing, what must grow first (queue room for state[S_ENTRIES] entries, the spike
    buffer, the record)."""
    n_sp = meta[M_STAGE]
    if spk_t.size < 2 * n_sp:
        return NEED_SPIKES
    if out[0].size < meta[M_SPIKES] + n_sp:
        return NEED_RECORD
    n_del = delivery_count(net, spk_i, n_sp)
    if not has_room(q[2], meta, n_del, cfg.n_slots):
        state[S_ENTRIES] = n_del
        return NEED_QUEUE
    srt_t = spk_t[:n_sp]
    srt_i = spk_i[:n_sp]
    sort_spikes(srt_t, srt_i, spk_t[n_sp:2 * n_sp], spk_i[n_sp:2 * n_sp])
    record_spikes(cfg, net, meta, srt_t, srt_i, n_sp, out[0], out[1], counters)
    # no partitions: an empty int64 matrix (a view, not an allocation per call)
    push_deliveries(cfg, net, q, meta, slots, srt_t, srt_i, n_sp, k, net.pop_i[:0], n_sp * 0)
    meta[M_STAGE] = 0
    return NEED_NOTHING


@kernel(internal=True, refcounted=False, inline="always")
def delivery_count(net, srt_i, n_sp):
    """How many synapses the spikes' rows hold: room for all their deliveries."""
    need = 0
    for x in range(n_sp):
        j = srt_i[x]
        pop = net.neuron_pop[j]
        for pp in range(net.pop_i[pop, P_PROJ_LO], net.pop_i[pop, P_PROJ_HI]):
            qq = net.pop_proj[pp]
            row = net.proj_i[qq, J_INDPTR] + j - net.proj_i[qq, J_SRC_LO]
            need += net.indptr[row + 1] - net.indptr[row]
    return need


@kernel(internal=True, refcounted=False, inline="always")
def sort_spikes(t, i, tmp_t, tmp_i):
    """Sorts spikes by (time, neuron) in place: bottom-up merge sort (the order must not depend
    on the order they were found in)."""
    n = t.size
    width = 1
    passes = 0
    src_t, src_i, dst_t, dst_i = t, i, tmp_t, tmp_i
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            p, r, o = lo, mid, lo
            while p < mid and r < hi:
                if src_t[r] < src_t[p] or (src_t[r] == src_t[p] and src_i[r] < src_i[p]):
                    dst_t[o] = src_t[r]
                    dst_i[o] = src_i[r]
                    r += 1
                else:
                    dst_t[o] = src_t[p]
                    dst_i[o] = src_i[p]
                    p += 1
                o += 1
            while p < mid:
                dst_t[o] = src_t[p]
                dst_i[o] = src_i[p]
                p += 1
                o += 1
            while r < hi:
                dst_t[o] = src_t[r]
                dst_i[o] = src_i[r]
                r += 1
                o += 1
            lo = hi
        src_t, src_i, dst_t, dst_i = dst_t, dst_i, src_t, src_i
        width *= 2
        passes += 1
    if passes % 2 == 1:
        for x in range(n):
            t[x] = src_t[x]
            i[x] = src_i[x]


@kernel(internal=True, refcounted=False, inline="always")
def record_spikes(cfg, net, meta, srt_t, srt_i, n_sp, out_t, out_i, counters):
    """Counts the sorted spikes per population and records those of recorded populations."""
    n_out = meta[M_SPIKES]
    for x in range(n_sp):
        j = srt_i[x]
        pop = net.neuron_pop[j]
        counters[pop, C_SPIKES] += 1
        if net.pop_i[pop, P_RECORD]:
            out_t[n_out] = (round(srt_t[x] / cfg.dt) - 1) * cfg.dt if GRID else srt_t[x]   # Brian2's t_{p-1}
            out_i[n_out] = j
            n_out += 1
    meta[M_SPIKES] = n_out


@kernel(internal=True, refcounted=False, inline="always")
def push_deliveries(cfg, net, q, meta, slots, srt_t, srt_i, n_sp, k, syn_ptr, p):
    """Pushes the deliveries of the sorted spikes found in bucket k: to every target, or, with
    partitions (``syn_ptr`` not empty), to partition p's (row r's synapses onto p's neurons are
    syn_ptr[r, p] <= s < syn_ptr[r, p + 1]: simcore.layout groups each row by partition)."""
    partitioned = THREADS and syn_ptr.shape[0] > 0
    qf, qi, chunk_next = q
    pop_i = net.pop_i
    proj_i = net.proj_i
    proj_f = net.proj_f
    indptr = net.indptr
    here = k & (cfg.n_slots - 1)
    for x in range(n_sp):
        t_sp = srt_t[x]
        j = srt_i[x]
        pop = net.neuron_pop[j]
        tick = round(t_sp / cfg.dt) if GRID else 0
        for pp in range(pop_i[pop, P_PROJ_LO], pop_i[pop, P_PROJ_HI]):
            qq = net.pop_proj[pp]
            row = proj_i[qq, J_INDPTR] + j - proj_i[qq, J_SRC_LO]
            soff = proj_i[qq, J_SYN]
            woff = proj_i[qq, J_W_OFF]
            doff = proj_i[qq, J_D_OFF]
            port = proj_i[qq, J_PORT]
            w_c = proj_i[qq, J_W_CONST] != 0
            d_c = proj_i[qq, J_D_CONST] != 0
            s_lo, s_hi = (syn_ptr[row, p], syn_ptr[row, p + 1]) if partitioned else (indptr[row], indptr[row + 1])
            for s in range(s_lo, s_hi):
                g = soff + s
                if GRID:
                    steps = int(proj_f[qq, JF_D]) if d_c else net.syn_steps[doff + s]
                    t_arr = (tick + steps) * cfg.dt
                    zero = steps == 0
                else:
                    d = proj_f[qq, JF_D] if d_c else net.syn_delay[doff + s]
                    t_arr = t_sp + d
                    zero = d == 0.0
                if t_arr >= cfg.t_end:
                    break  # rows (each partition's part of a row) are sorted by delay
                tgt = np.int64(net.syn_target[g])
                w = proj_f[qq, JF_W] if w_c else net.syn_weight[woff + s]
                if zero:
                    push(qf, qi, chunk_next, meta, slots, here, t_arr, tgt, w, port, g)
                else:
                    schedule(cfg, qf, qi, chunk_next, meta, slots, k, t_arr, tgt, w, port, g)
