"""An expanded event-gated netlist as the flat arrays the gated engine and the reference read.

Units are indexed globally (populations concatenated in the netlist's order, sequence sources
included). Every synapse lands on one gate of its target: code ``U``, ``R``, ``Z``, or ``ZG``
(a z input from the target's own population one step delayed, which the sender's reset gate
scales: r_j y_j). A projection on port ``gates`` gives three synapses per connected pair, with
u weights the netlist's expanded weights and r, z weights drawn from the same distribution on
streams of their own. Synapses are stored in CSR order by source, separately for delay 0
(the sender's event of this step) and delay 1 (of the previous step); only existing synapses
are stored, so pruned weights cost nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import netspec
from netspec import NetlistError, Problem
from netspec import spec as S
from netspec.expand import draw
from netspec.errors import Problems
from netspec.graph import processing_order

U, R, Z, ZG = 0, 1, 2, 3
GATE_NAMES = ("u", "r", "z", "z")
PORT_GATES = {"u": (U,), "r": (R,), "z": (Z,), "gates": (U, R, Z)}
SEQUENCE, EGRU = 0, 1
#: weight specs a `gates` projection can draw per gate (explicit weights would repeat across gates)
DRAWN = (S.Const, S.Uniform, S.Normal, S.Ternary, S.Beta)


@dataclass
class Csr:
    ptr: np.ndarray        # int64 (N + 1)
    post: np.ndarray       # int32
    gate: np.ndarray       # int8: U, R, Z, ZG
    w: np.ndarray          # float64

    @property
    def size(self) -> int:
        return int(self.post.size)


@dataclass
class GatedNet:
    arrays: netspec.Expanded
    n_steps: int
    dt: float
    names: list                      # population names, netlist order
    kinds: np.ndarray                # int8 per population: SEQUENCE or EGRU
    offsets: np.ndarray              # int64 per population (+ total at the end)
    order: np.ndarray                # int64: population indices in processing order (zero-delay sources first)
    unit_pop: np.ndarray             # int32 per unit
    # per unit (sources: zeros)
    b: np.ndarray                    # (N, 3) biases u, r, z
    theta: np.ndarray
    mode: np.ndarray                 # int8: 0 reset by the event (paper), 1 reset by theta (EvNN)
    gamma: np.ndarray
    beta: np.ndarray
    c0: np.ndarray
    y0: np.ndarray
    csr0: Csr
    csr1: Csr
    # sequence input, global ids, sorted by (step, population order, id)
    in_ptr: np.ndarray               # int64 (n_steps + 1)
    in_id: np.ndarray                # int32
    in_val: np.ndarray               # float64
    # per projection and gate, for counting: (name, post population, gate, n_pre, n_post, synapses)
    blocks: list = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.offsets[-1])

    def pop_slice(self, name: str) -> slice:
        k = self.names.index(name)
        return slice(int(self.offsets[k]), int(self.offsets[k + 1]))

    def egru_names(self) -> list:
        return [n for n, k in zip(self.names, self.kinds) if k == EGRU]

    def dense(self, delay: int, gate: int) -> np.ndarray:
        """The (N, N) matrix of one gate code and delay (post x pre), for the reference."""
        c = self.csr0 if delay == 0 else self.csr1
        m = np.zeros((self.n, self.n))
        pre = np.repeat(np.arange(self.n), np.diff(c.ptr))
        sel = c.gate == gate
        np.add.at(m, (c.post[sel], pre[sel]), c.w[sel])
        return m


def is_gated(netlist) -> bool:
    """Whether a netlist runs on the gated engine (its populations are event-gated units and sequence inputs)."""
    from netspec import registry

    models = [registry.get(p.model) for p in netlist.populations.values()]
    return any(m is not None and m.is_stepped for m in models)


def build(arrays: netspec.Expanded, gate_weights: dict | None = None) -> GatedNet:
    """The gated engine's arrays of an expanded netlist (NetlistError, with locations, for what
    the engine cannot run). ``gate_weights`` (projection name -> {gate: weights}) replaces drawn
    weights (training writes its weights back this way)."""
    net = arrays.netlist
    problems = Problems()
    t = net.time
    dt = t.dt if t.dt else 1.0
    n_steps = t.n_steps
    names = list(arrays.populations)
    pops = [arrays.populations[n] for n in names]
    kinds = np.array([EGRU if p.model == "egru" else SEQUENCE for p in pops], dtype=np.int8)
    for p in pops:
        if p.model not in ("egru", "sequence"):
            problems.add(net.populations[p.name].loc, f"population {p.name!r}: model {p.model!r} cannot run on the "
                                                      f"gated engine (egru and sequence only)")
    problems.raise_if_any()
    offsets = np.zeros(len(pops) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([p.size for p in pops])
    n = int(offsets[-1])
    unit_pop = np.repeat(np.arange(len(pops), dtype=np.int32), [p.size for p in pops])
    b = np.zeros((n, 3))
    theta, mode, gamma, beta, c0, y0 = (np.zeros(n) for _ in range(6))
    mode = mode.astype(np.int8)
    for k, p in enumerate(pops):
        if kinds[k] != EGRU:
            continue
        sl = slice(int(offsets[k]), int(offsets[k + 1]))
        for g, key in enumerate(("b_u", "b_r", "b_z")):
            b[sl, g] = p.params[key]
        theta[sl] = p.params["theta"]
        mode[sl] = np.asarray(p.params["reset"]).astype(np.int8)
        gamma[sl] = p.params["gamma"]
        beta[sl] = p.params["beta"]
        c0[sl] = p.init["c"]
        y0[sl] = p.init["y"]
    # processing order: sources of zero-delay projections before their targets
    stages = processing_order(net, arrays.delay_ranges())
    order = np.array([names.index(x) for stage in stages for x in stage], dtype=np.int64)
    # synapses
    specs = {pr.name: pr for pr in net.projections}
    parts = {0: [], 1: []}
    blocks = []
    for proj in arrays.projections:
        spec = specs[proj.name]
        if proj.size == 0:
            continue
        steps = np.asarray(proj.delay, dtype=np.float64) / dt
        d = np.rint(steps)
        if not np.all((np.abs(steps - d) <= 1e-9 * np.maximum(1.0, d)) & ((d == 0) | (d == 1))):
            problems.add(spec.delay.loc, f"{proj.name}: delays in an event-gated network are 0 (this step's events) "
                                         f"or one step dt = {dt:g} s (the previous step's)")
            continue
        d = d.astype(np.int8)
        gates = PORT_GATES[proj.port]
        given = (gate_weights or {}).get(proj.name, {})
        if len(gates) > 1 and not isinstance(spec.weight, DRAWN) and not given:
            problems.add(spec.weight.loc, f"{proj.name}: port gates draws each gate's weights from a distribution; "
                                          f"for explicit weights use one projection per gate (port u, r, z)")
            continue
        pre = proj.pre.astype(np.int64)
        post = proj.post.astype(np.int64)
        same_pop = unit_pop[pre] == unit_pop[post]
        n_pre = sum(arrays.populations[x].size for x in proj.pre_pops)
        for g in gates:
            if g in given:
                w = np.broadcast_to(np.asarray(given[g], dtype=np.float64), (proj.size,))
            else:
                w = drawn_gate_weights(proj, spec, g, net.seed, problems)
            code = np.full(proj.size, g, dtype=np.int8)
            if g == Z:
                code[(d == 1) & same_pop] = ZG
            for dd in (0, 1):
                sel = d == dd
                if sel.any():
                    parts[dd].append((pre[sel], post[sel], code[sel], w[sel]))
            for post_name in proj.post_pops:
                blocks.append((proj.name, post_name, g, n_pre, arrays.populations[post_name].size,
                               int(np.count_nonzero(unit_pop[post] == names.index(post_name)))))
    problems.raise_if_any()
    csr0, csr1 = (_csr(parts[dd], n) for dd in (0, 1))
    in_ptr, in_id, in_val = _inputs(pops, offsets, order, n_steps)
    return GatedNet(arrays, n_steps, dt, names, kinds, offsets, order, unit_pop, b, theta, mode, gamma, beta,
                    c0, y0, csr0, csr1, in_ptr, in_id, in_val, blocks)


def _csr(parts, n) -> Csr:
    if parts:
        pre = np.concatenate([p[0] for p in parts])
        post = np.concatenate([p[1] for p in parts])
        gate = np.concatenate([p[2] for p in parts])
        w = np.concatenate([p[3] for p in parts])
    else:
        pre = post = np.zeros(0, np.int64)
        gate = np.zeros(0, np.int8)
        w = np.zeros(0)
    order = np.lexsort((post, gate, pre))
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(pre, minlength=n))
    return Csr(ptr, post[order].astype(np.int32), gate[order].astype(np.int8), np.ascontiguousarray(w[order]))


def _inputs(pops, offsets, order, n_steps):
    """Input events of every sequence source as CSR over steps (global ids, population order)."""
    steps, ids, vals = [], [], []
    rank = {int(k): r for r, k in enumerate(order)}
    keys = []
    for k, p in enumerate(pops):
        if p.sequence is None:
            continue
        s, i, v = p.sequence
        keep = s < n_steps
        steps.append(s[keep])
        ids.append(i[keep].astype(np.int64) + offsets[k])
        vals.append(v[keep])
        keys.append(np.full(int(keep.sum()), rank[k]))
    if steps:
        s, i, v, r = (np.concatenate(x) for x in (steps, ids, vals, keys))
    else:
        s = i = r = np.zeros(0, np.int64)
        v = np.zeros(0)
    o = np.lexsort((i, r, s))
    ptr = np.zeros(n_steps + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(s, minlength=n_steps)[:n_steps])
    return ptr, i[o].astype(np.int32), v[o].astype(np.float64)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def silent_constants(gn: GatedNet):
    """u*, z* and q = 1 - u* of every unit: its gates with no input."""
    us = sigmoid(gn.b[:, U])
    zs = np.tanh(gn.b[:, Z])
    return us, zs, 1.0 - us


__all__ = ["GatedNet", "Csr", "build", "is_gated", "U", "R", "Z", "ZG", "EGRU", "SEQUENCE", "silent_constants",
]


def drawn_gate_weights(proj, spec, g, seed, problems) -> np.ndarray:
    """Gate g's weights of a projection, one per synapse: the expanded weights for the port's first
    gate; for the others (port ``gates``), draws from the same distribution on a stream of their own."""
    if g == PORT_GATES[proj.port][0]:
        w = np.asarray(proj.weight, dtype=np.float64)
    else:
        w = draw(spec.weight, proj.size, ("projection", proj.name, "weight", GATE_NAMES[g]), seed,
                 f"{proj.name}: weight", problems).astype(np.float64)
    return np.array(np.broadcast_to(w, (proj.size,)))


def local_index(ids, pop_names, arrays) -> np.ndarray:
    """Global unit ids as indices into the concatenation of the populations ``pop_names``."""
    out = np.empty(np.size(ids), dtype=np.int64)
    k = 0
    ids = np.asarray(ids, dtype=np.int64)
    for nm in pop_names:
        p = arrays.populations[nm]
        sel = (ids >= p.offset) & (ids < p.offset + p.size)
        out[sel] = ids[sel] - p.offset + k
        k += p.size
    return out
