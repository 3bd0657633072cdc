"""evsim validate: check netlists without running them."""
from __future__ import annotations

import sys

import netspec

from .common import add_netlist_args, load


def add_parser(sub):
    p = sub.add_parser("validate", help="check a netlist (exit status 2 and every problem if it is wrong)",
                       description="Reads, checks and expands a netlist (connectivity, values, files, memory), "
                                   "printing every problem as file:line:col: message.")
    add_netlist_args(p)
    p.add_argument("--quick", action="store_true", help="check the netlist only, do not expand it")
    p.set_defaults(func=run)


def run(args) -> int:
    net = load(args)
    est = netspec.check_fits(net)
    if not args.quick:
        arrays = netspec.expand(net, check_memory=False)
        n_syn = arrays.n_synapses
        from simcore.egru.network import build, is_gated

        if is_gated(net):
            build(arrays)     # what only the gated engine checks (delays of 0 or 1 step, gates weights)
    else:
        n_syn = est.n_synapses
    print(f"{args.netlist}: ok ({len(net.populations)} populations, {net.n_neurons} neurons, "
          f"{len(net.projections)} projections, {n_syn} synapses{' expected' if args.quick else ''})",
          file=sys.stdout)
    return 0
