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


def _ready(mode: str) -> tuple:
    """Compiles (or loads) one mode's engine over every model: (seconds, of which compiling)."""
    import netspec
    from simcore.runner import Simulation

    t0 = time.perf_counter()
    netlist = netspec.loads(SMALL.replace("mode: exact", f"mode: {mode}"), filename="<warmup>")
    raw = Simulation(netspec.expand(netlist), all_models=True).run()
    return time.perf_counter() - t0, raw.compile_seconds


def run(args) -> int:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from simcore.codegen import cache_dir

    # the two engines are independent, and most of a compile is Numba's Python code on one core:
    # side by side in two processes (28 s -> 19 s with empty caches on this 2-core machine)
    modes = ("exact", "grid")
    with ProcessPoolExecutor(len(modes), mp_context=multiprocessing.get_context("spawn")) as pool:
        for mode, (seconds, compiling) in zip(modes, pool.map(_ready, modes)):
            print(f"{mode}-mode engine ready in {cache_dir()} ({seconds:.1f} s, of which compiling or loading "
                  f"{compiling:.1f} s)")
    return 0
