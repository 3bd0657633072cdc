"""A slow, obviously correct reference simulator for docs/semantics.md (tests only).

    from reference_engine import simulate        # tests/simcore/conftest.py puts this folder on sys.path
    out = simulate(netspec.expand(netspec.load(path)))          # mode="grid" / "exact" overrides the netlist
    out["spikes"][pop] -> (times float64, local ids int32), sorted by (time, id)
    out["state"][pop]  -> {"times", "neurons" (int32 local ids), var: (n_times, n_neurons) float64}

The layout is that of :class:`backends.result.Result` (``spikes`` and ``state``). Spikes are
kept for the populations in ``record.spikes``, state for ``record.state``. Models: lif_exp,
alif, lif, if; sources: poisson, spike_times.

It is written to be checked by eye, not to be fast, and it shares no code with the compiled
engine: each model's closed-form solution between events is written out below, straight
from the equations in the docstrings of ``simcore/models/*.py``; only the source spike trains
come from :func:`simcore.sources.source_spikes` (the engine's own random draws, so that both
see the same input).

Grid mode is the plain clock-driven loop of Brian2's schedule (semantics.md, "Grid mode"):
every step updates every neuron by the exact one-step solution (v held where
timestep(t - lastspike) < R), tests ``g > 0`` on the new state, applies the deliveries due at
that grid point (delta inputs lost at the spike's own point and while refractory), then resets.
It is checked against Brian2 2.11 itself in test_reference_engine.py (spikes and state).

Exact mode is an event loop over delivery events (heapq, ordered by time, source id, synapse
index), with populations handled in the zero-delay topological order at each instant. Between
events each neuron's first threshold crossing is found numerically: g and its derivative g'
(from the model's ODE) are sampled on a grid of step ``min(time constants) / 128``; an interval
is searched further if g >= 0 at its right end, or if g' goes from + to - inside it (a local
maximum of g: located by subdividing on the sign of g', then tested). The crossing is then
narrowed to adjacent floats by repeated subdivision of its bracket (done lazily, only when the
bracket may hold the next event). The search stops early where a comparison bound proves that
g stays negative (currents only decay), else at the neuron's next known input or the end.
LIMITATION: an excursion above threshold is missed only if g has both a local maximum and a
local minimum inside one sampling interval (g' changes sign twice within min(tau)/128) and the
maximum reaches threshold only there, i.e. extremely narrow grazing crossings. The compiled
engine's root isolation (simcore/crossing.py) has no such gap; the reference deliberately uses
a different method.

Choices where semantics.md leaves room:
- refractoriness is the closed interval [t, t + t_ref]: a delta input arriving exactly at
  t + t_ref is lost (exact mode).
- a neuron whose g >= 0 at the end of its refractory period (possible only for alif with
  beta < 0, where the threshold drops at a spike) fires at that end time t + t_ref; with
  t_ref = 0 it would fire forever at one instant, which raises RuntimeError.
- state samples: exact mode at k * every for k = 0, 1, ... while k * every < duration; grid mode
  at the steps n = 0 .. N - 1 that are multiples of round(every / dt) (times n * dt).
- simultaneous inputs in grid mode are added in the order (source id, synapse index).
- state of source populations cannot be recorded here (NotImplementedError).
"""
from __future__ import annotations

import dataclasses
import heapq
import math
from collections import defaultdict

import numpy as np

from netspec.graph import processing_order
from simcore.sources import source_spikes

#: default state-sampling interval in exact mode (semantics.md)
EXACT_EVERY = 1e-4
#: crossing search: samples per shortest time constant
SAMPLES_PER_TAU = 128
#: a time constant this close (relative) to tau_m uses the limit form of the PSC kernel
NEAR_TAU = 1e-3


# ============================================================================ model equations
def _phi1(x):
    """expm1(x) / x, with its limit 1 at x = 0."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, np.expm1(safe) / safe)


def _psc(h, tau_m, tau_s):
    """Voltage at time h of tau_m dv/dt = -v + exp(-t/tau_s), v(0) = 0 (a unit current).

    Particular solution K exp(-t/tau_s) with K = tau_s / (tau_s - tau_m); so
    v(h) = K (exp(-h/tau_s) - exp(-h/tau_m)), and for tau_s -> tau_m the equivalent form
    (h/tau_m) exp(-h/tau_m) phi1(h (tau_s - tau_m) / (tau_s tau_m)), which has no cancellation
    (at tau_s = tau_m exactly it is (h/tau_m) exp(-h/tau_m))."""
    if isinstance(tau_m, float) and isinstance(tau_s, float):
        # one neuron (h a time or an array of times): choose the form once
        if abs(tau_s - tau_m) > NEAR_TAU * tau_m:
            return tau_s / (tau_s - tau_m) * (np.exp(-h / tau_s) - np.exp(-h / tau_m))
        return (h / tau_m) * np.exp(-h / tau_m) * _phi1(h * (tau_s - tau_m) / (tau_s * tau_m))
    # arrays of neurons (grid mode): both forms, chosen per neuron
    far_ok = np.abs(tau_s - tau_m) > NEAR_TAU * tau_m
    denom = np.where(far_ok, tau_s - tau_m, 1.0)
    far = tau_s / denom * (np.exp(-h / tau_s) - np.exp(-h / tau_m))
    if np.all(far_ok):
        return far
    near = (h / tau_m) * np.exp(-h / tau_m) * _phi1(h * (tau_s - tau_m) / (tau_s * tau_m))
    return np.where(far_ok, far, near)


class LifExp:
    """tau_m dv/dt = e_l - v + i_exc + i_inh + i_bias;  tau_s di_s/dt = -i_s;  v held while refractory."""
    name = "lif_exp"
    state_vars = ("v", "i_exc", "i_inh")
    port_var = {"exc": "i_exc", "inh": "i_inh"}
    jumps = False          # inputs change currents: v (and g) are continuous

    def free(self, p, s, h):
        """State after h with no input and no refractoriness."""
        u = p["e_l"] + p["i_bias"]
        v = u + (s["v"] - u) * np.exp(-h / p["tau_m"])
        for cur, tau in (("i_exc", "tau_exc"), ("i_inh", "tau_inh")):
            if not (isinstance(s[cur], float) and s[cur] == 0.0):     # (a zero current adds nothing)
                v = v + s[cur] * _psc(h, p["tau_m"], p[tau])
        return {"v": v,
                "i_exc": s["i_exc"] * np.exp(-h / p["tau_exc"]),
                "i_inh": s["i_inh"] * np.exp(-h / p["tau_inh"])}

    def held(self, p, s, h):
        """State after h while refractory: v held, currents decay."""
        return {"v": s["v"] + 0.0 * h,
                "i_exc": s["i_exc"] * np.exp(-h / p["tau_exc"]),
                "i_inh": s["i_inh"] * np.exp(-h / p["tau_inh"])}

    def g(self, p, s):
        return s["v"] - p["v_th"]

    def dg(self, p, s):
        return (p["e_l"] + p["i_bias"] - s["v"] + s["i_exc"] + s["i_inh"]) / p["tau_m"]

    def reset(self, p, s):
        return {**s, "v": p["v_reset"] + 0.0 * s["v"]}

    def never_crosses(self, p, s):
        """True if free evolution from s provably never reaches g >= 0: the currents only shrink
        in size, so v never exceeds max(v, u + |i_exc| + |i_inh|) (comparison principle)."""
        bound = max(s["v"], p["e_l"] + p["i_bias"] + abs(s["i_exc"]) + abs(s["i_inh"]))
        return bound < p["v_th"]

    def sample_step(self, p):
        return min(p["tau_m"], p["tau_exc"], p["tau_inh"]) / SAMPLES_PER_TAU


class Alif(LifExp):
    """lif_exp plus tau_a da/dt = -a; threshold v_th + a; reset v <- v_reset, a <- a + beta."""
    name = "alif"
    state_vars = ("v", "i_exc", "i_inh", "a")

    def free(self, p, s, h):
        return {**super().free(p, s, h), "a": s["a"] * np.exp(-h / p["tau_a"])}

    def held(self, p, s, h):
        return {**super().held(p, s, h), "a": s["a"] * np.exp(-h / p["tau_a"])}

    def g(self, p, s):
        return s["v"] - p["v_th"] - s["a"]

    def dg(self, p, s):
        return super().dg(p, s) + s["a"] / p["tau_a"]

    def reset(self, p, s):
        return {**super().reset(p, s), "a": s["a"] + p["beta"]}

    def never_crosses(self, p, s):
        # the threshold v_th + a(t) never drops below v_th + min(a, 0)
        bound = max(s["v"], p["e_l"] + p["i_bias"] + abs(s["i_exc"]) + abs(s["i_inh"]))
        return bound < p["v_th"] + min(s["a"], 0.0)

    def sample_step(self, p):
        return min(super().sample_step(p), p["tau_a"] / SAMPLES_PER_TAU)


class Lif:
    """tau_m dv/dt = e_l - v + i_bias;  inputs: v += w (lost while refractory)."""
    name = "lif"
    state_vars = ("v",)
    port_var = {"exc": "v", "inh": "v"}
    jumps = True

    def free(self, p, s, h):
        u = p["e_l"] + p["i_bias"]
        return {"v": u + (s["v"] - u) * np.exp(-h / p["tau_m"])}

    def held(self, p, s, h):
        return {"v": s["v"] + 0.0 * h}

    def g(self, p, s):
        return s["v"] - p["v_th"]

    def dg(self, p, s):
        return (p["e_l"] + p["i_bias"] - s["v"]) / p["tau_m"]

    def reset(self, p, s):
        return {"v": p["v_reset"] + 0.0 * s["v"]}

    def never_crosses(self, p, s):
        return max(s["v"], p["e_l"] + p["i_bias"]) < p["v_th"]

    def sample_step(self, p):
        return p["tau_m"] / SAMPLES_PER_TAU


class If:
    """tau_m dv/dt = i_bias (no leak);  inputs: v += w (lost while refractory)."""
    name = "if"
    state_vars = ("v",)
    port_var = {"exc": "v", "inh": "v"}
    jumps = True

    def free(self, p, s, h):
        return {"v": s["v"] + h * (p["i_bias"] / p["tau_m"])}

    def held(self, p, s, h):
        return {"v": s["v"] + 0.0 * h}

    def g(self, p, s):
        return s["v"] - p["v_th"]

    def dg(self, p, s):
        return p["i_bias"] / p["tau_m"] + 0.0 * s["v"]

    def reset(self, p, s):
        return {"v": p["v_reset"] + 0.0 * s["v"]}

    def never_crosses(self, p, s):
        return p["i_bias"] <= 0.0 and s["v"] < p["v_th"]

    def sample_step(self, p):
        return math.inf       # g is linear: its end points decide


MODELS = {m.name: m for m in (LifExp(), Alif(), Lif(), If())}
SOURCES = ("poisson", "spike_times")
#: a crossing prediction that never happens: (lo, hi, finish)
NEVER = (math.inf, math.inf, None)


# ============================================================================ entry point
def simulate(arrays, mode: str | None = None) -> dict:
    """Runs an expanded netlist (netspec.Expanded); ``mode`` overrides the netlist's time mode.

    Returns {"spikes": {pop: (times, ids)}, "state": {pop: {"times", "neurons", var...}}}."""
    net = arrays.netlist
    if mode is not None and mode != net.time.mode:
        if mode == "grid" and not net.time.dt:
            raise ValueError("grid mode needs time.dt")
        net = dataclasses.replace(net, time=dataclasses.replace(net.time, mode=mode))
        arrays = dataclasses.replace(arrays, netlist=net)
    for pop in arrays.populations.values():
        if pop.model not in MODELS and pop.model not in SOURCES:
            raise NotImplementedError(f"reference engine: model {pop.model!r} not covered")
    for rec in net.record.state:
        if arrays.populations[rec.population].model in SOURCES:
            raise NotImplementedError("reference engine: state of source populations is not recorded")
    if net.time.mode == "grid":
        return _Grid(arrays).run()
    return _Exact(arrays).run()


def _synapses(arrays):
    """Per global source neuron: [(synapse index, target, weight, delay, port)], synapse
    indices running over the projections in netlist order, each in expansion order."""
    out = defaultdict(list)
    k = 0
    for proj in arrays.projections:
        for pre, post, w, d in zip(proj.pre.tolist(), proj.post.tolist(),
                                   np.asarray(proj.weight, dtype=np.float64).tolist(),
                                   np.asarray(proj.delay, dtype=np.float64).tolist()):
            out[pre].append((k, post, w, d, proj.port))
            k += 1
    return out


def _locate(arrays, gid):
    """(population, local id) of a global neuron index."""
    for pop in arrays.populations.values():
        if pop.offset <= gid < pop.offset + pop.size:
            return pop, gid - pop.offset
    raise IndexError(gid)


def _spike_arrays(spikes, names):
    out = {}
    for name in names:
        lst = spikes.get(name, [])
        times = np.array([t for t, _ in lst], dtype=np.float64)
        ids = np.array([i for _, i in lst], dtype=np.int32)
        order = np.lexsort((ids, times))
        out[name] = (times[order], ids[order])
    return out


# ============================================================================ exact mode
class _Neuron:
    """One neuron: parameters and state (as of time ``t``) as plain floats."""

    def __init__(self, model, pop, local):
        self.model = model
        self.pop = pop.name
        self.local = local
        self.gid = pop.offset + local
        self.p = {k: float(v[local]) for k, v in pop.params.items()}
        self.s = {k: float(pop.init[k][local]) for k in model.state_vars}
        self.t = 0.0
        self.ref_until = -math.inf      # refractory on [last spike, ref_until]

    def state_at(self, t1):
        """The state at t1 >= t with no input (v held until ref_until), without changing self."""
        s, t0 = self.s, self.t
        if self.ref_until > t0:
            tr = min(self.ref_until, t1)
            s = self.model.held(self.p, s, tr - t0)
            t0 = tr
        if t1 > t0:
            s = self.model.free(self.p, s, t1 - t0)
        return {k: float(v) for k, v in s.items()}

    def advance(self, t1):
        if t1 != self.t:
            self.s = self.state_at(t1)
            self.t = t1

    def refractory_at(self, t):
        return t <= self.ref_until


def first_crossing(model, p, base, t0, t_end):
    """First t in [t0, t_end] with g(t) >= 0 when the state is ``base`` at t0 and evolves freely;
    inf if none is found (see the module docstring for what the sampling can miss)."""
    found = crossing_bracket(model, p, base, t0, t_end)
    if found is None:
        return math.inf
    lo, hi, finish = found
    return lo if finish is None else finish()


def crossing_bracket(model, p, base, t0, t_end):
    """Where :func:`first_crossing` lies, without refining it yet: None (no crossing), or
    (lo, hi, finish) with the crossing in (lo, hi] and ``finish()`` giving it; finish is None
    when the crossing is already exact (lo == hi)."""
    g0 = model.g(p, base)
    if g0 >= 0.0:
        return (t0, t0, None)
    step = model.sample_step(p)

    def state(t):
        return model.free(p, base, t - t0)

    def g_at(t):
        return model.g(p, state(t))

    def dg_at(t):
        return model.dg(p, state(t))

    def bracket(lo, hi):
        return (lo, hi, lambda: _refine(lambda t: g_at(t) >= 0.0, lo, hi))

    a, ga, dga, s_a = t0, float(g0), float(model.dg(p, base)), base
    n_chunk = 256
    while a < t_end:
        if model.never_crosses(p, s_a):
            return None
        b = min(t_end, a + n_chunk * step)
        n = 1 if math.isinf(step) else max(1, int(math.ceil((b - a) / step)))
        ts = np.linspace(a, b, n + 1)
        ts[0], ts[-1] = a, b
        S = state(ts)
        G, DG = np.broadcast_arrays(np.asarray(model.g(p, S), dtype=np.float64),
                                    np.asarray(model.dg(p, S), dtype=np.float64))
        G, DG = G.copy(), DG.copy()
        G[0], DG[0] = ga, dga
        up = G[1:] >= 0.0                              # g has reached threshold by the right end
        peak = (DG[:-1] > 0.0) & (DG[1:] < 0.0)        # a local maximum of g inside
        for k in np.flatnonzero(up | peak):
            lo, hi = float(ts[k]), float(ts[k + 1])
            if peak[k]:
                m = _refine(lambda t: dg_at(t) <= 0.0, lo, hi)      # the local maximum of g
                if g_at(m) >= 0.0:
                    return bracket(lo, m)
                if not up[k]:
                    continue
                lo = m                                           # g falls, then rises to >= 0 at hi
            return bracket(lo, hi)
        a, ga, dga = b, float(G[-1]), float(DG[-1])
        s_a = {k: float(v[-1]) for k, v in S.items()}
        n_chunk = min(2 * n_chunk, 8192)
    return None


def _refine(pred, lo, hi, n=256):
    """The smallest float t in (lo, hi] with pred(t) true, given pred false at lo and true at hi
    (only one change in between), to adjacent floats: the bracket is sampled at n + 1 points
    (pred vectorised) and narrowed to the first sample where pred holds, until nothing is left
    between lo and hi."""
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return hi
        ts = np.unique(np.clip(np.linspace(lo, hi, n + 1), lo, hi))
        ok = np.asarray(pred(ts), dtype=bool)
        ok[0], ok[-1] = False, True          # the bracket's ends as given
        k = int(np.argmax(ok))
        lo, hi = float(ts[k - 1]), float(ts[k])


class _Exact:
    def __init__(self, arrays):
        self.arrays = arrays
        net = arrays.netlist
        self.T = net.time.duration
        self.syn = _synapses(arrays)
        self.stages = processing_order(net, arrays.delay_ranges())
        self.neurons = {}                 # gid -> _Neuron
        self.sources = {}                 # pop name -> list of (t, gid), sorted
        for pop in arrays.populations.values():
            if pop.model in SOURCES:
                times, ids = source_spikes(arrays, pop.name)
                self.sources[pop.name] = [(float(t), pop.offset + int(i)) for t, i in zip(times, ids)]
            else:
                for i in range(pop.size):
                    n = _Neuron(MODELS[pop.model], pop, i)
                    self.neurons[n.gid] = n
        self.src_pos = {name: 0 for name in self.sources}
        self.heap = []                    # (arrival, source gid, synapse index, target gid, weight, port)
        self.pending = defaultdict(list)  # target gid -> heap of arrival times not yet applied
        self.pred = {}                    # gid -> next crossing with no further input: (lo, hi, finish)
        self.spikes = defaultdict(list)   # pop -> [(t, local)]

    # ------------------------------------------------------------------ pieces
    def predict(self, n):
        s0 = max(n.t, n.ref_until)
        horizon = self.T
        if self.pending[n.gid]:
            horizon = min(horizon, self.pending[n.gid][0])
        if s0 > horizon:
            return NEVER
        return crossing_bracket(n.model, n.p, n.state_at(s0), s0, horizon) or NEVER

    def emit(self, gid, t):
        for k, post, w, d, port in self.syn.get(gid, ()):
            heapq.heappush(self.heap, (t + d, gid, k, post, w, port))
            heapq.heappush(self.pending[post], t + d)

    def fire(self, n, t):
        self.spikes[n.pop].append((t, n.local))
        n.s = {k: float(v) for k, v in n.model.reset(n.p, n.s).items()}
        n.ref_until = t + n.p["t_ref"]
        self.emit(n.gid, t)

    def next_source_time(self):
        best = math.inf
        for name, lst in self.sources.items():
            pos = self.src_pos[name]
            if pos < len(lst):
                best = min(best, lst[pos][0])
        return best

    def next_time(self):
        """The earliest of: the next input, the next source spike, the next threshold crossing.
        Crossings are kept as brackets (lo, hi] and refined only when one may come first."""
        t_other = min(self.heap[0][0] if self.heap else math.inf, self.next_source_time())
        while self.pred:
            gid = min(self.pred, key=lambda k: self.pred[k][0])
            lo, hi, finish = self.pred[gid]
            if finish is None:
                return min(t_other, lo)
            if lo >= t_other:                   # its crossing is after lo, so after t_other
                return t_other
            t = finish()
            self.pred[gid] = (t, t, None)
        return t_other

    # ------------------------------------------------------------------ one instant
    def process(self, t):
        """Everything that happens at time t, population stage by stage (zero-delay order)."""
        arrivals = defaultdict(list)
        for stage in self.stages:
            while self.heap and self.heap[0][0] <= t:
                ev = heapq.heappop(self.heap)
                assert ev[0] == t, "an input was left behind"
                arrivals[ev[3]].append(ev)
            for name in stage:
                pop = self.arrays.populations[name]
                if name in self.sources:
                    lst, pos = self.sources[name], self.src_pos[name]
                    while pos < len(lst) and lst[pos][0] == t:
                        gid = lst[pos][1]
                        self.spikes[name].append((t, gid - pop.offset))
                        self.emit(gid, t)
                        pos += 1
                    self.src_pos[name] = pos
                    continue
                for gid in range(pop.offset, pop.offset + pop.size):
                    n = self.neurons[gid]
                    inputs = arrivals.pop(gid, [])
                    lo, _, finish = self.pred[gid]
                    spikes_now = finish is None and lo == t
                    if not spikes_now and not inputs:
                        continue
                    n.advance(t)
                    fired = spikes_now
                    if spikes_now:                       # a spike at t comes before inputs at t
                        self.fire(n, t)
                    if inputs:
                        inputs.sort(key=lambda e: (e[1], e[2]))          # (source id, synapse index)
                        for ev in inputs:
                            heapq.heappop(self.pending[gid])
                            if n.model.jumps and n.refractory_at(t):
                                continue                                 # lost (iaf_psc_delta)
                            n.s[n.model.port_var[ev[5]]] += ev[4]
                        if n.model.jumps and not n.refractory_at(t) and n.model.g(n.p, n.s) >= 0.0:
                            self.fire(n, t)
                            fired = True
                    self.pred[gid] = self.predict(n)
                    # a bracket (lo, hi] with lo == t puts the crossing after t; only an exact
                    # crossing at t itself would repeat forever
                    if fired and self.pred[gid][2] is None and self.pred[gid][0] == t:
                        raise RuntimeError(f"neuron {gid} would fire forever at t = {t} (g >= 0 after its "
                                           f"reset and t_ref = 0)")
        assert not arrivals, "inputs to a population processed before their source"

    # ------------------------------------------------------------------ run
    def run(self):
        net = self.arrays.netlist
        for gid, n in self.neurons.items():
            self.pred[gid] = self.predict(n)
        recs = [(rec, _sample_times(rec.every or EXACT_EVERY, self.T)) for rec in net.record.state]
        samples = [[] for _ in recs]
        taken = [0 for _ in recs]

        def take_samples(before):
            for r, (rec, times) in enumerate(recs):
                pop = self.arrays.populations[rec.population]
                locals_ = range(pop.size) if rec.neurons is None else rec.neurons
                while taken[r] < len(times) and times[taken[r]] < before:
                    ts = times[taken[r]]
                    samples[r].append([self.neurons[pop.offset + i].state_at(ts) for i in locals_])
                    taken[r] += 1

        while True:
            t = self.next_time()
            if t >= self.T:
                break
            take_samples(t)           # samples before t; those at t come after t is processed
            self.process(t)
        take_samples(self.T)
        return {"spikes": _spike_arrays(self.spikes, net.record.spikes),
                "state": {rec.population: _state_dict(rec, self.arrays, times, samples[r])
                          for r, (rec, times) in enumerate(recs)}}


def _sample_times(every, duration):
    times = []
    k = 0
    while k * every < duration:
        times.append(k * every)
        k += 1
    return np.array(times, dtype=np.float64)


def _state_dict(rec, arrays, times, rows):
    pop = arrays.populations[rec.population]
    neurons = np.arange(pop.size, dtype=np.int32) if rec.neurons is None else np.array(rec.neurons, dtype=np.int32)
    out = {"times": np.asarray(times, dtype=np.float64), "neurons": neurons}
    for var in rec.vars:
        out[var] = np.array([[s[var] for s in row] for row in rows], dtype=np.float64).reshape(len(times), neurons.size)
    return out


# ============================================================================ grid mode
class _Grid:
    def __init__(self, arrays):
        self.arrays = arrays
        net = arrays.netlist
        self.dt = dt = net.time.dt
        self.N = int(net.time.duration / dt + 0.5)
        self.syn = _synapses(arrays)
        for lst in self.syn.values():
            for _, _, _, d, _ in lst:
                if 0.0 < d < dt:
                    raise ValueError(f"delay {d} below dt {dt} in grid mode")
        self.pops = {}                    # neuron populations: name -> dict of arrays
        self.src_steps = defaultdict(list)  # step n -> [gid] of source spikes recorded at t_n
        for pop in arrays.populations.values():
            if pop.model in SOURCES:
                times, ids = source_spikes(arrays, pop.name)
                seen = set()
                for t, i in zip(times.tolist(), ids.tolist()):
                    n = int(round(t / dt))
                    if (n, i) in seen:
                        raise ValueError(f"{pop.name}: neuron {i} has two spikes in step {n}")
                    seen.add((n, i))
                    self.src_steps[n].append(pop.offset + i)
                continue
            model = MODELS[pop.model]
            p = {k: np.array(v, dtype=np.float64) for k, v in pop.params.items()}
            self.pops[pop.name] = {
                "pop": pop, "model": model, "p": p,
                "s": {k: np.array(pop.init[k], dtype=np.float64) for k in model.state_vars},
                "R": (p["t_ref"] / dt + 0.001).astype(np.int64),        # Brian2's timestep(t_ref, dt)
                "last": np.full(pop.size, -(1 << 40), dtype=np.int64),  # grid point of the last spike
            }
        self.queue = defaultdict(list)    # grid point -> [(source gid, synapse index, target gid, w, port)]
        self.spikes = defaultdict(list)

    def emit(self, gid, found_at):
        """A spike found at grid point found_at reaches each target at found_at + D."""
        for k, post, w, d, port in self.syn.get(gid, ()):
            D = int(d / self.dt + 0.5)
            self.queue[found_at + D].append((gid, k, post, w, port))

    def run(self):
        net, dt = self.arrays.netlist, self.dt
        recs = [(rec, max(1, round((rec.every or dt) / dt))) for rec in net.record.state]   # (record, every in steps)
        samples = [[] for _ in recs]
        for n in range(self.N):
            # samples at t_n: the state at grid point n after everything that happened there
            for r, (rec, every) in enumerate(recs):
                if n % every == 0:
                    g = self.pops[rec.population]
                    idx = range(g["pop"].size) if rec.neurons is None else rec.neurons
                    samples[r].append([{k: float(v[i]) for k, v in g["s"].items()} for i in idx])
            fired = {}
            for name, g in self.pops.items():
                model, p, s = g["model"], g["p"], g["s"]
                # 1. state update n -> n + 1; v held in steps where timestep(t - lastspike) < R
                free_ = n >= g["last"] - 1 + g["R"]
                new_free, new_held = model.free(p, s, dt), model.held(p, s, dt)
                s = g["s"] = {k: np.where(free_, new_free[k], new_held[k]) for k in model.state_vars}
                # 2. threshold test at point n + 1 (strict), not while refractory
                spk = (model.g(p, s) > 0.0) & free_
                fired[name] = spk
                g["last"] = np.where(spk, n + 1, g["last"])
                for i in np.flatnonzero(spk):
                    self.spikes[name].append((n * dt, int(i)))
                    self.emit(g["pop"].offset + int(i), n + 1)
            # sources: a spike recorded at t_n acts like a neuron spike found at point n + 1
            for gid in self.src_steps.get(n, ()):
                pop, i = _locate(self.arrays, gid)
                self.spikes[pop.name].append((n * dt, i))
                self.emit(gid, n + 1)
            # 3. deliveries due at point n + 1, in (source id, synapse index) order
            for src, k, post, w, port in sorted(self.queue.pop(n + 1, []), key=lambda e: (e[0], e[1])):
                pop, i = _locate(self.arrays, post)
                g = self.pops[pop.name]
                model = g["model"]
                if model.jumps and (g["last"][i] == n + 1 or n + 1 - g["last"][i] < g["R"][i]):
                    continue              # delta input at the spike's point or while refractory: lost
                g["s"][model.port_var[port]][i] += w
            # 4. reset
            for name, g in self.pops.items():
                spk = fired[name]
                if spk.any():
                    reset = g["model"].reset(g["p"], g["s"])
                    g["s"] = {k: np.where(spk, reset[k], g["s"][k]) for k in g["model"].state_vars}
        return {"spikes": _spike_arrays(self.spikes, net.record.spikes),
                "state": {rec.population: _state_dict(rec, self.arrays, np.arange(0, self.N, every) * dt, samples[r])
                          for r, (rec, every) in enumerate(recs)}}
