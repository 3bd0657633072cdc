#!/usr/bin/env python
"""What the exact-mode engine's batched neuron updates gain on a netlist: the same network run with
them (the default) and without (``batch_updates=False``: every update one neuron at a time), in one
process, on the same compiled engine, alternating, so that the machine's slow and quick spells
hit both alike (process-to-process A/B on this shared machine drifts by more than the effect).

Before timing, the two runs are checked against each other: the same spikes of the same neurons,
times within 1e-10 s (the batches' exponential differs from libm's in the last bit, so times
differ in the last bits too). It prints the engine loop's time (``meta['wall_seconds']``) per
run, medians and ranges, and the median of the per-pair ratios.

    .venv/bin/python benchmarks/batch_updates.py yaml_models/cuba.yaml [--pairs 20] [--threads 1]
"""
from __future__ import annotations

import argparse

import numpy as np

import _bench as B
import backends
import netspec


def agreement(on, off) -> float:
    """The largest spike-time difference between two results of one network (inf if they differ in
    which neurons fire, or how often)."""
    worst = 0.0
    for pop, (t_on, i_on) in on.spikes.items():
        t_off, i_off = off.spikes[pop]
        if t_on.size != t_off.size or not np.array_equal(i_on, i_off):
            return float("inf")
        worst = max(worst, float(np.max(np.abs(t_on - t_off), initial=0.0)))
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netlist")
    ap.add_argument("--pairs", type=int, default=20, help="timed pairs (after one untimed: compile, caches)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="netlist override")
    args = ap.parse_args(argv)
    arrays = netspec.expand(netspec.load(args.netlist, overrides=args.set))
    if arrays.netlist.time.mode != "exact":
        print("batched updates are an exact-mode path: grid mode runs one neuron at a time either way")
        return 2

    def run(batch):
        return backends.run(arrays, threads=args.threads, batch_updates=batch)

    on, off = run(True), run(False)
    worst = agreement(on, off)
    print(f"{args.netlist}: {on.spike_count()} spikes; with and without batches within {worst:.1e} s")
    if worst > 1e-10:
        print("the two paths disagree")
        return 1
    times = {True: [], False: []}
    ratios = []
    for k in range(args.pairs):
        pair = {}
        for batch in ((True, False) if k % 2 == 0 else (False, True)):
            pair[batch] = run(batch).meta["wall_seconds"]
            times[batch].append(pair[batch])
        ratios.append(pair[True] / pair[False])
    for batch, label in ((False, "one at a time"), (True, "batched")):
        print(f"{label:14} {B.fmt_stat(B.stats(times[batch]), 4)} s")
    print(f"batched / one at a time: {B.fmt_stat(B.stats(ratios))} (median [min-max] of {args.pairs} pairs), "
          f"{args.threads} thread(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
