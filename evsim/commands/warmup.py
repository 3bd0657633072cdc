"""evsim warmup [NETLIST ...]: compile the engines now (install.sh runs it), so that runs do not.

Compiled, and kept on disk: the engine over every registered model, in exact and in grid mode
(any network then runs at once), and the engine over each given netlist's own models, in the
netlist's time mode (simcore.codegen.models_for: a network runs on its own engine once that is
compiled; CUBA 4 % faster than on the engine over every model); with ``--threads``, each
netlist's engine for runs on several threads instead (``evsim run --threads N``). Engines are
compiled side by side in two processes: most of a compile is Numba's Python code, on one core."""
from __future__ import annotations

import time
from pathlib import Path

SMALL = """
time: {duration: 5 ms, mode: exact, dt: 0.1 ms}
populations:
  src: {size: 2, model: poisson, params: {rate: 200 Hz}}
  n: {size: 2, model: lif_exp, params: {e_l: 0 V, v_th: 1 V, v_reset: 0 V}}
projections:
  - {from: src, to: n, connect: all_to_all, weight: 0.5 V, delay: 1 ms}
record: {spikes: all, state: {n: {vars: [v]}}}
"""
#: long enough to run every kernel once, short enough for any shipped network
SHORT_RUN = "time.duration=2 ms"


def add_parser(sub):
    p = sub.add_parser("warmup", help="compile the engines now (kept on disk for every later run)")
    p.add_argument("netlists", nargs="*", metavar="NETLIST",
                   help="also compile the engine over each netlist's own models")
    p.add_argument("--threads", action="store_true",
                   help="the netlists' engines for runs on several threads (evsim run --threads N)")
    p.set_defaults(func=run)


def _ready(job: tuple, threads: int = 1) -> tuple:
    """Compiles (or loads) one engine: job ("all", mode) or ("own", netlist path), the one for
    ``threads`` > 1 or not; returns (seconds, of which compiling or loading)."""
    import netspec
    from simcore.runner import Simulation

    kind, what = job
    t0 = time.perf_counter()
    if kind == "all":
        netlist = netspec.loads(SMALL.replace("mode: exact", f"mode: {what}"), filename="<warmup>")
    else:
        netlist = netspec.load(what, overrides=[SHORT_RUN])
    raw = Simulation(netspec.expand(netlist), engine=kind, threads=threads).run()
    return time.perf_counter() - t0, raw.compile_seconds


def own_engine_jobs(paths) -> list:
    """One ("own", path) job per distinct (models, time mode) among the netlists (event-gated
    ones, which run on their own engine, left out), with the netlists each job stands for."""
    import netspec
    from netspec.spec import STEPS

    jobs = {}
    for path in paths:
        netlist = netspec.load(path)          # bad input stops here, located, before anything compiles
        if netlist.time.mode == STEPS:
            continue
        key = (tuple(sorted({p.model for p in netlist.populations.values()})), netlist.time.mode)
        jobs.setdefault(key, []).append(str(path))
    return [(("own", names[0]), key, names) for key, names in jobs.items()]


def run(args) -> int:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from simcore.codegen import cache_dir

    paths = list(getattr(args, "netlists", None) or [])
    threaded = bool(getattr(args, "threads", False))
    jobs = [(("all", mode), None, None) for mode in ("exact", "grid")] + own_engine_jobs(paths)
    print(f"compiling (or loading) {len(jobs)} engines in {cache_dir()}, two at a time")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        threads = [2 if threaded and key is not None else 1 for _, key, _ in jobs]
        for (job, key, names), (seconds, compiling) in zip(jobs, pool.map(_ready, [j[0] for j in jobs], threads)):
            if key is None:
                what = f"{job[1]}-mode engine over every model"
            else:
                what = (f"{key[1]}-mode engine{' for threads' if threaded else ''} over {', '.join(key[0])} "
                        f"({', '.join(Path(n).name for n in names)})")
            print(f"  {what}: ready ({seconds:.1f} s, of which compiling or loading {compiling:.1f} s)")
    return 0
