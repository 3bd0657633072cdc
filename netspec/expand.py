"""Expanding a netlist into flat arrays: per-neuron parameters and state, per-synapse
(pre, post, weight, delay) for each projection.

Everything is vectorised NumPy and reproducible from the seed (see :mod:`netspec.rng`).
Neuron indices are global (populations concatenated in the order written) and int32.
A value that is the same for every element is a zero-stride broadcast view, so a constant
weight or delay costs no memory per synapse. Arrays that are broadcast views or shared (a
state initialised from a parameter) are read-only; ``np.array(a)`` gives a writable copy.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field

import numpy as np

from . import registry
from . import spec as S
from .errors import Location, NetlistError, Problem, Problems
from .memory import check_fits
from .rng import stream
from .units import TIME, format_quantity


@dataclass
class PopulationArrays:
    name: str
    model: str
    offset: int                    # global index of neuron 0
    size: int
    params: dict                   # name -> float64 array (size,)
    init: dict                     # state name -> float64 array (size,)
    spike_times: np.ndarray | None = None   # sources: sorted by (time, id)
    spike_ids: np.ndarray | None = None     # local ids, int32
    #: sequence sources: input values as events (step int64, local id int32, value float64), sorted by
    #: (step, id); zero values are dropped (a dense row of zeros is no input)
    sequence: tuple | None = None


@dataclass
class SynapseArrays:
    name: str
    pre: np.ndarray                # global source index, int32
    post: np.ndarray               # global target index, int32
    weight: np.ndarray             # float64 (float32 with precision: single)
    delay: np.ndarray              # seconds, same dtype as weight
    port: str
    pre_pops: tuple
    post_pops: tuple
    loc: Location = field(default=Location("<unknown>"), repr=False)

    @property
    def size(self) -> int:
        return int(self.pre.size)

    def nbytes(self) -> int:
        """Bytes held per this projection (broadcast constants count nothing)."""
        return sum(a.nbytes if a.strides and a.strides[0] else 0 for a in (self.pre, self.post, self.weight, self.delay))


@dataclass
class Expanded:
    netlist: S.Netlist
    populations: dict              # name -> PopulationArrays
    projections: list              # SynapseArrays, in netlist order

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    @property
    def n_synapses(self) -> int:
        return sum(p.size for p in self.projections)

    def delay_ranges(self) -> dict:
        return {p.name: (float(p.delay.min()), float(p.delay.max())) for p in self.projections if p.size}

    def delay_range(self) -> tuple[float, float] | None:
        rs = list(self.delay_ranges().values())
        if not rs:
            return None
        return min(r[0] for r in rs), max(r[1] for r in rs)

    def population_of(self, index: int) -> str:
        for pop in self.populations.values():
            if pop.offset <= index < pop.offset + pop.size:
                return pop.name
        raise IndexError(index)


def expand(netlist: S.Netlist, check_memory: bool = True) -> Expanded:
    """Flat arrays of a checked netlist. Raises NetlistError (with locations) for problems
    only visible once values are drawn or read from files."""
    if check_memory:
        check_fits(netlist)
    problems = Problems()
    offsets = netlist.population_offsets()
    dtype = np.float32 if netlist.precision == "single" else np.float64
    pops = {}
    for name, pop in netlist.populations.items():
        pops[name] = _population(netlist, pop, offsets[name], problems)
    problems.raise_if_any()
    projs = []
    for proj in netlist.projections:
        arr = _projection(netlist, proj, pops, dtype, problems)
        if arr is not None:
            projs.append(arr)
    problems.raise_if_any()
    out = Expanded(netlist, pops, projs)
    from .graph import zero_delay_cycle_problems

    for loc, msg in zero_delay_cycle_problems(netlist.populations, netlist.projections, out.delay_ranges()):
        problems.add(loc, msg)
    problems.raise_if_any()
    return out


# ----------------------------------------------------------------------------- values
def draw(v, n: int, rng_label: tuple, seed: int, what: str, problems: Problems, dtype=np.float64,
         columns: dict | None = None) -> np.ndarray | None:
    """``n`` values of a value spec as an array (a broadcast view for constants)."""
    if isinstance(v, S.Const):
        return np.broadcast_to(np.asarray(v.value, dtype=dtype), (n,))
    if isinstance(v, S.Uniform):
        if v.low == v.high:
            return np.broadcast_to(np.asarray(v.low, dtype=dtype), (n,))
        return stream(seed, *rng_label).uniform(v.low, v.high, n).astype(dtype, copy=False)
    if isinstance(v, S.Normal):
        return _normal(v, n, stream(seed, *rng_label)).astype(dtype, copy=False)
    if isinstance(v, S.Values):
        if len(v.values) != n:
            problems.add(v.loc, f"{what}: wrong number of values (expected {n}, got {len(v.values)})")
            return None
        return np.asarray(v.values, dtype=dtype)
    if isinstance(v, S.FromFile):
        arr = read_array(v.path, v.key, v.loc, what, problems)
        if arr is None:
            return None
        if arr.shape != (n,):
            problems.add(v.loc, f"{what}: file {os.path.basename(v.path)} holds {arr.size} values "
                                f"(expected {n}, one per element)")
            return None
        return (arr * v.scale).astype(dtype, copy=False)
    if isinstance(v, S.Beta):
        x = stream(seed, *rng_label).beta(v.a, v.b, n)
        return (v.low + (v.high - v.low) * x).astype(dtype, copy=False)
    if isinstance(v, S.Ternary):
        r = stream(seed, *rng_label).choice(3, size=n, p=list(v.p)).astype(np.int8)
        return (np.asarray([-v.value, 0.0, v.value], dtype=dtype))[r]
    if isinstance(v, S.Column):
        if columns is None or v.name not in columns:
            have = ", ".join(sorted(columns or {})) or "none"
            problems.add(v.loc, f"{what}: the connection file has no column {v.name!r} (it has: {have})")
            return None
        col = np.asarray(columns[v.name])
        if col.dtype.kind not in "iuf" or col.ndim != 1:
            problems.add(v.loc, f"{what}: column {v.name!r} of the connection file must be 1-d numbers "
                                f"(got {col.dtype} with shape {col.shape})")
            return None
        if col.size != n:
            problems.add(v.loc, f"{what}: column {v.name!r} of the connection file holds {col.size} values "
                                f"(expected {n}, one per synapse)")
            return None
        return (col.astype(np.float64) * v.scale).astype(dtype, copy=False)
    raise TypeError(v)


def _normal(v: S.Normal, n: int, rng: np.random.Generator) -> np.ndarray:
    """Normal draws; those outside [min, max] are drawn again (truncated normal)."""
    out = rng.normal(v.mean, v.std, n) if v.std > 0 else np.full(n, v.mean)
    lo = -np.inf if v.min is None else v.min
    hi = np.inf if v.max is None else v.max
    bad = np.flatnonzero((out < lo) | (out > hi))
    while bad.size:
        out[bad] = rng.normal(v.mean, v.std, bad.size)
        bad = bad[(out[bad] < lo) | (out[bad] > hi)]
    return out


def read_array(path: str, key: str | None, loc: Location, what: str, problems: Problems):
    """One numeric array from .npy, .npz (key) or .csv (column key)."""
    name = os.path.basename(path)
    try:
        ext = os.path.splitext(path)[1].lower()
        if ext == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if key not in z.files:
                    problems.add(loc, f"{what}: {name} has no array {key!r} (it has: {', '.join(z.files) or 'none'})")
                    return None
                arr = z[key]
        else:
            cols = read_csv(path)
            if key not in cols:
                problems.add(loc, f"{what}: {name} has no column {key!r} (it has: {', '.join(cols) or 'none'})")
                return None
            arr = cols[key]
    except (OSError, ValueError) as exc:
        problems.add(loc, f"{what}: cannot read {name} ({exc})")
        return None
    if arr.dtype.kind not in "iuf" or arr.ndim != 1:
        problems.add(loc, f"{what}: {name}: expected a 1-d numeric array (got {arr.dtype} with shape {arr.shape})")
        return None
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        problems.add(loc, f"{what}: {name} holds non-finite values")
        return None
    return arr


def read_csv(path: str) -> dict:
    """Columns of a CSV file with a header row, as float arrays."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#")))
    if not rows:
        return {}
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    out = {}
    for j, h in enumerate(header):
        try:
            out[h] = np.asarray([float(r[j]) for r in body], dtype=np.float64)
        except (ValueError, IndexError):
            raise ValueError(f"column {h!r} is not numeric on every row") from None
    return out


def read_columns(path: str, loc: Location, what: str, problems: Problems) -> dict | None:
    name = os.path.basename(path)
    try:
        if path.lower().endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        return read_csv(path)
    except (OSError, ValueError) as exc:
        problems.add(loc, f"{what}: cannot read {name} ({exc})")
        return None


# ----------------------------------------------------------------------------- populations
def _population(netlist, pop: S.Population, offset: int, problems: Problems) -> PopulationArrays:
    model = registry.get(pop.model)
    params = {}
    for key, v in pop.params.items():
        arr = draw(v, pop.size, ("population", pop.name, "params", key), netlist.seed,
                   f"{pop.name}.params.{key}", problems)
        if arr is None:
            continue
        par = model.params[key]
        lo, hi = par.bounds_si()
        bad = (arr < lo) | (arr > hi)
        if par.open_min:
            bad |= arr == lo
        if par.open_max:
            bad |= arr == hi
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.add(v.loc, f"{pop.name}.params.{key}[{i}] out of range ({par.bound_problem(float(arr[i]))}, "
                                f"got {format_quantity(float(arr[i]), par.dim)})")
        params[key] = arr
    for c in model.constraints:
        if c.lhs in params and c.rhs in params:
            ok = c.holds(params[c.lhs], params[c.rhs])
            if not np.all(ok):
                i = int(np.flatnonzero(~np.asarray(ok))[0])
                problems.add(pop.params[c.lhs].loc, f"population {pop.name!r}: {c.lhs} must be {c.op} {c.rhs} "
                                                   f"(neuron {i} has {c.lhs} = {params[c.lhs][i]!r}, "
                                                   f"{c.rhs} = {params[c.rhs][i]!r})")
    init = {}
    for key, var in model.state.items():
        if key in pop.init:
            arr = draw(pop.init[key], pop.size, ("population", pop.name, "init", key), netlist.seed,
                       f"{pop.name}.init.{key}", problems)
        elif var.default_from is not None:
            arr = params.get(var.default_from)
            if arr is not None:  # the parameter's values, read-only: writing the state must not change them
                arr = arr.view()
                arr.flags.writeable = False
        else:
            arr = np.broadcast_to(np.asarray(var.default_si(), dtype=np.float64), (pop.size,))
        if arr is not None:
            init[key] = arr
    times = ids = None
    if pop.spikes is not None:
        times, ids = _spikes(pop, problems)
    sequence = None
    if pop.sequence is not None:
        sequence = _sequence(netlist, pop, problems)
    return PopulationArrays(pop.name, pop.model, offset, pop.size, params, init, times, ids, sequence)


def _sequence(netlist, pop: S.Population, problems: Problems):
    """A sequence source's input as (steps, ids, values) events, sorted by (step, id)."""
    sq = pop.sequence
    what = f"{pop.name}.sequence"
    dt = netlist.time.dt or 1.0
    times = None
    if isinstance(sq, S.SequenceRows):
        dense = np.asarray(sq.rows, dtype=np.float64).reshape(len(sq.rows), pop.size)
    elif isinstance(sq, S.SequenceEvents):
        times = np.asarray(sq.times, dtype=np.float64)
        ids = np.asarray(sq.ids, dtype=np.int64)
        values = np.asarray(sq.values, dtype=np.float64)
        dense = None
    else:
        name = os.path.basename(sq.path)
        try:
            if sq.path.lower().endswith(".npy"):
                arrays = {"": np.load(sq.path, allow_pickle=False)}
            elif sq.path.lower().endswith(".csv"):   # dense rows, one line per step, comma-separated
                arrays = {"": np.loadtxt(sq.path, delimiter=",", ndmin=2, dtype=np.float64)}
            else:
                with np.load(sq.path, allow_pickle=False) as z:
                    arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            problems.add(sq.loc, f"{what}: cannot read {name} ({exc})")
            return None
        key = "" if sq.path.lower().endswith((".npy", ".csv")) else sq.key
        if key is not None:
            if key not in arrays:
                problems.add(sq.loc, f"{what}: {name} has no array {key!r} (it has: {', '.join(arrays) or 'none'})")
                return None
            dense = arrays[key]
            if dense.dtype.kind not in "iuf" or dense.ndim not in (1, 2) or \
                    (dense.ndim == 2 and dense.shape[1] != pop.size) or (dense.ndim == 1 and pop.size != 1):
                problems.add(sq.loc, f"{what}: {name}: expected numbers of shape (steps, {pop.size}) "
                                     f"(got {dense.dtype} with shape {dense.shape})")
                return None
            dense = dense.astype(np.float64).reshape(-1, pop.size)
        else:
            tkey = "steps" if "steps" in arrays else ("times" if "times" in arrays else None)
            if tkey is None or "ids" not in arrays or "values" not in arrays:
                problems.add(sq.loc, f"{what}: {name} needs arrays 'times' (or 'steps'), 'ids' and 'values' for "
                                     f"events, or 'key' naming an array of dense rows (it has: {', '.join(arrays)})")
                return None
            t, ids, values = arrays[tkey], arrays["ids"], arrays["values"]
            if any(a.dtype.kind not in "iuf" or a.ndim != 1 for a in (t, ids, values)) or \
                    not t.shape == ids.shape == values.shape:
                problems.add(sq.loc, f"{what}: {name}: {tkey}, ids and values must be 1-d numbers of one length "
                                     f"(got shapes {t.shape}, {ids.shape}, {values.shape})")
                return None
            if ids.size and not np.all(np.isfinite(ids) & (ids == np.round(ids))):
                problems.add(sq.loc, f"{what}: ids must be whole numbers")
                return None
            if ids.size and (ids.min() < 0 or ids.max() >= pop.size):
                problems.add(sq.loc, f"{what}: ids out of range (expected 0 <= id < {pop.size}, "
                                     f"got {ids.min()} .. {ids.max()})")
                return None
            ids = ids.astype(np.int64)
            values = values.astype(np.float64)
            t = t.astype(np.float64)
            times = t * dt if tkey == "steps" else t * sq.scale
            dense = None
        if dense is None and not np.all(np.isfinite(values)):
            problems.add(sq.loc, f"{what}: {name} holds non-finite values")
            return None
    if dense is not None:
        if not np.all(np.isfinite(dense)):
            problems.add(sq.loc, f"{what}: values must be finite")
            return None
        dense = dense[:netlist.time.n_steps if netlist.time.dt else 0]
        steps, ids = np.nonzero(dense)
        return steps.astype(np.int64), ids.astype(np.int32), dense[steps, ids].astype(np.float64)
    if times.size:
        bad = ~(np.isfinite(times) & (times >= 0))
        if bad.any():
            problems.add(sq.loc, f"{what}: event times must be >= 0 and finite (got {times[bad][0]!r})")
            return None
        steps = np.round(times / dt)
        off = np.abs(times / dt - steps) > 1e-9 * np.maximum(1.0, steps)
        if off.any():
            problems.add(sq.loc, f"{what}: event times must be whole multiples of dt = {format_quantity(dt, TIME)} "
                                 f"(got {format_quantity(float(times[off][0]), TIME)})")
            return None
    else:
        steps = np.zeros(0)
    n_steps = netlist.time.n_steps if netlist.time.dt else 0
    keep = (values != 0) & (steps < n_steps)   # past the end of the run: never read
    steps, ids, values = steps[keep].astype(np.int64), ids[keep], values[keep]
    order = np.lexsort((ids, steps))
    steps, ids, values = steps[order], ids[order], values[order]
    if steps.size > 1:
        same = (np.diff(steps) == 0) & (np.diff(ids) == 0)
        if same.any():
            i = int(np.flatnonzero(same)[0])
            problems.add(sq.loc, f"{what}: two values for element {ids[i]} in step {steps[i]} (one per step and element)")
            return None
    return steps, ids.astype(np.int32), values


def _spikes(pop: S.Population, problems: Problems):
    sp = pop.spikes
    if isinstance(sp, S.SpikeList):
        times = np.asarray(sp.times, dtype=np.float64)
        ids = np.asarray(sp.ids, dtype=np.int64)
    else:
        cols = read_columns(sp.path, sp.loc, f"{pop.name}.spikes", problems)
        if cols is None:
            return None, None
        tkey = next((k for k in ("times", "time", "t") if k in cols), None)
        ikey = next((k for k in ("ids", "id", "i", "neuron") if k in cols), None)
        if tkey is None or ikey is None:
            problems.add(sp.loc, f"{pop.name}.spikes: {os.path.basename(sp.path)} needs arrays/columns 'times' "
                                 f"and 'ids' (it has: {', '.join(cols)})")
            return None, None
        times = np.asarray(cols[tkey])
        ids = np.asarray(cols[ikey])
        if times.dtype.kind not in "iuf" or ids.dtype.kind not in "iuf":
            problems.add(sp.loc, f"{pop.name}.spikes: {os.path.basename(sp.path)}: times and ids must be numbers "
                                 f"(got {times.dtype} and {ids.dtype})")
            return None, None
        times = times.astype(np.float64) * sp.scale
        if times.shape != ids.shape or times.ndim != 1:
            problems.add(sp.loc, f"{pop.name}.spikes: times and ids differ in shape ({times.shape}, {ids.shape})")
            return None, None
        if ids.size and (ids.dtype.kind == "f" and not np.all(np.isfinite(ids) & (ids == np.round(ids)))):
            bad = ids[~(np.isfinite(ids) & (ids == np.round(ids)))][0]
            problems.add(sp.loc, f"{pop.name}.spikes: ids must be whole numbers (got {float(bad)!r})")
            return None, None
        if ids.size and (ids.min() < 0 or ids.max() >= pop.size):  # before the cast: 1e300 is whole but huge
            problems.add(sp.loc, f"{pop.name}.spikes: ids out of range (expected 0 <= id < {pop.size}, "
                                 f"got {ids.min()} .. {ids.max()})")
            return None, None
        ids = ids.astype(np.int64)
        bad = ~(np.isfinite(times) & (times >= 0))
        if bad.any():
            problems.add(sp.loc, f"{pop.name}.spikes: spike times must be >= 0 and finite "
                                 f"(got {format_quantity(float(times[bad][0]), TIME)})")
            return None, None
    order = np.lexsort((ids, times))
    return times[order], ids[order].astype(np.int32)


# ----------------------------------------------------------------------------- projections
def _projection(netlist, proj: S.Projection, pops: dict, dtype, problems: Problems):
    seed = netlist.seed
    pre_offsets = np.concatenate([[0], np.cumsum([pops[n].size for n in proj.pre])])
    post_offsets = np.concatenate([[0], np.cumsum([pops[n].size for n in proj.post])])
    n_pre, n_post = int(pre_offsets[-1]), int(post_offsets[-1])
    # global index of each local index, as arrays of per-population offsets
    pre_global = _global_map([pops[n].offset for n in proj.pre], pre_offsets)
    post_global = _global_map([pops[n].offset for n in proj.post], post_offsets)
    c = proj.connect
    columns = None
    if c.rule == "file":
        columns = read_columns(c.path, c.loc, f"{proj.name}: connect", problems)
        if columns is None:
            return None
        if "pre" not in columns or "post" not in columns:
            problems.add(c.loc, f"{proj.name}: connection file {os.path.basename(c.path)} needs 'pre' and 'post' "
                                f"(it has: {', '.join(columns)})")
            return None
    local = _connect(c, n_pre, n_post, pre_global, post_global, stream(seed, "projection", proj.name, "connect"),
                     columns, proj.name, problems)
    if local is None:
        return None
    lpre, lpost = local
    del local
    pre = pre_global(lpre)
    del lpre  # free each local array before the next large one is made
    post = post_global(lpost)
    del lpost
    n = int(pre.size)
    with np.errstate(over="ignore"):  # a value too large for single precision becomes inf: refused below
        weight = draw(proj.weight, n, ("projection", proj.name, "weight"), seed, f"{proj.name}: weight",
                      problems, dtype, columns)
        delay = draw(proj.delay, n, ("projection", proj.name, "delay"), seed, f"{proj.name}: delay",
                     problems, dtype, columns)
    if weight is None or delay is None:
        return None
    if n:
        for what, arr, v in (("weight", weight, proj.weight), ("delay", delay, proj.delay)):
            if not np.all(np.isfinite(arr)):
                bad = arr[np.flatnonzero(~np.isfinite(arr))[0]]
                problems.add(v.loc, f"{proj.name}: {what}s must be finite"
                                    f"{' in single precision' if dtype == np.float32 else ''} (got {bad})")
                return None
        dmin = float(delay.min())
        if dmin < 0:
            problems.add(proj.delay.loc, f"{proj.name}: delay must be >= 0 (got {format_quantity(dmin, TIME)})")
            return None
        t = netlist.time
        if t.mode == S.GRID:
            small = (delay > 0) & (delay < t.dt)
            if small.any():
                bad = float(delay[np.flatnonzero(small)[0]])
                problems.add(proj.delay.loc, f"{proj.name}: delay below dt in grid mode (expected 0 or >= dt = "
                                             f"{format_quantity(t.dt, TIME)}, got {format_quantity(bad, TIME)})")
                return None
    return SynapseArrays(proj.name, pre, post, weight, delay, proj.port, proj.pre, proj.post, proj.loc)


#: elements handled at once where a step needs int64 temporaries (bounds their memory)
BLOCK = 1 << 20


def _global_map(pop_offsets, local_offsets):
    """A function from local indices (into the concatenated populations) to global int32 ones."""
    pop_offsets = np.asarray(pop_offsets, dtype=np.int64)
    local_offsets = np.asarray(local_offsets, dtype=np.int64)
    shift = pop_offsets - local_offsets[:-1]

    def f(idx):
        idx = np.asarray(idx)
        out = np.empty(idx.shape, dtype=np.int32)
        for start in range(0, idx.size, BLOCK):
            part = idx[start:start + BLOCK].astype(np.int64)
            if len(shift) == 1:
                part += shift[0]
            else:
                part += shift[np.searchsorted(local_offsets[1:], part, side="right")]
            out[start:start + BLOCK] = part
        return out

    return f


def _connect(c: S.Connect, n_pre, n_post, pre_global, post_global, rng, columns, name, problems):
    """Local (pre, post) index arrays of a rule."""
    if c.rule == "all_to_all":
        pre = np.repeat(np.arange(n_pre, dtype=np.int32), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
        return _drop_self(pre, post, c, pre_global, post_global)
    if c.rule == "one_to_one":
        idx = np.arange(n_pre, dtype=np.int64)
        return _drop_self(idx, idx.copy(), c, pre_global, post_global)
    if c.rule == "probability":
        pre, post = _bernoulli_pairs(rng, n_pre, n_post, c.p)
        return _drop_self(pre, post, c, pre_global, post_global)
    if c.rule == "in_degree":
        post, pre = _fixed_degree(rng, n_post, n_pre, c.k, c.multapses,
                                  _self_position(c, post_global, pre_global, n_post, n_pre))
        return pre, post
    if c.rule == "out_degree":
        return _fixed_degree(rng, n_pre, n_post, c.k, c.multapses,
                             _self_position(c, pre_global, post_global, n_pre, n_post))
    if c.rule == "pairs":
        pre = np.asarray(c.pre, dtype=np.int64)
        post = np.asarray(c.post, dtype=np.int64)
        return _drop_self(pre, post, c, pre_global, post_global)
    if c.rule == "file":
        pre, post = columns["pre"], columns["post"]
        for key, arr, n in (("pre", pre, n_pre), ("post", post, n_post)):
            if arr.ndim != 1 or arr.dtype.kind not in "iuf":
                problems.add(c.loc, f"{name}: connection file column {key!r} must hold whole numbers "
                                    f"(got {arr.dtype} with shape {arr.shape})")
                return None
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
                bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))][0]
                problems.add(c.loc, f"{name}: connection file column {key!r} must hold whole numbers (got {float(bad)!r})")
                return None
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                problems.add(c.loc, f"{name}: connection file column {key!r} out of range "
                                    f"(expected 0 <= {key} < {n}, got {int(arr.min())} .. {int(arr.max())})")
                return None
        if pre.shape != post.shape:
            problems.add(c.loc, f"{name}: connection file columns pre and post differ in length "
                                f"(got {pre.size} and {post.size})")
            return None
        pre = pre.astype(np.int64)
        post = post.astype(np.int64)
        same = np.flatnonzero(pre_global(pre) == post_global(post)) if not c.allow_self else ()
        if len(same):
            i = int(same[0])
            problems.add(c.loc, f"{name}: connection file connects a neuron to itself, and allow_self is false "
                                f"(got pre {pre[i]}, post {post[i]} in row {i})")
            return None
        return pre, post
    raise AssertionError(c.rule)


def _drop_self(pre, post, c, pre_global, post_global):
    if c.allow_self:
        return pre, post
    keep = pre_global(pre) != post_global(post)
    return pre[keep], post[keep]


def _bernoulli_pairs(rng, n_pre: int, n_post: int, p: float):
    """Local (pre, post) int32 arrays of the pairs each chosen independently with probability p,
    in row-major order.

    The positions in [0, n_pre * n_post) are drawn as geometric gaps, so the cost follows the
    number chosen, not n_pre * n_post (which can be 10^10). Blocks of gaps are drawn in turn
    (the same draws whatever the block sizes), so no int64 array of the synapse count is held."""
    total = n_pre * n_post
    if total == 0 or p <= 0:
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32)
    if p >= 1:
        return (np.repeat(np.arange(n_pre, dtype=np.int32), n_post),
                np.tile(np.arange(n_post, dtype=np.int32), n_pre))
    expected = total * p
    capacity = int(expected + 6 * math.sqrt(expected) + 64)
    pre = np.empty(capacity, dtype=np.int32)
    post = np.empty(capacity, dtype=np.int32)
    n = 0
    last = -1
    while True:
        left = (total - 1 - last) * p
        size = min(BLOCK, int(left + 5 * math.sqrt(left) + 64))
        pos = np.cumsum(rng.geometric(p, size=size), dtype=np.int64)
        pos += last
        end = int(np.searchsorted(pos, total)) if pos[-1] >= total else size
        if n + end > capacity:  # more than expected + 6 sigma: grow (rare)
            capacity = max(2 * capacity, n + end)
            pre = np.resize(pre, capacity)
            post = np.resize(post, capacity)
        q, r = np.divmod(pos[:end], n_post)
        pre[n:n + end] = q
        post[n:n + end] = r
        n += end
        if end < size:
            break
        last = int(pos[-1])
    return pre[:n], post[:n]


def _self_position(c, own_global, other_global, n_own, n_other):
    """For each 'own' element, its local index on the 'other' side if it is the same neuron
    (and autapses are off), else -1; None when no element meets itself."""
    if c.allow_self or n_other == 0 or n_own == 0:
        return None
    own = own_global(np.arange(n_own))
    other = other_global(np.arange(n_other))
    order = np.argsort(other, kind="stable")
    pos = np.minimum(np.searchsorted(other[order], own), n_other - 1)
    hit = other[order][pos] == own
    if not hit.any():
        return None
    out = np.full(n_own, -1, dtype=np.int64)
    out[hit] = order[pos[hit]]
    return out


#: elements of the random-key matrix drawn at once by the dense fixed-degree choice
DENSE_BLOCK = 1 << 22


def _fixed_degree(rng, n_own, n_other, k, multapses, self_pos):
    """Each of ``n_own`` elements picks ``k`` partners among ``n_other``: (own, other) arrays.

    Without multapses the k partners are distinct; ``self_pos`` excludes each element's own
    index on the other side (no autapses)."""
    own = np.repeat(np.arange(n_own, dtype=np.int32), k)
    if k == 0 or n_own == 0:
        return own, np.empty(0, dtype=np.int32)
    has_self = np.zeros(n_own, dtype=bool) if self_pos is None else self_pos >= 0
    avail = (n_other - has_self).astype(np.int64)          # partners each row may choose from
    if not multapses and k * 3 >= n_other:
        # dense choice: the first k of a random order, with each row's own index ordered last.
        # Rows go in blocks to bound the temporaries; the draws are the same as in one block.
        out = np.empty((n_own, k), dtype=np.int32)
        rows = max(1, DENSE_BLOCK // n_other)
        for start in range(0, n_own, rows):
            stop = min(n_own, start + rows)
            keys = rng.random((stop - start, n_other))
            mine = np.flatnonzero(has_self[start:stop])
            if mine.size:
                keys[mine, self_pos[start:stop][mine]] = 2.0
            out[start:stop] = np.argsort(keys, axis=1)[:, :k]
        return own, out.reshape(-1)
    high = np.broadcast_to(avail[:, None], (n_own, k))
    other = rng.integers(0, high)
    if not multapses:
        # k < n_other / 3 here, so few rows hold a repeat and few rounds redraw them
        other.sort(axis=1)
        rows = np.arange(n_own)
        while True:
            sub = other[rows]
            dup = np.zeros(sub.shape, dtype=bool)
            dup[:, 1:] = sub[:, 1:] == sub[:, :-1]
            hit = dup.any(axis=1)
            if not hit.any():
                break
            rows, sub, dup = rows[hit], sub[hit], dup[hit]
            sub[dup] = rng.integers(0, high[rows][dup])
            sub.sort(axis=1)
            other[rows] = sub
    if has_self.any():
        # rows with an own index drew from n_other - 1 values: step over that index
        sp = self_pos[:, None]
        other = np.where((sp >= 0) & (other >= sp), other + 1, other)
    return own, other.reshape(-1).astype(np.int32)
