"""Running a compiled network: the Python side of the engine.

The kernel advances the network bucket by bucket up to a stop time and returns; this module
calls it in chunks of simulated time, so that a long run shows progress (simulated time,
events per second, ETA), can be interrupted (Ctrl-C, SIGTERM) keeping what it has simulated,
and never holds more output than one chunk inside the kernel.
"""
from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from . import codegen
from .layout import GRID, Layout, build, partition_bounds

CHUNK_SECONDS = 0.25     # aim for this much wall time per kernel call


@dataclass
class RawRun:
    """What a run produced, in global neuron indices."""

    spike_times: np.ndarray
    spike_ids: np.ndarray
    sample_slot: np.ndarray
    sample_time: np.ndarray
    sample_values: np.ndarray
    counters: np.ndarray              # (P, 4): spikes, deliveries, neuron updates, unused
    simulated: float                  # time actually reached
    partial: bool
    wall_seconds: float
    compile_seconds: float
    layout: Layout = field(repr=False)
    threads: int = 1
    updates_on_threads: int = 0       # neuron updates done by partitions on threads


class Simulation:
    """A network ready to run: ``Simulation(arrays).run()``."""

    def __init__(self, arrays, horizon: float | None = None, engine: str = "auto", threads: int = 1,
                 batch_updates: bool = True):
        """``engine``: which compiled engine, "auto", "own" or "all" (:func:`simcore.codegen.models_for`);
        compiled now if it is not yet. ``threads`` > 1: the neurons run in that many partitions, each
        on a thread (at most Numba's thread count), by an engine built for it; the results are
        the same bit for bit with any number (docs/engine.md). ``batch_updates``: see
        :func:`simcore.layout.build`."""
        if int(threads) != threads or threads < 1:
            raise ValueError(f"threads must be a whole number >= 1 (got {threads!r})")
        self.arrays = arrays
        self.threads = min(int(threads), numba.config.NUMBA_NUM_THREADS)
        grid = arrays.netlist.time.mode == GRID
        used = {p.model for p in arrays.populations.values()}
        names = codegen.models_for(used, grid, engine, threads=self.threads > 1)
        self.engine = codegen.engine_for(names, grid=grid, threads=self.threads > 1)
        kw = {} if horizon is None else {"horizon": horizon}
        self.layout = build(arrays, names, parts=self.threads, batch_updates=batch_updates, **kw)

    def run(self, progress=None) -> RawRun:
        """Runs to the end (or until interrupted). ``progress(sim_time, t_end, n_events, wall)``
        is called after every chunk."""
        eng = self.engine
        lay = self.layout
        cfg, net = lay.cfg, lay.net
        n = cfg.n
        st = lay.state0.copy()
        nf = np.zeros((n, 4))
        nf[:, eng.REF_UNTIL] = -math.inf
        nf[:, eng.SAFE] = -math.inf
        nf[:, eng.NEXT_SRC] = math.inf
        ni = np.zeros((n, 3), dtype=np.int64)
        ni[:, eng.WAKE_AT] = -1
        ni[:, eng.NB_HEAD] = -1
        meta = np.zeros(16, dtype=np.int64)
        meta[eng.M_THREADS] = self.threads
        rec, smp, vals = FIRST_SIZES["record"], FIRST_SIZES["samples"], FIRST_SIZES["values"]
        out = (np.empty(rec), np.empty(rec, dtype=np.int64), np.empty(smp, dtype=np.int64), np.empty(smp),
               np.empty(vals))
        counters = np.zeros((len(net.pop_i), 4), dtype=np.int64)
        run = _Partitioned(eng, lay, self.threads) if self.threads > 1 else _Single(eng, lay)
        return self._run(progress, run, st, nf, ni, meta, out, counters)

    def _run(self, progress, run, st, nf, ni, meta, out, counters) -> RawRun:
        eng = self.engine
        lay = self.layout
        cfg = lay.cfg
        # first calls compile (or load from the on-disk cache): timed apart from the run
        t_compile = time.perf_counter()
        with codegen.compile_lock(eng):
            run.start(st, nf, ni, meta)
            out = run.until(st, nf, ni, meta, out, counters, -1.0)
            codegen.mark_ready(lay.model_names, cfg.grid, self.threads > 1)
        compile_seconds = time.perf_counter() - t_compile

        spikes_t, spikes_i, smp_r, smp_t, smp_v = [], [], [], [], []
        t_run = time.perf_counter()
        partial = False
        sim_chunk = max(cfg.width, min(cfg.t_end, 1e-2))
        t_reached = 0.0
        with _StopRequests() as requests:
            try:
                while not meta[eng.M_DONE]:
                    if requests.stop:
                        partial = True
                        break
                    wall0 = time.perf_counter()
                    t_stop = t_reached + sim_chunk
                    out = run.until(st, nf, ni, meta, out, counters, t_stop)
                    t_reached = min(eng.bucket_start(cfg, meta[eng.M_BUCKET]), cfg.t_end)
                    if meta[eng.M_OVERFLOW]:
                        raise RuntimeError(
                            f"a neuron fired hundreds of times within one delay window near t = {t_reached:g} s "
                            "(a refractory period of 0 with a drive far above threshold?)")
                    self._harvest(eng, meta, out, spikes_t, spikes_i)
                    run.harvest_samples(smp_r, smp_t, smp_v)
                    spent = time.perf_counter() - wall0
                    if spent > 0:
                        sim_chunk = max(cfg.width, min(sim_chunk * min(4.0, CHUNK_SECONDS / spent), cfg.t_end))
                    if progress is not None:
                        progress(min(t_reached, cfg.t_end), cfg.t_end, int(counters[:, 1].sum()),
                                 time.perf_counter() - t_run)
            except KeyboardInterrupt:
                partial = True
                self._harvest(eng, meta, out, spikes_t, spikes_i)
                run.harvest_samples(smp_r, smp_t, smp_v)
        wall = time.perf_counter() - t_run
        simulated = cfg.t_end if not partial else t_reached
        if cfg.grid:
            simulated = min(simulated, self.arrays.netlist.time.duration)
        cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
        return RawRun(cat(spikes_t, np.float64), cat(spikes_i, np.int64), cat(smp_r, np.int64), cat(smp_t, np.float64),
                      cat(smp_v, np.float64), counters, float(simulated), partial, wall, compile_seconds, lay,
                      self.threads, int(meta[eng.M_SPLIT]))

    @staticmethod
    def _harvest(eng, meta, out, spikes_t, spikes_i):
        n = meta[eng.M_SPIKES]
        spikes_t.append(out[0][:n].copy())
        spikes_i.append(out[1][:n].copy())
        meta[eng.M_SPIKES] = 0


#: first sizes of the buffers the engine fills (the queue's chunks at least, beyond what the first
#: looks need; a stage's spikes, on one thread also their order, on threads the merged spikes; the
#: recorded spikes, the sample slots and times, the sampled values; per partition on threads);
#: each grows when it runs short (tests start them at one to take every growth path)
FIRST_SIZES = {"chunks": 1024, "stage": 4096, "record": 4096, "samples": 256, "values": 1024}


def _grown(a: np.ndarray, need: int) -> np.ndarray:
    """``a`` if it holds ``need`` elements, else a copy with room for max(need, 2 size + 16): the
    engine's grow_f/grow_i in NumPy (called from here, those would compile on the first growth,
    inside the timed loop)."""
    if need <= a.size:
        return a
    b = np.empty(max(int(need), 2 * a.size + 16), dtype=a.dtype)
    b[:a.size] = a
    return b


def _queue_chunks(eng, n_entries: int, n_slots: int) -> int:
    """Chunks for a queue into which ``start`` pushes ``n_entries`` without growing it."""
    return max(FIRST_SIZES["chunks"], int(eng.chunks_needed(n_entries, n_slots)) + 1)


def _model_segments(eng, lay, lo: int, hi: int, pad_rows: int = 0):
    """Where the engine lists the touched neurons of [lo, hi) by model (group_stage): one row per
    model, (start, end) in ``by_model``, consecutive in model order and each as long as the
    model's neuron count there; ``pad_rows`` empty rows after them."""
    net = lay.net
    starts = net.pop_i[:, eng.P_OFFSET]
    ends = np.append(starts[1:], lay.cfg.n)
    inside = np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0, None)
    counts = np.bincount(net.pop_i[:, eng.P_MODEL], weights=inside, minlength=net.model_jumps.shape[0])
    counts = counts.astype(np.int64)
    segs = np.zeros((counts.size + pad_rows, 2), dtype=np.int64)
    segs[:counts.size, eng.SEG_START] = np.cumsum(counts) - counts
    segs[:, eng.SEG_END] = segs[:, eng.SEG_START]
    return segs


class _Single:
    """The engine's state on one thread: one calendar queue (engine.run_buckets, which allocates
    nothing: the buffers it runs short of are grown here)."""

    def __init__(self, eng, lay):
        self.eng, self.lay = eng, lay
        cfg = lay.cfg
        self.chunks = _queue_chunks(eng, cfg.n + lay.net.rec_neuron.size, cfg.n_slots)
        self.q = (np.empty((self.chunks * eng.CHUNK, 2)), np.empty((self.chunks * eng.CHUNK, 4), dtype=np.int64),
                  np.append(np.arange(1, self.chunks, dtype=np.int64), -1))
        self.slots = np.zeros((cfg.n_slots, 4), dtype=np.int64)
        self.slots[:, eng.SHEAD] = -1
        self.slots[:, eng.STAIL] = -1
        self.by_model = np.empty(cfg.n, dtype=np.int64)
        self.segs = _model_segments(eng, lay, 0, cfg.n)
        size = FIRST_SIZES["stage"]
        self.work = (np.empty(size), np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64))
        self.state = np.zeros(eng.S_COLUMNS, dtype=np.int64)   # where run_buckets goes on
        self.ws = self.meta = self.out = None

    def start(self, st, nf, ni, meta):
        eng, lay = self.eng, self.lay
        meta[eng.M_FREE] = 0
        meta[eng.M_NFREE] = self.chunks
        meta[eng.M_CHUNKS] = self.chunks
        self.ws = eng.workspace(st.shape[1])    # here, where its first compilation is timed with the engine's
        self.q = eng.start(lay.cfg, lay.net, st, nf, ni, self.q, meta, self.slots, np.int64(0), np.int64(lay.cfg.n))

    def until(self, st, nf, ni, meta, out, counters, t_stop):
        eng, lay = self.eng, self.lay
        while True:
            need = eng.run_buckets(lay.cfg, lay.net, st, nf, ni, self.q, meta, self.slots, self.by_model, self.segs,
                                   self.work, out, counters, self.ws, self.state, t_stop)
            if need == eng.NEED_NOTHING:
                break
            out = self._grow(need, meta, out, st.shape[1])
        self.meta, self.out = meta, out
        return out

    def _grow(self, need, meta, out, n_state):
        """Grows what run_buckets ran short of (it allocates nothing itself); returns ``out``."""
        eng, cfg, state = self.eng, self.lay.cfg, self.state
        spk_t, spk_i, order = self.work
        if need == eng.NEED_QUEUE:
            self.q = eng.reserve(self.q, meta, state[eng.S_ENTRIES], cfg.n_slots)
        elif need == eng.NEED_ORDER:
            slot = meta[eng.M_BUCKET] & (cfg.n_slots - 1)
            self.work = (spk_t, spk_i, _grown(order, self.slots[slot, eng.SCOUNT]))
        elif need == eng.NEED_SPIKES:
            self.work = (_grown(spk_t, 2 * spk_t.size + 256), _grown(spk_i, 2 * spk_i.size + 256), order)
        elif need == eng.NEED_RECORD:
            n = meta[eng.M_SPIKES] + meta[eng.M_STAGE]
            out = (_grown(out[0], n), _grown(out[1], n)) + out[2:]
        else:
            assert need == eng.NEED_SAMPLES, need
            n_smp = state[eng.S_SAMPLES]
            out = out[:2] + (_grown(out[2], meta[eng.M_SAMPLES] + n_smp), _grown(out[3], meta[eng.M_SAMPLES] + n_smp),
                             _grown(out[4], meta[eng.M_SVALS] + n_smp * max(n_state, 1)))
        return out

    def harvest_samples(self, smp_r, smp_t, smp_v):
        eng, meta, out = self.eng, self.meta, self.out
        ns = meta[eng.M_SAMPLES]
        nv = meta[eng.M_SVALS]
        smp_r.append(out[2][:ns].copy())
        smp_t.append(out[3][:ns].copy())
        smp_v.append(out[4][:nv].copy())
        meta[eng.M_SAMPLES] = 0
        meta[eng.M_SVALS] = 0


class _Partitioned:
    """The engine's state on P threads: the neurons in P consecutive blocks, each with a calendar
    queue, spike and sample buffers of its own (engine.Parts), each run by engine.part_loop on a
    thread of its own; the partitions meet at barriers in ``sync`` (engine.Y_* columns)."""

    def __init__(self, eng, lay, threads: int):
        from .crossing import MAX_TERMS, ROOT_ROWS

        self.eng, self.lay = eng, lay
        cfg, net = lay.cfg, lay.net
        P = threads
        bounds = partition_bounds(cfg.n, P)
        block = int(np.diff(bounds).max())
        chunks = _queue_chunks(eng, block + net.rec_neuron.size, cfg.n_slots)
        cn = np.empty((P, chunks), dtype=np.int64)
        cn[:] = np.append(np.arange(1, chunks, dtype=np.int64), -1)
        pmeta = np.zeros((P, 16 + eng.META_PAD), dtype=np.int64)
        pmeta[:, eng.M_FREE] = 0
        pmeta[:, eng.M_NFREE] = chunks
        pmeta[:, eng.M_CHUNKS] = chunks
        slots = np.zeros((P, cfg.n_slots, 4), dtype=np.int64)
        slots[:, :, eng.SHEAD] = -1
        slots[:, :, eng.STAIL] = -1
        # the segments' rows padded like pmeta's (the threads write them)
        segs = np.stack([_model_segments(eng, lay, bounds[p], bounds[p + 1], pad_rows=8)
                         for p in range(P)])
        n_state = max(lay.state0.shape[1], 1)
        stage, smp, vals = FIRST_SIZES["stage"], FIRST_SIZES["samples"], FIRST_SIZES["values"]
        self.parts = eng.Parts(
            bounds, lay.syn_ptr, np.empty((P, chunks * eng.CHUNK, 2)),
            np.empty((P, chunks * eng.CHUNK, 4), dtype=np.int64), cn, pmeta, slots,
            np.empty((P, block), dtype=np.int64), segs, np.zeros((P, 16), dtype=np.int64),
            np.empty((P, stage), dtype=np.int64), np.empty((P, stage)), np.empty((P, stage), dtype=np.int64),
            np.empty((P, smp), dtype=np.int64), np.empty((P, smp)), np.empty((P, vals)),
            np.zeros((P, len(net.pop_i) + 4, 4), dtype=np.int64),
            # the solver workspace per partition, each row padded (part_loop cuts run_buckets' shapes from it)
            np.empty((P,) + eng.scratch_shape(n_state)), np.empty((P, MAX_TERMS + 16)),
            np.empty((P, MAX_TERMS + 16)), np.empty((P, MAX_TERMS + 16)), np.empty((P, 4, MAX_TERMS + 1, MAX_TERMS)),
            np.zeros((P, MAX_TERMS + 17), dtype=np.int64), np.empty((P, ROOT_ROWS + 2, MAX_TERMS)))
        self.work = (np.empty(stage), np.empty(stage, dtype=np.int64))
        self.sync = np.zeros(eng.sync_size(P), dtype=np.int64)    # at the top of bucket 0
        self.loaded = False

    def start(self, st, nf, ni, meta):
        eng, lay, pa = self.eng, self.lay, self.parts
        for p in range(pa.bounds.size - 1):
            q = (pa.qf[p], pa.qi[p], pa.cn[p])
            q2 = eng.start(lay.cfg, lay.net, st, nf, ni, q, pa.meta[p], pa.slots[p], pa.bounds[p], pa.bounds[p + 1])
            assert q2[2].size == q[2].size   # _queue_chunks made room: the queue was not replaced

    def until(self, st, nf, ni, meta, out, counters, t_stop):
        eng, lay, sync = self.eng, self.lay, self.sync
        t_stop = float(t_stop)
        if not self.loaded:
            self._load(st, nf, ni, meta, out, counters, t_stop)
        while True:
            self._run_partitions([(lay.cfg, lay.net, st, nf, ni, self.parts, p, sync, self.work, out, meta, counters,
                                   t_stop) for p in range(self.parts.bounds.size - 1)])
            short = self.parts.state[:, eng.S_NEED] != eng.NEED_NOTHING
            if not short.any() and sync[eng.Y_MERGE_NEED] == 0:
                break
            # they all stopped at the same barrier: grow what is short, then they go on from there
            if short.any():
                self.parts = eng.grow_parts(lay.cfg, self.parts, sync[eng.Y_BUCKET], st.shape[1])
                self.parts.state[:, eng.S_NEED] = eng.NEED_NOTHING
            n_sp = sync[eng.Y_MERGE_NEED]
            if n_sp:    # partition 0's merge: its buffer (and the sort's scratch) and the record
                n = meta[eng.M_SPIKES] + n_sp
                self.work = (_grown(self.work[0], 2 * n_sp), _grown(self.work[1], 2 * n_sp))
                out = (_grown(out[0], n), _grown(out[1], n)) + out[2:]
                sync[eng.Y_MERGE_NEED] = 0
        # the partitions' counters into the run's (spikes are counted by partition 0's merge)
        pc = self.parts.counters[:, :counters.shape[0], :]
        meta[eng.M_SPLIT] += int(pc[:, :, eng.C_UPDATES].sum())
        counters += pc.sum(axis=0)
        pc[:] = 0
        return out

    def _load(self, st, nf, ni, meta, out, counters, t_stop):
        """Compiles (or loads) part_loop and grow_parts on this thread, before any worker calls
        them: a worker that failed in the dispatcher would leave the others waiting at their
        first barrier, and grow_parts' first compilation would land in the timed loop."""
        eng, lay, sync = self.eng, self.lay, self.sync
        step = sync[eng.Y_STEP]
        sync[eng.Y_STEP] = eng.STEP_IDLE
        eng.part_loop(lay.cfg, lay.net, st, nf, ni, self.parts, 0, sync, self.work, out, meta, counters, t_stop)
        sync[eng.Y_STEP] = step
        self.parts = eng.grow_parts(lay.cfg, self.parts, sync[eng.Y_BUCKET], st.shape[1])   # nothing to grow
        self.loaded = True

    def _run_partitions(self, args):
        """part_loop(*args[p]) for every partition p, partition 0 on this thread, the others on
        threads of their own; returns when all have returned, raising the error of one that
        failed. A partition that fails, or partition 0 not coming at all (an exception or a second
        Ctrl-C before its call), aborts the barrier: the others would wait there for ever."""
        eng, sync = self.eng, self.sync
        errors = []

        def partition(a):
            try:
                eng.part_loop(*a)
            except BaseException as e:
                errors.append(e)
                sync[eng.Y_ABORT] = 1

        threads = [threading.Thread(target=partition, args=(a,), daemon=True) for a in args[1:]]
        finished = False
        try:
            for th in threads:
                th.start()
            eng.part_loop(*args[0])
            finished = True
        finally:
            if not finished:
                sync[eng.Y_ABORT] = 1
            for th in threads:
                if th.ident is not None:
                    th.join()
        if errors:
            raise errors[0]

    def harvest_samples(self, smp_r, smp_t, smp_v):
        eng, pa = self.eng, self.parts
        for p in range(pa.bounds.size - 1):
            ns = pa.meta[p, eng.M_SAMPLES]
            nv = pa.meta[p, eng.M_SVALS]
            smp_r.append(pa.out_sr[p, :ns].copy())
            smp_t.append(pa.out_st[p, :ns].copy())
            smp_v.append(pa.out_sv[p, :nv].copy())
            pa.meta[p, eng.M_SAMPLES] = 0
            pa.meta[p, eng.M_SVALS] = 0


@contextlib.contextmanager
def numba_threads(n: int):
    """Numba's parallel loops run on ``n`` threads (at most its thread count) inside the block
    (the event-gated engine's; the spiking engine's partitions run on threads of their own)."""
    before = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


class _StopRequests:
    """While a run is in progress, SIGINT (Ctrl-C) and SIGTERM ask it to stop at the end of the
    current chunk, keeping what was simulated. (Raising from the handler would land inside a
    compiled call.) A second Ctrl-C interrupts at once. Main thread only; elsewhere, no-op."""

    def __init__(self):
        self.stop = False
        self.old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.old[sig] = signal.signal(sig, self._handler)
            except (ValueError, OSError):
                pass
        return self

    def _handler(self, signum, frame):
        if self.stop and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.stop = True

    def __exit__(self, *exc):
        for sig, old in self.old.items():
            signal.signal(sig, old)
        return False
