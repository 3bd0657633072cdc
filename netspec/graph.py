"""The network as a graph of populations (nodes) and projections (edges), with networkx.

Used to refuse zero-delay cycles (a spike could go round them in no time), to find the
order in which the engine processes populations inside one time window (sources of zero-delay
projections before their targets), and to summarise or export a network (``evsim graph``).
"""
from __future__ import annotations

import math

import networkx as nx

from . import spec as S
from .values import value_range


def build_graph(netlist: S.Netlist, delay_ranges: dict | None = None) -> nx.MultiDiGraph:
    """Nodes are populations, edges projections (one edge per source/target population pair).

    ``delay_ranges`` maps projection name -> (min, max) from expanded arrays; without it the
    range is what the netlist states (None where a file decides).
    """
    g = nx.MultiDiGraph(name=netlist.name)
    for name, pop in netlist.populations.items():
        g.add_node(name, size=pop.size, model=pop.model)
    for proj in netlist.projections:
        rng = (delay_ranges or {}).get(proj.name) or value_range(proj.delay)
        single = len(proj.pre) * len(proj.post) == 1
        for a in proj.pre:
            for b in proj.post:
                # edge keys are unique in the graph (GraphML writes them as edge ids)
                key = proj.name if single else f"{proj.name}[{a}->{b}]"
                g.add_edge(a, b, key=key, projection=proj.name, rule=proj.connect.rule, port=proj.port,
                           min_delay=(rng[0] if rng else math.nan), max_delay=(rng[1] if rng else math.nan),
                           loc=str(proj.loc))
    return g


def zero_delay_graph(pops, projs, delay_ranges: dict | None = None) -> nx.DiGraph:
    """Population graph of the projections that may deliver with zero delay."""
    g = nx.DiGraph()
    g.add_nodes_from(pops)
    for proj in projs:
        rng = (delay_ranges or {}).get(proj.name) or value_range(proj.delay)
        if rng is None or rng[0] > 0:
            continue
        for a in proj.pre:
            for b in proj.post:
                g.add_edge(a, b)
                g.edges[a, b].setdefault("projections", []).append(proj)
    return g


#: zero-delay cycles reported at most (a dense zero-delay graph has very many)
MAX_CYCLES = 20


def zero_delay_cycle_problems(pops, projs, delay_ranges: dict | None = None):
    """(location, message) for each zero-delay cycle, naming every projection in it.

    The report does not depend on hash order: each cycle starts at its population written
    first in the netlist, and cycles are listed in that order."""
    g = zero_delay_graph(pops, projs, delay_ranges)
    order = {name: i for i, name in enumerate(pops)}
    cycles = []
    for cycle in nx.simple_cycles(g):
        first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
        cycles.append(cycle[first:] + cycle[:first])
        if len(cycles) >= 10 * MAX_CYCLES:
            break
    out = []
    for cycle in sorted(cycles, key=lambda c: [order[n] for n in c]):
        steps = list(zip(cycle, cycle[1:] + cycle[:1]))
        involved = []
        for a, b in steps:
            for proj in g.edges[a, b]["projections"]:
                if proj not in involved:
                    involved.append(proj)
        names = ", ".join(f"{p.name!r} ({p.loc})" for p in involved)
        loop = " -> ".join(cycle + cycle[:1])
        what = "projection" if len(involved) == 1 else "projections"
        out.append((involved[0].loc, f"zero-delay cycle {loop}: {what} {names} can pass a spike round the "
                                     f"loop in no time (expected a delay > 0 on at least one of them)"))
        if len(out) >= MAX_CYCLES:
            break
    return out


def processing_order(netlist: S.Netlist, delay_ranges: dict | None = None) -> list[list[str]]:
    """Populations grouped in stages: a zero-delay projection always goes to a later stage."""
    g = zero_delay_graph(netlist.populations, netlist.projections, delay_ranges)
    return [sorted(gen, key=list(netlist.populations).index) for gen in nx.topological_generations(g)]


def summary(netlist: S.Netlist, delay_ranges: dict | None = None, counts: dict | None = None) -> str:
    """A text summary: populations, projections with synapse counts and delay ranges."""
    from .units import TIME, format_quantity

    def q(x):  # for reading: 4 significant digits in s, ms or us
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "?"
        if x == 0 or not math.isfinite(x):
            return format_quantity(x, TIME)
        unit, scale = next(((u, f) for u, f, at in (("s", 1.0, 1.0), ("ms", 1e-3, 1e-4)) if abs(x) >= at), ("us", 1e-6))
        return f"{x / scale:.4g} {unit}"

    lines = [f"network {netlist.name}: {len(netlist.populations)} populations, {netlist.n_neurons} neurons, "
             f"{len(netlist.projections)} projections"]
    for name, pop in netlist.populations.items():
        lines.append(f"  population {name}: {pop.size} x {pop.model}")
    lo_all, hi_all = math.inf, -math.inf
    for proj in netlist.projections:
        rng = (delay_ranges or {}).get(proj.name) or value_range(proj.delay)
        lo, hi = (rng if rng else (None, None))
        if rng:
            lo_all, hi_all = min(lo_all, lo), max(hi_all, hi)
        n = (counts or {}).get(proj.name)
        lines.append(f"  projection {proj.name}: {'+'.join(proj.pre)} -> {'+'.join(proj.post)} "
                     f"[{proj.connect.rule}] port {proj.port}, delay {q(lo)} .. {q(hi)}"
                     + (f", {n} synapse{'s' if n != 1 else ''}" if n is not None else ""))
    if netlist.projections:
        if lo_all <= hi_all:
            lines.append(f"  delays: min {q(lo_all)}, max {q(hi_all)}")
        stages = processing_order(netlist, delay_ranges)
        if len(stages) > 1:
            lines.append("  zero-delay stages: " + " | ".join(", ".join(s) for s in stages))
    return "\n".join(lines)


def write_graphml(g: nx.MultiDiGraph, path: str) -> None:
    nx.write_graphml(g, path)


def to_dot(g: nx.MultiDiGraph) -> str:
    def esc(s):
        return str(s).replace("\\", "\\\\").replace('"', '\\"')

    out = [f'digraph "{esc(g.graph.get("name", "network"))}" {{']
    for n, d in g.nodes(data=True):
        out.append(f'  "{esc(n)}" [label="{esc(n)}\\n{d["size"]} x {esc(d["model"])}"];')
    for a, b, d in g.edges(data=True):
        delay = "" if math.isnan(d["min_delay"]) else f'\\n{d["min_delay"] * 1e3:g}-{d["max_delay"] * 1e3:g} ms'
        out.append(f'  "{esc(a)}" -> "{esc(b)}" [label="{esc(d["projection"])}{delay}"];')
    out.append("}")
    return "\n".join(out) + "\n"
