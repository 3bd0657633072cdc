"""evsim prune: magnitude pruning of an event-gated (EGRU) netlist's projections to a density."""
from __future__ import annotations

import os

from ..cli import UsageError
from .common import add_netlist_args


def add_parser(sub):
    p = sub.add_parser("prune", help="magnitude-prune an EGRU netlist's projections to a density",
                       description="Keeps, per projection and gate, the round(density x n_pre x n_post) weights "
                                   "largest in magnitude and writes a new netlist whose pruned projections read "
                                   "their synapses from side .npz files (one projection per gate, port u, r, z). "
                                   "The gated engine stores only the kept synapses; `evsim run` on the result "
                                   "shows the parameter and combined reductions. See simcore/egru/prune.py.")
    add_netlist_args(p)
    p.add_argument("--density", type=float, required=True, help="fraction of the dense weights kept, in (0, 1]")
    p.add_argument("--projections", metavar="NAMES", help="comma-separated projections to prune (default: all)")
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the pruned netlist (.yaml)")
    p.set_defaults(func=run)


def run(args) -> int:
    import netspec
    from simcore.egru.network import is_gated
    from simcore.egru.prune import prune

    if not 0 < args.density <= 1:
        raise UsageError(f"--density must be in (0, 1] (got {args.density:g})")
    if not args.output.endswith((".yaml", ".yml")):
        raise UsageError(f"the output file must end in .yaml (got {args.output!r})")
    if os.path.abspath(args.output) == os.path.abspath(args.netlist):
        raise UsageError("the output would overwrite the netlist itself; give another -o")
    if not is_gated(netspec.load(args.netlist, overrides=args.overrides)):
        raise UsageError(f"{args.netlist}: evsim prune applies to event-gated (egru) netlists")
    chosen = [s.strip() for s in args.projections.split(",") if s.strip()] if args.projections else None
    report = prune(args.netlist, args.density, args.output, chosen, args.overrides)
    before = sum(r["synapses"] for r in report.values())
    kept = sum(r["kept"] for r in report.values())
    dense = sum(r["dense"] for r in report.values())
    print(f"{args.output}: {len(report)} pruned projection gates, {kept} of {before} synapses kept "
          f"({kept / dense if dense else 0:.4f} of {dense} dense weights)")
    for name, r in report.items():
        print(f"  {name:20s} gate {r['gate']}  {r['synapses']:8d} -> {r['kept']:8d}  density {r['density']:.4f}")
    return 0
