"""Expansion benchmark: netspec.expand on a netlist with about 10 million synapses.

    .venv/bin/python benchmarks/expand_benchmark.py [--neurons 100000] [--synapses 1e7] [--runs 3]

Cases: fixed connection probability (p = synapses / neurons^2) with a uniform random delay and
(1) a constant weight, (2) a normal random weight; each in precision double and single.
Prints per case: the expansion wall time (median of --runs runs), the bytes per synapse of
the resulting arrays (SynapseArrays.nbytes(): pre, post, and weight/delay unless constant),
and the peak extra memory during one expansion, measured with tracemalloc (the peak of traced
allocations above what was allocated before the call; NumPy reports its array buffers to
tracemalloc). The issue's target: 10^7 synapses in a few seconds, at most 16 bytes per synapse.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc

import netspec

NETLIST = """\
name: expand_benchmark
seed: 1
time: {{duration: 1 s}}
precision: {precision}
populations:
  n: {{size: {neurons}, model: lif}}
projections:
  - {{name: rec, from: n, to: n, connect: {{probability: {p!r}}}, weight: {weight}, delay: {{uniform: [0.1 ms, 10 ms]}}}}
"""
WEIGHTS = {"constant weight": "0.1 mV", "random weight": "{normal: {mean: 0.1 mV, std: 0.02 mV}}"}


def expand_once(net):
    t0 = time.perf_counter()
    arrays = netspec.expand(net, check_memory=False)
    return time.perf_counter() - t0, arrays


def peak_extra_bytes(net) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        arrays = netspec.expand(net, check_memory=False)
        _, peak = tracemalloc.get_traced_memory()
        del arrays
    finally:
        tracemalloc.stop()
    return peak - base


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=100_000)
    ap.add_argument("--synapses", type=float, default=1e7, help="expected number of synapses")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    p = args.synapses / float(args.neurons) ** 2
    print(f"netspec.expand: {args.neurons} neurons, connection probability {p:g} "
          f"(about {args.synapses:.3g} synapses), uniform delay in [0.1 ms, 10 ms); "
          f"median of {args.runs} runs; Python {sys.version.split()[0]}")
    print(f"{'case':34s} {'synapses':>10s} {'time [s]':>9s} {'bytes/syn':>9s} {'peak extra [MB]':>16s}")
    for wname, weight in WEIGHTS.items():
        for precision in ("double", "single"):
            net = netspec.loads(NETLIST.format(precision=precision, neurons=args.neurons, p=p, weight=weight))
            times = []
            for _ in range(args.runs):
                gc.collect()
                dt, arrays = expand_once(net)
                times.append(dt)
                n = arrays.n_synapses
                per = sum(s.nbytes() for s in arrays.projections) / max(n, 1)
                del arrays
            peak = peak_extra_bytes(net)
            print(f"{wname + ', ' + precision:34s} {n:10d} {statistics.median(times):9.2f} {per:9.1f} "
                  f"{peak / 2**20:16.0f}  ({peak / max(n, 1):.1f} B/synapse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
