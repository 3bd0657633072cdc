"""A trainable network: an expanded lif_exp netlist as the flat arrays the EventProp kernels read.

Neurons keep their global indices (populations concatenated in netlist order, as
:mod:`netspec.expand` numbers them). Synapses of every projection are concatenated in netlist
order: global synapse index = projection offset + index within the projection (the order of
``netspec.expand``), which is also the tie order of simultaneous inputs (docs/semantics.md).
Trainable parameters are views into the concatenated ``weight`` and ``delay`` arrays; after
changing delays call :meth:`Network.reorder` (rows are kept sorted by delay).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

import netspec
from netspec import NetlistError, Problem

from ..columns import param_matrix, state_matrix
from ..models import lif_exp

PORTS = {"exc": 0, "inh": 1}


@dataclass
class Network:
    expanded: netspec.Expanded
    params: np.ndarray            # (N, len(lif_exp.COLUMNS)); rows of sources are zeros
    init: np.ndarray              # (N, 3): v, i_exc, i_inh
    is_source: np.ndarray         # int8 (N)
    pre: np.ndarray               # int32 (S)
    post: np.ndarray              # int32 (S)
    weight: np.ndarray            # float64 (S)
    delay: np.ndarray             # float64 (S)
    port: np.ndarray              # int8 (S): 0 exc, 1 inh
    duration: float
    slices: dict                  # projection name -> slice of the synapse arrays
    recurrent: dict               # projection name -> True if it closes a cycle between populations
    row_ptr: np.ndarray = field(default=None)   # CSR by source, rows sorted by (delay, synapse)
    row_syn: np.ndarray = field(default=None)
    col_ptr: np.ndarray = field(default=None)   # CSR by target, sorted by (source, synapse)
    col_syn: np.ndarray = field(default=None)

    @property
    def n(self) -> int:
        return int(self.init.shape[0])

    @property
    def n_syn(self) -> int:
        return int(self.pre.size)

    @property
    def populations(self) -> dict:
        return self.expanded.populations

    def population(self, name):
        return self.expanded.populations[name]

    def reorder(self) -> None:
        """Sorts each source's row by (delay, synapse index); call after changing delays."""
        order = np.lexsort((np.arange(self.n_syn), self.delay, self.pre))
        self.row_syn = order.astype(np.int64)
        self.row_ptr = np.searchsorted(self.pre[order], np.arange(self.n + 1)).astype(np.int64)

    def kernel_args(self):
        """The tuple the kernels take (see eventprop.py)."""
        return (self.params, self.init, self.is_source, self.pre, self.post, self.weight, self.delay, self.port,
                self.row_ptr, self.row_syn, self.col_ptr, self.col_syn, float(self.duration))

    def get(self, proj: str, what: str) -> np.ndarray:
        return (self.weight if what == "weight" else self.delay)[self.slices[proj]]

    def set(self, proj: str, what: str, values) -> None:
        (self.weight if what == "weight" else self.delay)[self.slices[proj]] = values
        if what == "delay":
            self.reorder()

    def copy(self) -> "Network":
        out = Network(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        out.weight = self.weight.copy()
        out.delay = self.delay.copy()
        out.reorder()
        return out


def build(expanded: netspec.Expanded, what: str = "eventprop") -> Network:
    """The Network of an expanded netlist; NetlistError (with locations) for anything the
    estimator cannot handle: grid mode, models other than lif_exp and spike_times sources,
    projections into sources."""
    net = expanded.netlist
    problems = []
    if net.time.mode != netspec.EXACT:
        problems.append(Problem(net.time.loc, f"{what} needs exact mode (time.mode: exact; got {net.time.mode})"))
    n = expanded.n_neurons
    params = np.zeros((n, len(lif_exp.COLUMNS)))
    init = np.zeros((n, 3))
    is_source = np.zeros(n, dtype=np.int8)
    for pop in expanded.populations.values():
        sl = slice(pop.offset, pop.offset + pop.size)
        if pop.model == "lif_exp":
            params[sl] = param_matrix(pop)
            init[sl] = state_matrix(pop)
        elif pop.model == "spike_times":
            is_source[sl] = 1
        else:
            problems.append(Problem(net.populations[pop.name].loc,
                                    f"{what} handles lif_exp neurons and spike_times sources only "
                                    f"(population {pop.name!r} is {pop.model})"))
    slices, pres, posts, ws, ds, ports = {}, [], [], [], [], []
    start = 0
    for proj, spec in zip(expanded.projections, net.projections):
        for name in proj.post_pops:
            if expanded.populations[name].model != "lif_exp":
                problems.append(Problem(spec.loc, f"{what}: projection {proj.name!r} targets {name!r}, "
                                                  f"which is not a lif_exp population"))
        if proj.port not in PORTS:
            problems.append(Problem(spec.loc, f"{what}: unknown port {proj.port!r} of projection {proj.name!r}"))
        slices[proj.name] = slice(start, start + proj.size)
        start += proj.size
        pres.append(np.asarray(proj.pre, dtype=np.int32))
        posts.append(np.asarray(proj.post, dtype=np.int32))
        ws.append(np.asarray(proj.weight, dtype=np.float64))
        ds.append(np.asarray(proj.delay, dtype=np.float64))
        ports.append(np.full(proj.size, PORTS.get(proj.port, 0), dtype=np.int8))
    if problems:
        raise NetlistError(problems)
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt))
    out = Network(expanded, params, init, is_source, cat(pres, np.int32), cat(posts, np.int32),
                  cat(ws, np.float64), cat(ds, np.float64), cat(ports, np.int8), float(net.time.duration),
                  slices, recurrent_projections(net))
    out.reorder()
    order = np.lexsort((np.arange(out.n_syn), out.pre, out.post))
    out.col_syn = order.astype(np.int64)
    out.col_ptr = np.searchsorted(out.post[order], np.arange(n + 1)).astype(np.int64)
    return out


def recurrent_projections(net: netspec.Netlist) -> dict:
    """Projection name -> whether it lies on a cycle of the population graph (its delays must
    stay above zero: a zero-delay cycle is not a network evsim runs)."""
    g = nx.DiGraph()
    g.add_nodes_from(net.populations)
    for p in net.projections:
        for a in p.pre:
            for b in p.post:
                g.add_edge(a, b)
    comp = {}
    for k, scc in enumerate(nx.strongly_connected_components(g)):
        for node in scc:
            comp[node] = k
    out = {}
    for p in net.projections:
        out[p.name] = any(comp[a] == comp[b] and (a != b or g.has_edge(a, a)) for a in p.pre for b in p.post)
    return out
