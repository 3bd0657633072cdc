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
* On P threads (part_loop) the neurons run as P partitions, each with a queue of its own and a
  thread of its own; they go through the buckets in step, meeting at a barrier after each stage.

A neuron that receives nothing and cannot reach threshold costs nothing after its first look.
Array layouts: see simcore/layout.py (column constants below are shared with it).
"""
import math
from collections import namedtuple

import numpy as np
from simcore.jit import kernel

from simcore.crossing import E_HI, MAX_TERMS, ROOT_ROWS, eval_g, first_crossing, safe_time, tail_bound, upper_bound
from simcore.crossing import workspace as crossing_workspace
from simcore.prefetch import prefetch_row
from simcore.atomics import atomic_add, atomic_load, atomic_store, cpu_relax
from simcore.rng import stream_key

# --- dispatch: replaced by simcore.codegen ---
from simcore._dispatch_stub import m_advance, m_apply, m_batch_ok, m_next_spike, m_reset, m_run_stage, m_terms, m_update_batch  # noqa: F401
# --- end dispatch ---
# the time mode, fixed per engine (simcore.codegen writes an exact and a grid copy), and whether the
# engine's models include sources: Numba takes a module global as a constant and prunes the
# branches it rules out before compiling them
GRID = False
SOURCES = True
# whether the engine is the one for threads (part_loop; its own engine, so that the one-thread
# engine compiles none of the partitions' code)
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
WAKE_BATCH = 64
# exact mode: the rows of the workspace's scratch where run_stage sets aside the neurons whose
# update a model takes in a batch (m_update_batch; see flush_batch): the neuron, its input's time,
# the time since its state's, weight and port, then the safe time and the bound for all time the
# model returns, the neurons left for predict, and from B_MODEL the model's own columns (row 0 is
# terms_at's copy of a state row)
B_J, B_T, B_H, B_W, B_PORT, B_SAFE, B_BOUND, B_FB, B_MODEL = 1, 2, 3, 4, 5, 6, 7, 8, 9
B_ROWS = B_MODEL + 10
# run_stage takes a neuron only with room for this many more spikes in the stage's buffer: 256
# for its own and as many for each of a batch's neurons still to predict (a neuron that fires
# more often than the room left within one bucket overflows the buffer: see emit)
SPIKE_ROOM = 256 * (WAKE_BATCH + 1)
# np.int64, not int: a literal constant argument would compile push/schedule once per value
KIND_WAKE = np.int64(-1)
KIND_SAMPLE = np.int64(-2)
WAKE_AUX = np.int64(0)    # a wake's aux column: unused (ni[j, WAKE_AT] tells the wake that counts)
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
# per-neuron int columns of `ni`: WAKE_AT, the bucket of the one wake of the neuron's (or next spike
# of the source's) that counts (-1: none queued); the queue may hold others, superseded, which
# group_stage drops: they lie in other buckets, or behind the one that counts in its bucket
WAKE_AT, SRC_POS, NB_HEAD = 0, 1, 2
# a neuron's KNOWN (the same column as a source's SRC_POS): 1 while nf[j, SAFE] is the crossing that
# predict's search found (exact mode) and no input has changed the neuron's course since, so that
# the wake there fires without searching for it again
KNOWN = SRC_POS
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
M_SPLIT = 11      # neuron updates done by partitions (part_loop; added up by the runner)
M_NFREE = 12      # chunks in the free list
# stage_part's progress through a stage (columns of its ``state``), and what it ran short of
S_PHASE, S_NEED, S_TOUCHED, S_SAMPLES, S_MODEL, S_TI, S_DELIVERED, S_STAGE, S_ENTRIES, S_COLUMNS = \
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9
PH_GROUP, PH_RUN, PH_DONE = 0, 1, 2
NEED_NOTHING, NEED_QUEUE, NEED_ORDER, NEED_SPIKES, NEED_SAMPLES, NEED_RECORD = 0, 1, 2, 3, 4, 5
# columns of segs (models x 2): where group_stage lists each model's touched neurons in by_model
SEG_START, SEG_END = 0, 1


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


@kernel(internal=True, refcounted=False, inline="always")
def has_room(meta, n_entries, n_slots):
    """Whether the free list holds ``chunks_needed`` chunks, counted in meta[M_NFREE] (a walk along
    the list, as before, went over n_slots + 1 chunks or more for any bucket of 64 entries or more,
    at each of the bucket's checks)."""
    return meta[M_NFREE] >= chunks_needed(n_entries, n_slots)


@kernel
def reserve(q, meta, n_entries, n_slots):
    """Makes room for ``n_entries`` appends to at most ``n_slots`` buckets; returns the queue."""
    qf, qi, chunk_next = q
    if has_room(meta, n_entries, n_slots):
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
    meta[M_NFREE] += new - old
    meta[M_CHUNKS] = new
    return (qf2, qi2, next2)


@kernel(internal=True, refcounted=False)
def push(qf, qi, chunk_next, meta, slots, b, t, tgt, w, kind, aux):
    """Appends an entry to bucket b of the ring (room must have been reserved)."""
    if slots[b, STAIL] < 0 or slots[b, SFILL] == CHUNK:
        c = meta[M_FREE]
        meta[M_FREE] = chunk_next[c]
        meta[M_NFREE] -= 1
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


@kernel(internal=True, refcounted=False, inline="always")
def bucket_after(cfg, k, t):
    """The bucket an entry for time t goes into after bucket k: its own, or the farthest bucket the
    ring can hold if t lies beyond it (the entry is pushed on when that bucket comes)."""
    b = bucket_of(cfg, t)
    if b <= k:
        b = k + 1
    if b > k + cfg.n_slots - 2:
        b = k + cfg.n_slots - 2
    return b


@kernel(internal=True, refcounted=False)
def schedule(cfg, qf, qi, chunk_next, meta, slots, k, t, tgt, w, kind, aux):
    """Pushes an entry for time t into bucket_after(k, t)."""
    push(qf, qi, chunk_next, meta, slots, bucket_after(cfg, k, t) & (cfg.n_slots - 1), t, tgt, w, kind, aux)


@kernel(internal=True, refcounted=False, inline="always")
def queue_wake(cfg, qf, qi, chunk_next, meta, slots, ni, k, t, j):
    """Queues neuron j's wake (a source's next spike) for time t after bucket k, unless the wake
    that counts, in bucket ni[j, WAKE_AT], comes no later: group_stage pushes that one on to the
    neuron's wake time when it comes early."""
    b = bucket_after(cfg, k, t)
    if not k < ni[j, WAKE_AT] <= b:
        push(qf, qi, chunk_next, meta, slots, b & (cfg.n_slots - 1), t, j, 0.0, KIND_WAKE, WAKE_AUX)
        ni[j, WAKE_AT] = b


@kernel(internal=True, refcounted=False)
def release(chunk_next, meta, slots, b):
    """Returns the chunks of bucket b to the free list."""
    if slots[b, SHEAD] >= 0:
        chunk_next[slots[b, STAIL]] = meta[M_FREE]
        meta[M_FREE] = slots[b, SHEAD]
        meta[M_NFREE] += (slots[b, SCOUNT] + CHUNK - 1) // CHUNK     # push fills a chunk before the next
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
def reset_neuron(cfg, mid, sv, pv, i0, nf, ni, j, t_sp):
    """Applies the model's reset at t_sp and starts the refractory period (a crossing predict
    found is past: ni[j, KNOWN] cleared)."""
    t_ref = m_reset(mid, sv, pv, i0)
    ni[j, KNOWN] = 0
    if GRID:
        # held at the reset value up to point p - 1 + R, R = Brian2's timestep(t_ref)
        # (as integer * dt, like every grid time, so that comparisons with input times are exact)
        r = int((t_ref + 1e-3 * cfg.dt) / cfg.dt)
        nf[j, REF_UNTIL] = (round(t_sp / cfg.dt) + r - 1) * cfg.dt
    else:
        nf[j, REF_UNTIL] = t_sp + t_ref


@kernel(internal=True, refcounted=False)
def fire_until(cfg, mid, sv, pv, i0, nf, ni, j, t_lim, defer_at_limit, spk_t, spk_i, meta,
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
            reset_neuron(cfg, mid, sv, pv, i0, nf, ni, j, t_sp)
        if at_limit:
            return 1


@kernel(internal=True, refcounted=False, inline="always")
def wake_without_search(cfg, nf, ni, j, k, start, bound, x_safe):
    """Neuron j's next wake where bounds settle it without predict's search, given the upper
    bound of g over all time after ``start`` and the safe time x_safe (crossing.safe_time: no
    crossing before start + x_safe): none (inf) where g stays below zero, else the safe time
    where that lies past bucket k (look again then, without any exponential; grid mode: the step
    at or before it). Sets nf[j, SAFE] in both cases (neither is a crossing found: ni[j, KNOWN]
    cleared). -1 where a crossing may come inside the bucket: the search must run (predict;
    flush_batch hands such neurons back to it)."""
    if bound < 0.0:
        nf[j, SAFE] = math.inf
        ni[j, KNOWN] = 0
        return math.inf
    t_w = start + x_safe
    if t_w <= bucket_start(cfg, k + 1):
        return -1.0
    if GRID:
        t_w = math.floor(t_w / cfg.dt) * cfg.dt
    nf[j, SAFE] = t_w
    ni[j, KNOWN] = 0
    return t_w


@kernel(internal=True, refcounted=False, inline="always")    # one caller; a call costs ~20 % of CUBA's run
def predict(cfg, mid, sv, pv, i0, nf, ni, j, k, spk_t, spk_i, meta, scratch, rate, a, b, lv, lc, lr):
    """Fires neuron j's crossings left in bucket k; returns the time of its next wake (its next
    crossing, or when to look again), inf if it cannot reach threshold without input. Sets the
    neuron's safe time: no crossing happens before it unless an input arrives. A crossing that
    its search found past the bucket is remembered (ni[j, KNOWN]): when its bucket comes with no
    input in between, it fires without a second search (exact mode)."""
    while True:
        t_state = nf[j, T_STATE]
        ref = nf[j, REF_UNTIL]
        t_known = nf[j, SAFE]
        if not GRID and ni[j, KNOWN] == 1 and bucket_of(cfg, t_known) <= k and t_known < cfg.t_end:
            # the crossing found before; searching again from the same course would find it again
            # (to the last bits: the search's interval would differ). The reset clears the mark.
            m_advance(mid, sv, pv, i0, t_state, t_known, ref)
            nf[j, T_STATE] = t_known
            emit(spk_t, spk_i, meta, t_known, j)
            reset_neuron(cfg, mid, sv, pv, i0, nf, ni, j, t_known)
            continue
        start = fmax(t_state, ref)
        if GRID:
            start = round(start / cfg.dt) * cfg.dt
        n = terms_at(mid, sv, pv, i0, start, t_state, ref, scratch, rate, a, b)
        bound = upper_bound(n, rate, a, b, 0.0, math.inf, lr[E_HI])
        t_w = wake_without_search(cfg, nf, ni, j, k, start, bound, safe_time(n, rate, a, b) if bound >= 0.0 else 0.0)
        if t_w >= 0.0:
            return t_w
        end = bucket_start(cfg, k + 1)
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
            reset_neuron(cfg, mid, sv, pv, i0, nf, ni, j, t_c)
            continue
        nf[j, SAFE] = t_w
        ni[j, KNOWN] = 0 if GRID or math.isinf(t_c) else 1
        return t_w


@kernel(internal=True, refcounted=False)
def take_sample(cfg, k, j, r, t, changed, q, slots, meta, sv, pv, i0, nf, ni, mid, spk_t, spk_i, ws, smp, n_s, n_v,
                rec_group, rec_every, rec_var_ptr, rec_vars):
    """Samples neuron j's state at t (after firing its crossings up to t) for sampling slot r;
    returns the next sample if it falls in bucket k (time, slot; else inf, -1, after
    scheduling it) and the updated sample counts."""
    qf, qi, chunk_next = q
    scratch, rate, a, b, lv, lc, lr = ws
    out_sr, out_st, out_sv = smp
    if t >= nf[j, SAFE] or changed:
        no_defer = np.bool_(False)   # not a literal: that would compile fire_until twice
        fire_until(cfg, mid, sv, pv, i0, nf, ni, j, t, no_defer, spk_t, spk_i, meta, scratch, rate, a, b, lv, lc, lr)
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
               counters, pop, predict_only):
    """Processes neuron j's entries in bucket k (sorted in ``order``); returns the updated
    sample counts (n_s, n_v) and the time of the neuron's new wake (inf: none, or its pending
    one stays valid), which the caller schedules. ``ws`` is the solver workspace, ``smp`` the
    sample buffers. ``predict_only`` (with no entries): a neuron whose input a batch has applied
    (flush_batch), which needs predict's search."""
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
    keep = not GRID and net.model_lowered[mid] and not predict_only
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
                                                   nf, ni, mid, spk_t, spk_i, ws, smp, n_s, n_v, rec_group, rec_every,
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
            spiked = fire_until(cfg, mid, sv, pv, i0, nf, ni, j, t_in, np.bool_(GRID), spk_t, spk_i, meta,
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
        ni[j, KNOWN] = 0      # the course changed: a crossing predict found is no longer known
        if spiked == 1 and GRID:
            reset_neuron(cfg, mid, sv, pv, i0, nf, ni, j, t_in)
        elif jumps and not GRID and not refractory:
            n = m_terms(mid, sv, pv, i0, rate, a, b)
            if eval_g(n, rate, a, b, 0.0) >= 0.0:
                emit(spk_t, spk_i, meta, t_in, j)
                reset_neuron(cfg, mid, sv, pv, i0, nf, ni, j, t_in)
    if keep and meta[M_STAGE] == n_spikes and nf[j, SAFE] > bucket_start(cfg, k + 1):
        # not woken, only inputs of weight <= 0 (or samples), no spike, and the pending wake (at
        # SAFE) lies beyond this bucket: it stays valid, since those inputs only delay crossings
        return n_s, n_v, math.inf
    t_w = predict(cfg, mid, sv, pv, i0, nf, ni, j, k, spk_t, spk_i, meta, scratch, rate, a, b, lv, lc, lr)
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
            queue_wake(cfg, qf, qi, chunk_next, meta, slots, ni, k, t, j)   # queued already if a sample ran it
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
                queue_wake(cfg, qf, qi, chunk_next, meta, slots, ni, np.int64(-1), t, j)
        else:
            queue_wake(cfg, qf, qi, chunk_next, meta, slots, ni, np.int64(-1), 0.0, j)    # bucket 0
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
def scratch_shape(n_state):
    """The workspace's scratch: a state row (terms_at), and the batch rows (B_*) of WAKE_BATCH."""
    return B_ROWS, max(n_state, WAKE_BATCH)


@kernel(inline="always")
def workspace(n_state):
    """A scratch state row, the threshold terms' rows and the crossing solver's workspace."""
    lv, lc, lr = crossing_workspace()
    return (np.empty(scratch_shape(n_state)), np.empty(MAX_TERMS), np.empty(MAX_TERMS), np.empty(MAX_TERMS), lv, lc, lr)


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
        if not has_room(meta, slots[slot, SCOUNT], cfg.n_slots):
            state[S_NEED] = NEED_QUEUE      # group_stage pushes on the wakes that came early
            state[S_ENTRIES] = slots[slot, SCOUNT]
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
        if not has_room(meta, state[S_TOUCHED] + n_samples, cfg.n_slots):
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
# queue of its own (row p of every Parts array), and partition p runs part_loop on a thread of its
# own (simcore.runner starts them) for the whole of a run's chunk: the partitions go through the
# buckets in step, meeting at a barrier after each stage. After a stage each partition pushes the
# deliveries of every partition's spikes to its own neurons while partition 0 sorts the spikes by
# (time, neuron) and records them; they meet again (a spike log is cleared only when all have read
# it), and each runs its share of the next stage. A neuron's entries, and so everything it
# computes, are the same as on one thread: results do not depend on the number of threads. Each
# partition reads only the synapses onto its own neurons: for a run on partitions simcore.layout
# groups each CSR row by the target's partition (Layout.syn_ptr; by delay within a group), which
# keeps every comparison of synapse indices between two synapses onto one neuron, and so the
# order of simultaneous inputs.
Parts = namedtuple("Parts", "bounds syn_ptr qf qi cn meta slots by_model segs state order spk_t spk_i out_sr "
                            "out_st out_sv counters ws_scratch ws_rate ws_a ws_b ws_lv ws_lc ws_lr")
# Parts.meta, .segs and .counters rows are padded by 128 bytes or more: two threads writing into one
# cache line would take turns owning it
META_PAD = 16
# columns of `sync`, the int64 row the partitions share: the barrier's arrival count and generation;
# where the partitions stand (partition 0 writes it when they leave part_loop, all read it when they
# enter: the bucket, its stage, the step, whether they leave once the spikes are delivered);
# partition 0's merge (done, or the spikes it needs room for); the runner's abort (partition 0 will
# not come: leave the barrier); then the votes (below)
Y_COUNT, Y_GEN, Y_BUCKET, Y_STAGE, Y_STEP, Y_LEAVING, Y_MERGED, Y_MERGE_NEED, Y_ABORT, Y_VOTES = \
    0, 8, 16, 17, 18, 19, 20, 21, 22, 24
STEP_TOP, STEP_DELIVER, STEP_STAGE, STEP_IDLE = 0, 1, 2, 3
# what each partition tells the others at a barrier (V_* columns of its votes): whether it ran short
# of something, its spikes in the stage just run, its entries still pending after the bucket, the
# first bucket from which its queue holds entries, whether its spike log overflowed
V_NEED, V_SPIKES, V_PENDING, V_NEXT, V_OVERFLOW, V_COLUMNS = 0, 1, 2, 3, 4, 5
# a waiting thread spins this many times before it gives its core away once (sched_yield): on two
# free cores the other partition arrives within microseconds
SPINS = 20000


def sync_size(n_parts):
    """Length of the ``sync`` row for n_parts partitions (votes for two barriers in turn)."""
    return Y_VOTES + 2 * n_parts * V_COLUMNS


@kernel(internal=True, refcounted=False)
def meet(sync, n_parts, p, need, spikes, pending, nxt, overflow):
    """Partition p's barrier: returns once all n_parts partitions have called it, with what they
    told each other: (any ran short, spikes, any entries pending, first bucket with entries, any
    overflowed). The votes of consecutive barriers go to alternate rows, so a partition that
    leaves early cannot overwrite votes another has yet to read (it would need to pass the next
    barrier first, which waits for that one). If the runner aborts (sync[Y_ABORT]) a waiting
    partition leaves as if one had run short, and its caller returns."""
    gen = atomic_load(sync, Y_GEN)
    v = Y_VOTES + ((gen & 1) * n_parts + p) * V_COLUMNS
    sync[v + V_NEED] = need
    sync[v + V_SPIKES] = spikes
    sync[v + V_PENDING] = pending
    sync[v + V_NEXT] = nxt
    sync[v + V_OVERFLOW] = overflow
    if atomic_add(sync, Y_COUNT, 1) == n_parts - 1:
        atomic_store(sync, Y_COUNT, 0)
        atomic_add(sync, Y_GEN, 1)
    else:
        spins = 0
        while atomic_load(sync, Y_GEN) == gen:
            if atomic_load(sync, Y_ABORT):
                return 1, 0, 0, np.int64(2 ** 62), 0
            spins += 1
            if spins == SPINS:
                cpu_relax()
                spins = 0
    any_need = 0
    n_sp = 0
    any_pending = 0
    first = np.int64(2 ** 62)
    any_overflow = 0
    for x in range(n_parts):
        v = Y_VOTES + ((gen & 1) * n_parts + x) * V_COLUMNS
        any_need |= sync[v + V_NEED]
        n_sp += sync[v + V_SPIKES]
        any_pending |= sync[v + V_PENDING]
        first = min(first, sync[v + V_NEXT])
        any_overflow |= sync[v + V_OVERFLOW]
    return any_need, n_sp, any_pending, first, any_overflow


@kernel(internal=True, refcounted=False)
def first_filled(cfg, slots, k):
    """The first bucket from k on whose slot holds entries (2**62 if none in the ring's reach)."""
    for b in range(k, k + cfg.n_slots - 1):
        if slots[b & (cfg.n_slots - 1), SCOUNT] > 0:
            return b
    return np.int64(2 ** 62)


@kernel(refcounted=False, nogil=True)
def part_loop(cfg, net, st, nf, ni, pa, p, sync, work, out, meta, counters, t_stop):
    """Partition p's share of run_buckets (the same loop, with the partitions in step: see above),
    from where ``sync`` says they stand, while buckets start before t_stop or until one of them
    runs short of something (state[p, S_NEED], or sync[Y_MERGE_NEED] for the merge): then all
    return at the same barrier, and the caller grows what is short and calls them again. Partition
    0 also records the spikes into ``out`` (``work``: the merge's buffer, twice a stage's spikes)
    and keeps ``meta`` (M_BUCKET, M_DONE, M_OVERFLOW, M_SPIKES) and ``counters``' spike counts.
    Without reference counting and with the GIL released: the partitions run on Python threads."""
    step = sync[Y_STEP]
    if step == STEP_IDLE:
        return      # the runner's first call, which compiles (or loads) this before threads call it
    n_parts = pa.bounds.size - 1
    k = sync[Y_BUCKET]
    stage = sync[Y_STAGE]
    leaving = sync[Y_LEAVING]
    done = 0
    q = (pa.qf[p], pa.qi[p], pa.cn[p])
    pmeta = pa.meta
    mine = pa.meta[p]
    slots = pa.slots[p]
    state = pa.state[p]
    ws = (pa.ws_scratch[p][:B_ROWS], pa.ws_rate[p][:MAX_TERMS], pa.ws_a[p][:MAX_TERMS],
          pa.ws_b[p][:MAX_TERMS], pa.ws_lv[p][:3], pa.ws_lc[p][:MAX_TERMS + 1], pa.ws_lr[p][:ROOT_ROWS])
    srt_t, srt_i = work
    out_t, out_i = out[0], out[1]
    smp = (out_t[:0], out_i[:0], pa.out_sr[p], pa.out_st[p], pa.out_sv[p])
    # n_sp: the spikes of the stage just run, as the barrier after it summed them (counting the
    # logs instead, a partition with none to deliver could see a faster one's next stage in them)
    n_sp = 0
    pending = 0
    first = k
    if step == STEP_DELIVER:
        for x in range(n_parts):
            n_sp += pmeta[x, M_STAGE]      # resumed where they stopped to grow: no log has changed
    if step == STEP_TOP:
        # where everyone's queues stand (none changes its own before this barrier)
        aborted, n_sp, pending, first, _ = meet(sync, n_parts, p, np.int64(0), mine[M_STAGE],
                                                int(mine[M_PENDING] > 0), first_filled(cfg, slots, k),
                                                mine[M_OVERFLOW])
        if aborted:
            return
    while True:
        if step == STEP_TOP:
            if n_sp == 0 and pending:
                k = max(k, first)    # buckets no partition has entries in
            t0 = bucket_start(cfg, k)
            if t0 >= cfg.t_end or not (pending or n_sp > 0):
                done = 1
                leaving = 1
            elif t0 >= t_stop:
                leaving = 1
            if leaving and n_sp == 0:
                break
            step = STEP_DELIVER
        if step == STEP_DELIVER:
            if n_sp > 0:
                k_del = k if stage > 0 else k - 1     # the bucket the spikes were found in
                if state[S_DELIVERED] == 0:
                    state[S_NEED] = NEED_NOTHING
                    n_del = 0
                    for x in range(n_parts):
                        n_del += delivery_count(net, pa.spk_i[x], pmeta[x, M_STAGE], pa.syn_ptr, p)
                    if has_room(mine, n_del, cfg.n_slots):
                        for x in range(n_parts):
                            push_deliveries(cfg, net, q, mine, slots, pa.spk_t[x], pa.spk_i[x], pmeta[x, M_STAGE],
                                            k_del, pa.syn_ptr, p)
                        state[S_DELIVERED] = 1
                    else:
                        state[S_NEED] = NEED_QUEUE
                        state[S_ENTRIES] = n_del
                if p == 0 and sync[Y_MERGED] == 0:
                    if 2 * n_sp <= srt_t.size and meta[M_SPIKES] + n_sp <= out_t.size:
                        merge_logs(cfg, net, pmeta, pa.spk_t, pa.spk_i, meta, srt_t, srt_i, out_t, out_i, counters,
                                   n_sp)
                        sync[Y_MERGED] = 1
                    else:
                        sync[Y_MERGE_NEED] = n_sp
                short = int(state[S_NEED] != NEED_NOTHING or (p == 0 and sync[Y_MERGE_NEED] > 0))
                none = np.int64(0)   # not literals: those would compile meet a second time
                any_need, _, _, _, _ = meet(sync, n_parts, p, short, none, none, none, none)
                if any_need:
                    break
                mine[M_STAGE] = 0
                state[S_DELIVERED] = 0
                if p == 0:
                    sync[Y_MERGED] = 0
            if leaving:
                step = STEP_TOP
                break
            state[S_PHASE] = PH_GROUP
            step = STEP_STAGE
        if step == STEP_STAGE:
            slot = k & (cfg.n_slots - 1)
            if state[S_PHASE] != PH_DONE:
                stage_part(cfg, net, st, nf, ni, q, mine, slots, pa.by_model[p], pa.segs[p], pa.order[p], pa.spk_t[p],
                           pa.spk_i[p], smp, pa.counters[p], ws, k, slot, stage, state)
            last = stage == cfg.n_stages - 1
            # what the queue holds once this bucket's entries are released, if this is its last stage
            left = mine[M_PENDING] - (slots[slot, SCOUNT] if last else 0)
            # (the first filled bucket matters only where a bucket ends)
            any_need, n_sp, pending, first, overflow = meet(
                sync, n_parts, p, int(state[S_NEED] != NEED_NOTHING), mine[M_STAGE], int(left > 0),
                first_filled(cfg, slots, k + 1) if last else k, mine[M_OVERFLOW])
            if any_need:
                break
            if not last:
                stage += 1
                step = STEP_DELIVER
                continue
            release(q[2], mine, slots, slot)
            k += 1
            stage = 0
            step = STEP_TOP
            if overflow:
                if p == 0:
                    meta[M_OVERFLOW] = 1     # the runner stops the run
                break
    if p == 0:
        sync[Y_BUCKET] = k
        sync[Y_STAGE] = stage
        sync[Y_STEP] = step
        sync[Y_LEAVING] = leaving if step != STEP_TOP else 0
        meta[M_BUCKET] = k
        if done:
            meta[M_DONE] = 1


@kernel(internal=True, refcounted=False)
def merge_logs(cfg, net, pmeta, spk_t, spk_i, meta, srt_t, srt_i, out_t, out_i, counters, n_sp):
    """The n_sp spikes the partitions found in a stage (their logs, left as they are: the others
    read them meanwhile), sorted by (time, neuron) into srt[:n_sp] (srt[n_sp:2 n_sp] the sort's
    scratch), counted and recorded into out (room for them checked by the caller)."""
    o = 0
    for p in range(pmeta.shape[0]):
        for x in range(pmeta[p, M_STAGE]):
            srt_t[o] = spk_t[p, x]
            srt_i[o] = spk_i[p, x]
            o += 1
    if n_sp > 0:
        sort_spikes(srt_t[:n_sp], srt_i[:n_sp], srt_t[n_sp:2 * n_sp], srt_i[n_sp:2 * n_sp])
        record_spikes(cfg, net, meta, srt_t, srt_i, n_sp, out_t, out_i, counters)


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


@kernel
def reserve_part(qf, qi, cn, pmeta, p, n_entries, n_slots):
    """reserve for partition p of the stacked queues: if its free list is short, every
    partition's pool grows to the same new size (the new chunks put in front of each free list).
    Returns the queues."""
    if has_room(pmeta[p], n_entries, n_slots):
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
        pmeta[c, M_NFREE] += new - old
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
    # one stage and one model: an entry's population is not needed, and its load, which the
    # stage test waited on for every entry, goes (CUBA one thread, alternating, medians of 7: ratio
    # 0.956 median over 9 pairs, three of them in a slow spell of the machine)
    staged = cfg.n_stages > 1
    by_pop = staged or ONLY_MODEL < 0
    k_start = bucket_start(cfg, k)
    c = slots[slot, SHEAD]
    while c >= 0:
        used = slots[slot, SFILL] if c == slots[slot, STAIL] else CHUNK
        for e in range(c * CHUNK, c * CHUNK + used):
            if e + ENTRIES_AHEAD < c * CHUNK + used:
                # the rows this loop reads, for a later entry's target: their cache misses then
                # overlap with the work instead of stalling it (run_stage prefetches its own)
                jn = qi[e + ENTRIES_AHEAD, QTGT]
                prefetch_row(ni, jn)
                if by_pop:
                    prefetch_row(net.neuron_pop, jn)
            j = qi[e, QTGT]
            pop = net.neuron_pop[j] if by_pop else 0
            if staged and net.pop_i[pop, P_STAGE] != stage:
                continue
            kind = qi[e, QKIND]
            if kind == KIND_WAKE:
                if ni[j, WAKE_AT] != k:
                    continue  # superseded, or handled already (a second one in this bucket)
                ni[j, WAKE_AT] = -1
                # a neuron's wake that came early (its wake time, nf[j, SAFE], moved later since it
                # was pushed) goes on to that time, or is dropped if it wants none; a source's
                # SAFE stays -inf, its spike is due
                t_w = nf[j, SAFE]
                if t_w > k_start and (t_w >= cfg.t_end or bucket_of(cfg, t_w) > k):
                    if t_w < cfg.t_end:
                        queue_wake(cfg, qf, qi, chunk_next, meta, slots, ni, k, t_w, j)
                    continue
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


@kernel(internal=True, refcounted=False, inline="always")
def flush_batch(cfg, net, st, nf, ni, k, bs, nb, lowered, mid):
    """Runs the updates set aside in ``bs`` (neurons bs[B_J, :nb] of model mid, each with one
    input, of weight bs[B_W] at port bs[B_PORT] and time bs[B_T], after its state's time and
    before its safe time, not refractory) as one batch of the model's (m_update_batch, which the
    compiler vectorizes), then settles each neuron's wake as run_neuron and predict would: the
    pending one kept after an input of weight <= 0 (exact mode keeps it where nothing could have
    brought a crossing earlier), else wake_without_search's, predict's own first step. The others,
    whose safe time falls inside the bucket and so need predict's search, are listed in
    bs[B_FB]; returns their number."""
    m_update_batch(mid, st, net.params, net.prow, bs[B_J], bs[B_H], bs[B_W], bs[B_PORT], nb, bs[B_MODEL:],
                   bs[B_SAFE], bs[B_BOUND])
    end = bucket_start(cfg, k + 1)
    n_fb = 0
    for x in range(nb):
        j = np.int64(bs[B_J, x])
        t_in = bs[B_T, x]
        nf[j, T_STATE] = t_in
        ni[j, KNOWN] = 0
        if lowered and bs[B_W, x] <= 0.0 and nf[j, SAFE] > end:
            nf[j, WAKE_DUE] = math.inf
            continue
        t_w = wake_without_search(cfg, nf, ni, j, k, t_in, bs[B_BOUND, x], bs[B_SAFE, x])
        if t_w >= 0.0:
            nf[j, WAKE_DUE] = t_w
        else:
            bs[B_FB, n_fb] = j
            n_fb += 1
    return n_fb


@kernel(internal=True, refcounted=False)
def run_stage(cfg, net, st, nf, ni, q, meta, slots, touched, ti, n_touched, spk_t, spk_i, order, out, counters, k,
              ws, mid, is_source):
    """Processes the touched neurons touched[ti:n_touched], all of model ``mid`` (a source model
    if ``is_source``); returns where it stopped (n_touched, or earlier when the stage's spike
    buffer runs low: the caller grows it and calls again). Called with constants for ``mid`` and
    ``is_source`` (simcore.codegen's m_run_stage), so Numba compiles it once per model, each
    dispatch reduced to that model's kernels. The neurons' new wakes are pushed in batches of
    WAKE_BATCH (schedule_wakes). In exact mode (with ``cfg.batch``), a neuron whose only entry in
    the bucket is an input after its state's time and before its safe time, not refractory, of a
    model whose batch_ok allows it, is set aside and updated with the others of its wake batch in
    one call of the model's update_batch (flush_batch), which the compiler vectorizes; those whose
    safe time then falls inside the bucket come back through run_neuron for predict's search.
    Neurons are independent within a bucket, so the order this changes alters no result."""
    qf, qi, chunk_next = q
    out_t, out_i, out_sr, out_st, out_sv = out
    smp = (out_sr, out_st, out_sv)
    n_s = meta[M_SAMPLES]
    n_v = meta[M_SVALS]
    neurons = not (SOURCES and is_source)
    batch_lo = ti     # touched[batch_lo:ti] have run, their wakes wait in nf[:, WAKE_DUE]
    # exact mode: neurons whose update the model takes in a batch wait in the scratch's B_* rows
    # (flush_batch); those of them that need predict's search then come back through run_neuron
    batched = not GRID and neurons and cfg.batch
    bs = ws[0]
    lowered = net.model_lowered[mid]
    nb = 0
    n_fb = 0
    fb = 0
    while True:
        predict_only = fb < n_fb
        if predict_only:
            j = np.int64(bs[B_FB, fb])
            fb += 1
            m = fb * 0        # no entries (an int64 like take_touched's count)
            pop = net.neuron_pop[j]
        else:
            stop = ti >= n_touched or spk_t.size - meta[M_STAGE] < SPIKE_ROOM
            if neurons and (ti - batch_lo == WAKE_BATCH or (stop and ti > batch_lo)):
                if nb > 0:
                    n_fb = flush_batch(cfg, net, st, nf, ni, k, bs, nb, lowered, mid)
                    nb = 0
                    fb = 0
                    continue
                schedule_wakes(cfg, nf, ni, q, meta, slots, touched, batch_lo, ti, k)
                batch_lo = ti
            if stop:
                break
            j, m = take_touched(net, st, nf, ni, qf, qi, touched, ti, n_touched, order)
            ti += 1
            pop = net.neuron_pop[j]
            counters[pop, C_UPDATES] += 1
            if batched and m == 1:
                e = order[0]
                t_e = qf[e, QT]
                r = net.prow[j]
                # one input, after the state's time, before any crossing can come, not refractory
                if (qi[e, QKIND] >= 0 and t_e > nf[j, T_STATE] and t_e < nf[j, SAFE]
                        and nf[j, REF_UNTIL] <= nf[j, T_STATE] and m_batch_ok(mid, st, net.params, r)):
                    bs[B_J, nb] = j
                    bs[B_T, nb] = t_e
                    bs[B_H, nb] = t_e - nf[j, T_STATE]
                    bs[B_W, nb] = qf[e, QW]
                    bs[B_PORT, nb] = qi[e, QKIND]
                    nb += 1
                    counters[pop, C_DELIVERIES] += 1
                    continue
        # under the global SOURCES alone, which Numba prunes before typing: an engine without
        # sources compiles none of their code (run_source, next_source_time; `neurons` would not
        # be pruned)
        if SOURCES:
            if is_source:
                # a source only takes its samples and schedules its next spike (its spikes do not
                # depend on its state)
                sv = st[j:j + 1]
                pv = net.params[net.prow[j]:net.prow[j] + 1]
                i0 = j * 0
                for x in range(m):
                    f = order[x]
                    if qi[f, QKIND] != KIND_SAMPLE:
                        continue
                    if bucket_of(cfg, qf[f, QT]) > k:
                        schedule(cfg, qf, qi, chunk_next, meta, slots, k, qf[f, QT], j, 0.0, KIND_SAMPLE,
                                 qi[f, QAUX])
                        continue
                    t_s = qf[f, QT]
                    r = qi[f, QAUX]
                    unchanged = r < 0   # False, as a variable: literal arguments specialise the callee
                    while r >= 0:
                        t_s, r, n_s, n_v = take_sample(cfg, k, j, r, t_s, unchanged, q, slots, meta, sv, pv, i0,
                                                       nf, ni, mid, spk_t, spk_i, ws, smp, n_s, n_v, net.rec_group,
                                                       net.rec_every, net.rec_var_ptr, net.rec_vars)
                run_source(cfg, j, k, qf, qi, chunk_next, slots, meta, sv, pv, i0, net.pop_i, net.pop_key,
                           net.neuron_pop, net.src_ptr, net.src_times, nf, ni, spk_t, spk_i)
                continue
        n_s, n_v, nf[j, WAKE_DUE] = run_neuron(cfg, net, j, k, order, m, q, slots, meta, st, nf, ni, mid, spk_t,
                                               spk_i, ws, smp, n_s, n_v, counters, pop, predict_only)
    meta[M_SAMPLES] = n_s
    meta[M_SVALS] = n_v
    return ti


@kernel(internal=True, refcounted=False, inline="always")
def schedule_wakes(cfg, nf, ni, q, meta, slots, touched, lo, hi, k):
    """Pushes the wakes that the neurons touched[lo:hi] asked for (nf[j, WAKE_DUE], inf: none).
    Together after their updates rather than each right after its own: a push waits on a division
    and on its bucket's fill count, and that chain held up the next neuron's work (CUBA on one
    thread, alternating, medians of 7: 0.167-0.179 -> 0.162-0.171 s; batches of 8 to 32 alike).

    A neuron whose queued wake comes no later than the new one's bucket keeps it (queue_wake):
    when it comes early, group_stage pushes it on to the neuron's wake time then (nf[j, SAFE])
    without updating the neuron, or drops it. A CUBA neuron gets an input every 2-3 ms and a wake
    at its safe time after each; pushing one per update made most of them stale."""
    qf, qi, chunk_next = q
    for x in range(lo, hi):
        j = touched[x]
        t_w = nf[j, WAKE_DUE]
        if t_w < cfg.t_end:
            queue_wake(cfg, qf, qi, chunk_next, meta, slots, ni, k, t_w, j)


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
    n_del = delivery_count(net, spk_i, n_sp, net.pop_i[:0], n_sp * 0)
    if not has_room(meta, n_del, cfg.n_slots):
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
def delivery_count(net, srt_i, n_sp, syn_ptr, p):
    """How many synapses the spikes' rows hold: room for all their deliveries (with partitions,
    ``syn_ptr`` not empty, for partition p's: see push_deliveries)."""
    partitioned = THREADS and syn_ptr.shape[0] > 0
    need = 0
    for x in range(n_sp):
        j = srt_i[x]
        pop = net.neuron_pop[j]
        for pp in range(net.pop_i[pop, P_PROJ_LO], net.pop_i[pop, P_PROJ_HI]):
            qq = net.pop_proj[pp]
            row = net.proj_i[qq, J_INDPTR] + j - net.proj_i[qq, J_SRC_LO]
            if partitioned:
                need += syn_ptr[row, p + 1] - syn_ptr[row, p]
            else:
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
