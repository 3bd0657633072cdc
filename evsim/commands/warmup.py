"""evsim warmup: compile the engines now (install.sh runs it), so that the first run does not.

The exact and the grid mode have an engine each (simcore.codegen); both are compiled, over every
registered model, so that every later network uses them (before this, a network compiles an
engine over its own models only)."""
from __future__ import annotations

import time

SMALL = """
time: {duration: 5 ms, mode: exact, dt: 0.1 ms}
populations:
  src: {size: 2, model: poisson, params: {rate: 200 Hz}}
  n: {size: 2, model: lif_exp, params: {e_l: 0 V, v_th: 1 V, v_reset: 0 V}}
projections:
  - {from: src, to: n, connect: all_to_all, weight: 0.5 V, delay: 1 ms}
record: {spikes: all, state: {n: {vars: [v]}}}
"""


def add_parser(sub):
    p = sub.add_parser("warmup", help="compile the engines now (kept on disk for every later run)")
    p.set_defaults(func=run)


def run(args) -> int:
    import netspec
    from simcore.codegen import cache_dir
    from simcore.runner import Simulation

    for mode in ("exact", "grid"):
        t0 = time.perf_counter()
        netlist = netspec.loads(SMALL.replace("mode: exact", f"mode: {mode}"), filename="<warmup>")
        raw = Simulation(netspec.expand(netlist), all_models=True).run()
        print(f"{mode}-mode engine ready in {cache_dir()} ({time.perf_counter() - t0:.1f} s, "
              f"of which compiling or loading {raw.compile_seconds:.1f} s)")
    return 0
