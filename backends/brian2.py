"""The Brian2 backend: the same expanded netlist, simulated by Brian2.

    result = backends.run("model.yaml", backend="brian2")              # numpy target
    result = backends.run(arrays, backend="brian2", target="cython")

Translation (every backend sees the identical network, see :mod:`backends`):

- a neuron population is one ``NeuronGroup``, built from its model's ``BRIAN2`` dict (in
  ``simcore/models/<model>.py``): the equations plus one ``<param> : <unit> (constant)`` line
  per model parameter, holding each neuron's value; initial state from the netlist's ``init``;
  threshold, reset, refractory and integration method as the model gives them;
- a source population (``poisson``, ``spike_times``) is a ``SpikeGeneratorGroup`` fed with
  :func:`simcore.sources.source_spikes`, the very trains the event engine draws;
- each (projection, pre population, post population) block is one ``Synapses`` object with a
  per-synapse ``w`` (in the port's weight unit) and the model's ``on_pre`` code for the port,
  connected with the exact (pre, post) pairs of the expansion in their order, with per-synapse
  weights and delays (a block whose delays are all equal gets Brian2's faster scalar delay);
- ``record.spikes`` populations get a ``SpikeMonitor`` (every population is monitored, so that
  the counters cover all of them); ``record.state`` a ``StateMonitor`` sampling every ``every``
  (default: the step).

Time. Brian2 simulates on a grid of step ``dt`` only. A grid-mode netlist runs on its own dt and
reproduces docs/semantics.md's "Grid mode" spike for spike (checked by
tests/backends/test_brian2.py). An exact-mode netlist cannot be simulated exactly by Brian2: it
runs on a grid with dt = the ``dt`` argument, else the netlist's ``time.dt``, else 0.1 ms
(``meta["dt_source"]`` says which); delays are then rounded to whole steps as Brian2 does, a
spike is seen at the first grid point after the crossing, and source spikes are binned into
steps (a second spike of one source neuron in the same step is moved to the next free step,
``meta["source_spikes_shifted"]`` counts them). Compare such a run with the exact engine
statistically. The number of steps is ``N = int(duration / dt + 0.5)``, as the contract says
(Brian2's own ``run(duration)`` would take ``ceil`` when duration/dt is not whole).

Targets. ``numpy`` (the default) needs no compiler and has no compile step; ``cython`` compiles
every generated code object on first use and caches it in ~/.cython (keyed by the code, which
names its arrays: the objects here get the same names in every call, so a network of the same
structure reuses the cache); ``cpp_standalone`` compiles the whole network into a program on every
call. Measured on this machine (2 cores, fresh process per run, seconds; "build" is sympy
solving the exact integrator plus code generation and compilation, "loop" is Brian2's run):

    network (grid, dt 0.1 ms)             numpy             cython: cold / warm     cpp_standalone
    20 Poisson -> 10 lif_exp, 50 ms       3.9 (loop 0.09)   76 / 5.2 (loop 0.03)    20-42 (loop 0.01)
    100 Poisson -> 100 lif_exp, 1 s       4.9 (loop 1.5)    54 / 3.6 (loop 0.3)     23 (loop 0.06)
    CUBA, 4000 lif_exp, 1 s               12.3 (loop 7.0)   52 (loop 3.5)           60 (loop 1.6)

("warm": the cache filled by an earlier process; what remains is mostly sympy.)
A first lif_exp or alif network in a process spends 3-5 s in sympy whatever the target (Brian2
caches the solution per equations and group size). The default is ``numpy`` because the
cross-checks that matter (the test suite, CI, ``evsim compare`` on small deterministic netlists)
are dominated by build time: with cython every new network structure in a test run costs 10-60 s
of compilation, and a cold cache in CI would add many minutes. Pick ``cython`` for repeated runs of
one larger network, ``cpp_standalone`` for one long run of a large network. ``meta`` reports
construct, compile and run seconds separately.

Floating point: Brian2 runs in float64 whatever the netlist's precision. Its exact propagators
are sympy's expanded forms (for lif: (e_l + i_bias) + v e + (-e_l - i_bias) e, not
v_inf + (v - v_inf) e), which round differently from the engine's closed forms, and the numpy and
cython targets evaluate them differently in the last bit (a lif held at v = e_l = v_th fires at
point 1 on numpy and never on cython). Simultaneous inputs to one neuron are summed by Synapses
object (projection order), then by source neuron, which can differ from the event engine's
(source id, synapse index) order in the last bit. Spike-for-spike agreement therefore holds up to
threshold grazes within a few ulps.

Brian2 is imported inside :func:`run`, so ``import backends`` does not need it.
"""
from __future__ import annotations

import gc
import math
import shutil
import sys
import tempfile
import time as _time

import numpy as np

from netspec.model_spec import NEURON, SOURCE
from simcore.models import module as model_module
from simcore.sources import source_spikes

from . import BackendError
from .result import Result

TARGETS = ("numpy", "cython", "cpp_standalone")
DEFAULT_TARGET = "numpy"
#: the grid step for an exact-mode netlist without time.dt
DEFAULT_EXACT_DT = 1e-4
INSTALL_HINT = "pip install 'evsim[brian2]' (Brian2 2.11 needs Python >= 3.13)"


def run(arrays, *, target: str = DEFAULT_TARGET, dt: float | None = None, progress: bool = False,
        threads: int = 1) -> Result:
    """Simulates an expanded netlist (:class:`netspec.Expanded`) with Brian2; see the module doc.
    ``threads`` > 1: cpp_standalone runs on that many OpenMP threads (its
    ``devices.cpp_standalone.openmp_threads``; the runtime targets have one thread)."""
    t_start = _time.perf_counter()
    from simcore.egru.network import is_gated

    if is_gated(arrays.netlist):
        raise BackendError(f"brian2: {arrays.netlist.name or 'the netlist'} has event-gated units (egru) and sequence "
                           f"inputs, which have no Brian2 translation: they run on evsim's gated engine only "
                           f"(backend event); check them against simcore/egru/reference.py instead")
    if target not in TARGETS:
        raise BackendError(f"brian2: unknown target {target!r} (expected one of: {', '.join(TARGETS)})")
    b2 = _import_brian2()
    t_imported = _time.perf_counter()
    net = arrays.netlist
    dt, dt_source = _choose_dt(net, dt)
    n_steps = int(net.time.duration / dt + 0.5)
    plans = _plan(arrays, dt, n_steps)            # all checks before touching Brian2's global state

    old_target = b2.prefs.codegen.target
    old_dt = b2.defaultclock.dt_
    old_threads = b2.prefs.devices.cpp_standalone.openmp_threads
    workdir = None
    try:
        if target == "cpp_standalone":
            b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
            workdir = tempfile.mkdtemp(prefix="evsim-brian2-")
            b2.set_device("cpp_standalone", directory=workdir, build_on_run=True, with_output=False)
            b2.get_device().reinit()
            b2.set_device("cpp_standalone", directory=workdir, build_on_run=True, with_output=False)
        else:
            b2.set_device("runtime")
            b2.prefs.codegen.target = target
        b2.defaultclock.dt = dt * b2.second
        gc.collect()                              # frees the last call's object names (see _name)
        built = _build(b2, arrays, plans, dt)
        t_built = _time.perf_counter()
        network = b2.Network(*built.objects)
        try:
            network.run(n_steps * dt * b2.second, report="stderr" if progress else None, report_period=10 * b2.second)
        except Exception as exc:  # Brian2 raises many kinds; say which run failed
            raise BackendError(f"brian2 ({target}): the run failed: {type(exc).__name__}: {exc}") from exc
        t_ran = _time.perf_counter()
        run_s = float(b2.get_device()._last_run_time or 0.0)
        simulated = float(network.t_)
        _check_finite(arrays, built, plans, target)
        result = _collect(b2, arrays, built, plans, dt, n_steps, simulated)
    finally:
        if target == "cpp_standalone":
            b2.get_device().reinit()
            b2.set_device("runtime")
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
        b2.prefs.codegen.target = old_target
        b2.defaultclock.dt_ = old_dt
        b2.prefs.devices.cpp_standalone.openmp_threads = old_threads
    t_end = _time.perf_counter()
    result.meta.update({
        "backend": "brian2",
        "brian2_version": b2.__version__,
        "versions": {"brian2": b2.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "target": target,
        "threads": threads if target == "cpp_standalone" else 1,
        "netlist": net.source_file,
        "name": net.name,
        "seed": net.seed,
        "mode": net.time.mode,
        "dt": dt,
        "dt_source": dt_source,
        "steps": n_steps,
        "duration": net.time.duration,
        "simulated": simulated,
        "partial": False,
        "precision": "double",
        "wall_seconds": t_end - t_start,
        "construct_seconds": t_built - t_imported,            # evsim -> Brian2 objects (sympy included)
        "compile_seconds": max(0.0, (t_ran - t_built) - run_s),  # code generation, compilation, set-up
        "run_seconds": run_s,                                  # Brian2's simulation loop
        "source_spikes_shifted": plans.shifted,
    })
    return result


# ----------------------------------------------------------------------------- set-up
def _import_brian2():
    try:
        import brian2
    except ImportError as exc:
        raise BackendError(f"the brian2 backend needs Brian2, which is not installed ({exc}); "
                           f"install it with: {INSTALL_HINT}") from None
    brian2.BrianLogger.suppress_name("brian2.codegen.generators.base")   # "vectorisation" notes
    return brian2


def _choose_dt(net, dt):
    t = net.time
    if t.mode == "grid":
        if dt is not None and not math.isclose(dt, t.dt, rel_tol=1e-9):
            raise BackendError(f"brian2: grid mode runs on the netlist's dt ({t.dt * 1e3:g} ms); "
                               f"got dt = {dt * 1e3:g} ms (change time.dt instead)")
        return t.dt, "netlist time.dt (grid mode)"
    if dt is not None:
        if not dt > 0:
            raise BackendError(f"brian2: dt must be > 0 (got {dt!r})")
        return float(dt), "argument (exact-mode netlist run on a grid)"
    if t.dt is not None:
        return t.dt, "netlist time.dt (exact-mode netlist run on a grid)"
    return DEFAULT_EXACT_DT, "default 0.1 ms (exact-mode netlist without time.dt, run on a grid)"


class _Plans:
    """What to build, checked before Brian2 is touched."""

    def __init__(self):
        self.kinds = {}        # pop -> "neuron" | "source"
        self.sources = {}      # pop -> (steps int64, ids int32) after binning
        self.blocks = []       # (proj, pre_pop, post_pop, mask or None)
        self.states = {}       # pop -> StateRecord
        self.shifted = 0


def _plan(arrays, dt, n_steps) -> _Plans:
    net = arrays.netlist
    plans = _Plans()
    for name, pop in arrays.populations.items():
        mod = model_module(pop.model)
        kind = mod.MODEL.kind
        if kind == SOURCE:
            plans.kinds[name] = "source"
            times, ids = source_spikes(arrays, name)
            steps, ids, shifted = _bin_source(times, ids, dt, n_steps, exact=net.time.mode != "grid", pop=name)
            plans.sources[name] = (steps, ids)
            plans.shifted += shifted
            continue
        b = getattr(mod, "BRIAN2", None)
        if kind != NEURON or b is None:
            raise BackendError(f"brian2: population {name!r} uses model {pop.model!r}, which has no Brian2 "
                               f"translation (its BRIAN2 is None in {mod.__name__})")
        missing = [k for k in ("equations", "threshold", "reset", "on_pre") if k not in b]
        if missing:
            raise BackendError(f"brian2: model {pop.model!r}: its BRIAN2 dict lacks {', '.join(missing)}")
        plans.kinds[name] = "neuron"
        for syn_tau in ("tau_exc", "tau_inh"):
            if syn_tau in pop.params and "tau_m" in pop.params and b.get("method", "exact") == "exact":
                same = np.asarray(pop.params[syn_tau]) == np.asarray(pop.params["tau_m"])
                if np.any(same):
                    raise BackendError(f"brian2: population {name!r}, neuron {int(np.flatnonzero(same)[0])}: "
                                       f"{syn_tau} equals tau_m, which Brian2's exact integrator cannot handle (it "
                                       f"divides by {syn_tau} - tau_m and loses digits as they approach each other); make them differ")
    for proj in arrays.projections:
        if proj.size == 0:
            continue
        for post_name in proj.post_pops:
            if plans.kinds[post_name] != "neuron":
                raise BackendError(f"brian2: projection {proj.name!r} targets {post_name!r}, a source population")
            on_pre = model_module(arrays.populations[post_name].model).BRIAN2["on_pre"]
            if proj.port not in on_pre:
                raise BackendError(f"brian2: model {arrays.populations[post_name].model!r} has no Brian2 code for "
                                   f"port {proj.port!r} (it has: {', '.join(on_pre)})")
        single = len(proj.pre_pops) == 1 and len(proj.post_pops) == 1
        for pre_name in proj.pre_pops:
            for post_name in proj.post_pops:
                if single:
                    plans.blocks.append((proj, pre_name, post_name, None))
                    continue
                a, b = arrays.populations[pre_name], arrays.populations[post_name]
                mask = ((proj.pre >= a.offset) & (proj.pre < a.offset + a.size)
                        & (proj.post >= b.offset) & (proj.post < b.offset + b.size))
                if mask.any():
                    plans.blocks.append((proj, pre_name, post_name, mask))
    for rec in net.record.state:
        if plans.kinds[rec.population] != "neuron":
            raise BackendError(f"brian2: cannot record the state of source population {rec.population!r}")
        plans.states[rec.population] = rec
    return plans


def _bin_source(times, ids, dt, n_steps, exact: bool, pop: str):
    """Steps of a source's spikes (Brian2's SpikeGeneratorGroup binning), at most one per neuron
    and step: in grid mode a second one is an error (as in Brian2); for an exact-mode netlist it
    moves to the neuron's next free step. Returns (steps, ids, number moved), sorted by (step, id)."""
    steps = np.asarray((np.asarray(times) + 1e-3 * dt) / dt, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int32)
    order = np.lexsort((steps, ids))
    s, i = steps[order], ids[order]
    dup = np.flatnonzero((i[1:] == i[:-1]) & (s[1:] <= s[:-1])) + 1
    shifted = 0
    if dup.size:
        if not exact:
            k = int(dup[0])
            raise BackendError(f"brian2: source {pop!r}: neuron {int(i[k])} spikes twice in the step at "
                               f"{s[k] * dt * 1e3:g} ms (grid mode allows one spike per neuron and step)")
        s = s.copy()
        for k in range(1, s.size):                # only reached with collisions: rare
            if i[k] == i[k - 1] and s[k] <= s[k - 1]:
                s[k] = s[k - 1] + 1
                shifted += 1
    keep = s < n_steps
    s, i = s[keep], i[keep]
    order = np.lexsort((i, s))
    return s[order], i[order], shifted


class _Built:
    def __init__(self):
        self.objects = []
        self.groups = {}       # pop -> NeuronGroup / SpikeGeneratorGroup
        self.spike_mons = {}   # pop -> SpikeMonitor
        self.state_mons = {}   # pop -> StateMonitor
        self.synapses = []     # (proj, pre pop, post pop, local pre ids, delay steps)


def _build(b2, arrays, plans: _Plans, dt) -> _Built:
    built = _Built()
    for k, (name, pop) in enumerate(arrays.populations.items()):
        if plans.kinds[name] == "source":
            steps, ids = plans.sources[name]
            group = b2.SpikeGeneratorGroup(pop.size, ids, steps * dt * b2.second, sorted=True,
                                           name=_name("src", k))
        else:
            group = _neuron_group(b2, pop, _name("pop", k))
        built.groups[name] = group
        built.objects.append(group)
    for k, (proj, pre_name, post_name, mask) in enumerate(plans.blocks):
        pre_pop, post_pop = arrays.populations[pre_name], arrays.populations[post_name]
        pre = proj.pre if mask is None else proj.pre[mask]
        post = proj.post if mask is None else proj.post[mask]
        w = np.asarray(proj.weight if mask is None else proj.weight[mask], dtype=np.float64)
        d = np.asarray(proj.delay if mask is None else proj.delay[mask], dtype=np.float64)
        mod = model_module(post_pop.model)
        unit = mod.MODEL.ports[proj.port].weight_unit
        scalar_delay = d.size > 0 and bool(np.all(d == d[0]))
        kw = {"delay": float(d[0]) * b2.second} if scalar_delay else {}
        syn = b2.Synapses(built.groups[pre_name], built.groups[post_name], model=f"w : {unit}",
                          on_pre=mod.BRIAN2["on_pre"][proj.port], name=_name("syn", k), **kw)
        syn.connect(i=np.asarray(pre, dtype=np.int64) - pre_pop.offset,
                    j=np.asarray(post, dtype=np.int64) - post_pop.offset)
        syn.w_ = w if not _constant(w) else float(w[0])
        if not scalar_delay:
            syn.delay_ = d
        built.synapses.append((proj, pre_name, post_name, np.asarray(pre, dtype=np.int64) - pre_pop.offset,
                               (d / dt + 0.5).astype(np.int64)))
        built.objects.append(syn)
    for k, (name, group) in enumerate(built.groups.items()):
        mon = b2.SpikeMonitor(group, name=_name("spikes", k))
        built.spike_mons[name] = mon
        built.objects.append(mon)
    default_every = dt if arrays.netlist.time.mode == "grid" else 1e-4
    for k, (name, rec) in enumerate(plans.states.items()):
        every = rec.every if rec.every is not None else default_every
        kw = {} if math.isclose(every, dt, rel_tol=1e-9) else {"dt": every * b2.second}
        record = True if rec.neurons is None else list(rec.neurons)
        mon = b2.StateMonitor(built.groups[name], list(rec.vars), record=record, name=_name("state", k), **kw)
        built.state_mons[name] = mon
        built.objects.append(mon)
    return built


def _constant(a: np.ndarray) -> bool:
    return a.size > 0 and bool(np.all(a == a[0]))


def _name(kind: str, k: int) -> str:
    """Brian2 object names that are the same in every call (``*``: Brian2 appends a number if the
    name is still taken), so the cython target's compiled-code cache, keyed by the generated code
    and its array names, is reused by the next run of a network of the same structure."""
    return f"evsim_{kind}{k}*"


def _neuron_group(b2, pop, name):
    mod = model_module(pop.model)
    spec = mod.BRIAN2
    lines = [spec["equations"].strip()]
    # A parameter the same for the whole population is a shared constant, as Brian2's own
    # examples write it: declared per neuron, Brian2 would recompute every propagator for every
    # neuron at every step (about 10 times slower, with the same spikes).
    shared, per_neuron = {}, []
    for pname, par in mod.MODEL.params.items():
        values = np.asarray(pop.params[pname], dtype=np.float64)
        if _constant(values):
            shared[pname] = b2.Quantity(float(values[0]), dim=_brian_dim(b2, par.unit))
        else:
            lines.append(f"{pname} : {_brian_unit(par.unit)} (constant)")
            per_neuron.append(pname)
    kw = {"threshold": spec["threshold"], "reset": spec["reset"], "method": spec.get("method", "exact")}
    if spec.get("refractory") is not None:
        kw["refractory"] = spec["refractory"]
    try:
        group = b2.NeuronGroup(pop.size, "\n".join(lines), name=name, namespace=shared, **kw)
    except Exception as exc:
        raise BackendError(f"brian2: model {pop.model!r} (population {pop.name!r}) cannot be expressed in "
                           f"Brian2: {type(exc).__name__}: {exc}") from exc
    for pname in per_neuron:
        setattr(group, pname + "_", np.ascontiguousarray(np.asarray(pop.params[pname], dtype=np.float64)))
    for sname in mod.MODEL.state:
        if sname in pop.init:
            values = np.asarray(pop.init[sname], dtype=np.float64)
            setattr(group, sname + "_", float(values[0]) if _constant(values) else np.ascontiguousarray(values))
    return group


def _brian_unit(unit: str) -> str:
    return {"": "1", "dimensionless": "1"}.get(unit, unit)


def _brian_dim(b2, unit: str):
    """Brian2's dimension object for one of the units model files use (second, volt, hertz, ...)."""
    unit = _brian_unit(unit)
    if unit == "1":
        return b2.DIMENSIONLESS
    return b2.get_dimensions(getattr(b2, unit))


# ----------------------------------------------------------------------------- results
def _check_finite(arrays, built: _Built, plans: _Plans, target):
    """Brian2 only warns about NaN; a NaN state is an error here (e.g. lif_exp with tau_exc == tau_m,
    where Brian2's exact integrator divides by tau_exc - tau_m)."""
    for name, group in built.groups.items():
        if plans.kinds[name] != "neuron":
            continue
        pop = arrays.populations[name]
        for var in model_module(pop.model).MODEL.state:
            values = np.asarray(getattr(group, var + "_"))
            if not np.all(np.isfinite(values)):
                bad = int(np.flatnonzero(~np.isfinite(values))[0])
                hint = ""
                if any(k in pop.params for k in ("tau_exc", "tau_inh")):
                    hint = ("; Brian2's exact integrator divides by tau_exc - tau_m and tau_inh - tau_m, so equal "
                            "membrane and synaptic time constants cannot be run in Brian2")
                raise BackendError(f"brian2 ({target}): population {name!r}: state variable {var!r} of neuron "
                                   f"{bad} became {float(values[bad])!r}{hint}")


def _collect(b2, arrays, built: _Built, plans: _Plans, dt, n_steps, simulated) -> Result:
    net = arrays.netlist
    spikes_all = {}
    for name, mon in built.spike_mons.items():
        t = np.array(mon.t_, dtype=np.float64)    # copies: Brian2's arrays are views into buffers
        i = np.array(mon.i, dtype=np.int32)       # freed with the network
        order = np.lexsort((i, t))
        spikes_all[name] = (t[order], i[order])
    spikes = {name: spikes_all[name] for name in net.record.spikes}
    state = {}
    for name, mon in built.state_mons.items():
        rec = plans.states[name]
        pop = arrays.populations[name]
        neurons = np.arange(pop.size, dtype=np.int32) if rec.neurons is None else np.asarray(rec.neurons, np.int32)
        entry = {"times": np.array(mon.t_, dtype=np.float64), "neurons": neurons}
        for var in rec.vars:
            entry[var] = np.array(np.asarray(getattr(mon, var + "_")).T, dtype=np.float64, order="C")
        state[name] = entry
    counters = _counters(arrays, built, spikes_all, dt, n_steps, simulated)
    return Result("brian2", spikes, state, counters, {})


def _counters(arrays, built: _Built, spikes_all, dt, n_steps, simulated) -> dict:
    """Per population, under the event backend's names (backends/event.py): spikes, mean rate
    (rate_hz), synaptic events received within the run, activity sparsity (fraction of (neuron,
    step) pairs without a spike), and the work: Brian2 updates every neuron every step, so
    neuron_updates equals the dense count."""
    out = {}
    received = {name: 0 for name in arrays.populations}
    n_syn_in = {name: 0 for name in arrays.populations}
    for proj, pre_name, post_name, pre_local, dsteps in built.synapses:
        times, ids = spikes_all[pre_name]
        n_syn_in[post_name] += int(pre_local.size)
        if times.size == 0 or pre_local.size == 0:
            continue
        steps = np.asarray((times + 1e-3 * dt) / dt, dtype=np.int64)
        # a spike recorded in step n reaches its target in step n + D: counted if n + D < n_steps
        key = ids.astype(np.int64) * (n_steps + 1) + steps
        key.sort()
        last = np.broadcast_to(np.asarray(n_steps - 1 - dsteps, dtype=np.int64), pre_local.shape)
        hi = np.searchsorted(key, pre_local * (n_steps + 1) + np.maximum(last, -1), side="right")
        lo = np.searchsorted(key, pre_local * (n_steps + 1), side="left")
        received[post_name] += int(np.sum(np.where(last >= 0, hi - lo, 0)))
    total_spikes = total_deliveries = 0
    for name, pop in arrays.populations.items():
        n_spikes = int(spikes_all[name][0].size)
        pairs = pop.size * n_steps
        out[name] = {
            "neurons": pop.size,
            "spikes": n_spikes,
            "rate_hz": n_spikes / (pop.size * simulated) if simulated > 0 else 0.0,
            "synaptic_events": received[name],
            "neuron_updates": pairs,
            "activity_sparsity": 1.0 - n_spikes / pairs if pairs else 1.0,
            "dense_neuron_updates": pairs,
            "dense_synaptic_ops": n_syn_in[name] * n_steps,
        }
        total_spikes += n_spikes
        total_deliveries += received[name]
    n = arrays.n_neurons
    out["total"] = {
        "neurons": n,
        "spikes": total_spikes,
        "rate_hz": total_spikes / (n * simulated) if simulated > 0 and n else 0.0,
        "synaptic_events": total_deliveries,
        "neuron_updates": n * n_steps,
        "activity_sparsity": 1.0 - total_spikes / (n * n_steps) if n * n_steps else 1.0,
        "dense_neuron_updates": n * n_steps,
        "dense_synaptic_ops": arrays.n_synapses * n_steps,
        "step_for_dense_counts": dt,
    }
    return out
