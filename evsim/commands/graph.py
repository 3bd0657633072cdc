"""evsim graph: the network as a graph of populations and projections."""
from __future__ import annotations

import netspec
from netspec import graph as G
from netspec.atomic import write_text

from .common import add_netlist_args, load


def add_parser(sub):
    p = sub.add_parser("graph", help="summarise the population graph; write GraphML or DOT",
                       description="Prints populations, projections, synapse counts and delay ranges "
                                   "(the network's minimum delay is the engine's time window).")
    add_netlist_args(p)
    p.add_argument("--graphml", metavar="FILE", help="write the graph as GraphML")
    p.add_argument("--dot", metavar="FILE", help="write the graph as Graphviz DOT")
    p.set_defaults(func=run)


def run(args) -> int:
    net = load(args)
    arrays = netspec.expand(net)
    ranges = arrays.delay_ranges()
    counts = {p.name: p.size for p in arrays.projections}
    print(G.summary(net, ranges, counts))
    g = G.build_graph(net, ranges)
    per_edge = _edge_counts(arrays)
    for a, b, d in g.edges(data=True):
        d["synapses"] = per_edge.get((d["projection"], a, b), 0)
    if args.graphml:
        import io

        import networkx as nx

        buf = io.BytesIO()
        nx.write_graphml(g, buf)
        write_text(args.graphml, buf.getvalue().decode())
    if args.dot:
        write_text(args.dot, G.to_dot(g))
    return 0


def _edge_counts(arrays) -> dict:
    """(projection, source population, target population) -> synapse count."""
    import numpy as np

    pops = list(arrays.populations.values())
    starts = np.array([p.offset for p in pops])
    out = {}
    for proj in arrays.projections:
        src = np.searchsorted(starts, proj.pre, side="right") - 1
        dst = np.searchsorted(starts, proj.post, side="right") - 1
        pairs, n = np.unique(src.astype(np.int64) * len(pops) + dst, return_counts=True)
        for pair, count in zip(pairs.tolist(), n.tolist()):
            out[(proj.name, pops[pair // len(pops)].name, pops[pair % len(pops)].name)] = count
    return out
