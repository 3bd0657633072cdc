"""CUBA benchmark: evsim against Brian2 on the CUBA network of Brette et al. (2007), 1 s simulated.

    .venv/bin/python benchmarks/bench_cuba.py [--repeat 5] [--rounds 3] [--json cuba.json]
        [--targets numpy,cython,cpp_standalone] [--no-cold]
        [--netlist yaml_models/cuba.yaml] [--set time.duration=0.2s ...]

Runs, each in a subprocess of its own (see _bench.py), --repeat simulations per process, every
simulator once per round, --rounds rounds (the order reversed every other round), so that this
shared machine's slow spells fall on all of them and each round gives ratios of its own:

- evsim in exact mode and in grid mode (dt 0.1 ms, Brian2's schedule);
- Brian2 through evsim's brian2 backend on each target, on the grid-mode netlist. Brian2 only
  simulates on a grid: the exact-mode netlist runs in Brian2 on the same grid (its time.dt) and,
  CUBA having no source populations, is then the identical Brian2 network, so one set of Brian2
  runs serves both ratios (population-wide parameters are Brian2 constants, as in Brian2's own
  CUBA example). cpp_standalone compiles once per process and its binary is run again for the
  other repetitions;
- cold start: one evsim simulation in a fresh process with empty EVSIM_CACHE_DIR and
  NUMBA_CACHE_DIR (Numba compiles the engine and the model kernels), then a second process with
  the same, now warm, caches.

Prints machine information, a table of medians [min-max] of each simulator's own loop timer
(evsim meta wall_seconds, Brian2 run_seconds), the first run's compile time, build and whole-call
times, the time from process launch to the first result, the loop-time ratios (Brian2 / evsim
within each round, their median [min-max] over the rounds: above 1, evsim is faster), the start-up
times, peak RSS per process, and a check of the spikes: evsim grid mode against Brian2 spike for
spike, exact mode against Brian2 statistically.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import _bench as B

DEFAULT_NETLIST = os.path.join(B.REPO, "yaml_models", "cuba.yaml")
TARGETS = ("numpy", "cython", "cpp_standalone")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    B.add_run_options(ap, "mode")
    ap.add_argument("--netlist", default=DEFAULT_NETLIST, help="the CUBA netlist (default yaml_models/cuba.yaml)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                    help="netlist override, e.g. --set time.duration='0.2 s' (repeatable)")
    ap.add_argument("--targets", default=",".join(TARGETS), help="Brian2 targets, comma-separated ('' for none)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold/warm start-up processes")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary directory (job files, spikes)")
    args = ap.parse_args(argv)
    B.check_run_options(ap, args)
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        if t not in TARGETS:
            ap.error(f"unknown target {t!r} (expected: {', '.join(TARGETS)})")

    info = B.machine_info()
    print(f"CUBA benchmark: {os.path.relpath(args.netlist, B.REPO)}"
          f"{' with ' + ', '.join(args.overrides) if args.overrides else ''}; {args.rounds} rounds of "
          f"{args.repeat} runs per simulator")
    B.print_machine(info)
    skipped = B.brian2_problem(targets)
    for t, why in skipped.items():
        print(f"skipping Brian2 {t}: {why}")
    targets = [t for t in targets if t not in skipped]

    tmp = tempfile.mkdtemp(prefix="evsim-bench-cuba-")
    runner = B.Runner(tmp)
    t_start = time.perf_counter()
    try:
        out = run_all(args, targets, runner, tmp)
    finally:
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    out["machine"] = info
    out["machine"]["load_average_end"] = os.getloadavg()
    out["command"] = [sys.executable] + sys.argv
    out["total_seconds"] = time.perf_counter() - t_start
    report(out)
    print(f"\ntotal benchmark time {out['total_seconds']:.0f} s; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        B.write_json(args.json, out)
    failed = [label for label, res in out["jobs"].items() if not res.get("ok")]
    return 1 if failed else 0


def run_all(args, targets, runner, tmp) -> dict:
    specs, files = [], {}
    base = {"netlist": os.path.abspath(args.netlist), "repeat": args.repeat}
    exact = list(args.overrides) + ["time.mode=exact"]
    grid = list(args.overrides) + ["time.mode=grid"]
    print("runs:")
    for mode, ov in (("exact", exact), ("grid", grid)):
        label = f"evsim {mode}"
        files[label] = os.path.join(tmp, f"evsim_{mode}.npz")
        specs.append((label, dict(base, backend="event", overrides=ov, spikes_out=files[label], engine=args.engine,
                                  threads=args.threads),
                      None))
    for target in targets:
        label = f"brian2 {target}"
        files[label] = os.path.join(tmp, f"brian2_{target}.npz")
        specs.append((label, dict(base, backend="brian2", target=target, overrides=grid, spikes_out=files[label],
                                  rerun_binary=True, threads=args.threads), None))
    jobs = B.run_rounds(runner, specs, args.rounds)
    start = {}
    if not args.no_cold:
        caches = {"EVSIM_CACHE_DIR": os.path.join(tmp, "cold_evsim_cache"),
                  "NUMBA_CACHE_DIR": os.path.join(tmp, "cold_numba_cache")}
        for label in ("evsim exact, cold caches", "evsim exact, warm caches"):
            # what a fresh environment does, whatever --engine: compiles the engine over CUBA's models
            start[label] = runner.run(label, dict(base, backend="event", overrides=exact, repeat=1, engine="auto",
                                                  threads=args.threads), env=caches)
    out = {"benchmark": "cuba", "netlist": base["netlist"], "overrides": args.overrides, "repeat": args.repeat,
           "engine": args.engine, "threads": args.threads,
           "rounds": args.rounds, "jobs": jobs, "start": start,
           "summaries": {k: B.summarize(v) for k, v in {**jobs, **start}.items()}}
    out["ratios"] = {f"{b} / {e}": B.ratio(jobs[b], jobs[e]) for e in ("evsim exact", "evsim grid")
                     for b in jobs if b.startswith("brian2")}
    comps = []
    ref = next((b for b in jobs if b.startswith("brian2") and jobs[b].get("ok")), None)
    if ref is not None:
        for label, ov, verdict in (("evsim grid", grid, "spikes"), ("evsim exact", exact, "stats")):
            if jobs[label].get("ok"):
                comps.append(B.try_compare(files[label], files[ref], base["netlist"], ov, verdict, label, ref))
    out["comparisons"] = comps
    return out


def report(out: dict) -> None:
    jobs = out["jobs"]
    B.print_timings("CUBA", out)
    brian = [b for b in jobs if b.startswith("brian2")]
    if brian:
        print(f"\nloop-time ratio, Brian2 loop median / evsim loop median within each round (> 1: evsim faster): "
              f"median [min-max] over {out['rounds']} rounds:")
        rows = [[b] + [B.fmt_stat(out["ratios"][f"{b} / {e}"], 2) for e in ("evsim exact", "evsim grid")]
                for b in brian]
        B.print_table(["", "vs evsim exact", "vs evsim grid"], rows)
    if out["start"]:
        print("\nstart-up: one exact-mode simulation per process (process wall = launch to exit):")
        rows = []
        for label, res in out["start"].items():
            if not res.get("ok"):
                rows.append([label, "failed"] + [""] * 6)
                continue
            r = res["runs"][0]
            rows.append([label, B.fmt(res["process_wall"], 2), B.fmt(res["first_result"], 2),
                         B.fmt(res["import_seconds"], 2), B.fmt(res["expand_seconds"], 2), B.fmt(r["build"], 2),
                         B.fmt(r["compile"], 2), B.fmt(r["loop"], 3)])
        B.print_table(["", "process wall", "1st result", "imports", "expand", "build", "compile", "loop"], rows)
    print()
    B.note(B.MEMORY_NOTE + ":")
    B.print_table(B.MEMORY_HEADER, B.memory_rows({**jobs, **out["start"]}))
    B.print_comparisons(out["comparisons"])
    counts = {b: jobs[b]["runs"][0]["spikes"] for b in brian if jobs[b].get("ok")}
    if len(set(counts.values())) > 1:
        print(f"  note: Brian2 runs differ in spike count: {counts}")


if __name__ == "__main__":
    sys.exit(main())
