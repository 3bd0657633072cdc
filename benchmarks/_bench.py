"""Shared code of the evsim-vs-peer benchmark scripts (bench_cuba.py, bench_sparse.py).

Every simulation runs in a worker subprocess (this file run as a script with a job file), so
that each simulator is measured in a process of its own: its peak RSS is its own, a crash or a
hang does not take the benchmark down, and cold starts get fresh cache directories through the
environment. A worker expands the netlist itself (expansion is reproducible from the seed, so
every worker simulates the identical network) and runs ``repeat`` simulations in one process:

- ``loop``: the simulator's own loop timer: evsim ``meta['wall_seconds']`` (the engine loop),
  Brian2 ``meta['run_seconds']`` (Brian2's ``_last_run_time``: the network's run loop);
- ``compile``: evsim ``meta['compile_seconds']`` (Numba compiling or loading the engine and the
  model kernels), Brian2 ``meta['compile_seconds']`` (code generation, compilation, set-up);
- ``build``: evsim ``meta['build_seconds']`` (the engine's data layout), Brian2
  ``meta['construct_seconds']`` (building Brian2's objects, sympy included);
- ``call``: the whole ``backends.run`` call, timed by the worker;
- ``first result``: from the parent launching the worker process to the first run's result, the
  end-to-end time of one simulation in a fresh process (interpreter start, imports, expansion,
  build, compilation or cache loading, the run, collecting spikes).

cpp_standalone: the backend builds the project in a temporary directory (under this benchmark's
own temporary directory, through TMPDIR) and removes it after the run. With ``rerun_binary`` the
worker keeps the directory and runs the compiled binary ``repeat - 1`` more times, as Brian2's
device.run() does (``./main --results_dir results/``), reading Brian2's own loop timer
(results/last_run_info.txt) after each: several loop samples for one 10-60 s compilation. The
binary's peak RSS comes from os.wait4 on that child alone (the compiler's processes excluded).

Brian2's NeuronGroups are built by the backend, which declares a parameter with one value over
the whole population as a shared constant, as Brian2's own examples write it (see
backends/brian2.py): the fair peer, with each exp() propagator computed once per step.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MB = 2 ** 20


# ----------------------------------------------------------------------------- parent side
def machine_info() -> dict:
    """CPU, Python and package versions, load, and the repository state (the engine changes)."""
    from importlib import metadata

    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "numba": version("numba"),
        "brian2": version("brian2"),
        "cxx": cxx_version(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                            text=True, timeout=10).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "simcore", "backends", "netspec"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout
        info["git_dirty"] = sorted({line[3:] for line in dirty.splitlines()})
    except (OSError, subprocess.SubprocessError):
        info["git_commit"], info["git_dirty"] = None, []
    return info


def cxx_version():
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        return None
    try:
        out = subprocess.run([cxx, "-dumpfullversion", "-dumpversion"], capture_output=True, text=True, timeout=10)
        return f"{os.path.basename(cxx)} {out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        return os.path.basename(cxx)


def print_machine(info: dict) -> None:
    load = info["load_average"]
    print(f"machine: {info['cpu']}, {info['cpu_count']} CPUs ({info['cpus_usable']} usable), {info['platform']}")
    print(f"versions: Python {info['python']}, numpy {info['numpy']}, numba {info['numba']}, "
          f"brian2 {info['brian2'] or '(not installed)'}, C++ compiler {info['cxx'] or '(none)'}")
    dirty = f", uncommitted changes in {', '.join(info['git_dirty'])}" if info["git_dirty"] else ""
    print(f"evsim: commit {info['git_commit']}{dirty}; load average "
          f"{' '.join(f'{x:.2f}' for x in load) if load else '?'}")


def brian2_problem(targets) -> dict:
    """target -> why it cannot run here (missing Brian2 or C++ compiler); {} when all can."""
    import importlib.util

    if importlib.util.find_spec("brian2") is None:
        why = "Brian2 is not installed (pip install 'evsim[brian2]'; Brian2 2.11 needs Python >= 3.13)"
        return {t: why for t in targets}
    out = {}
    if "cpp_standalone" in targets and cxx_version() is None:
        out["cpp_standalone"] = "no C++ compiler (g++ or c++) on PATH"
    if "cython" in targets and cxx_version() is None:
        out["cython"] = "no C++ compiler (g++ or c++) on PATH"
    return out


class Runner:
    """Launches worker jobs in subprocesses, with a temporary directory for their files."""

    def __init__(self, tmpdir: str, verbose: bool = True, timeout: float = 1800.0):
        self.tmpdir = tmpdir
        self.verbose = verbose
        self.timeout = timeout
        self.count = 0

    def run(self, label: str, job: dict, env: dict | None = None) -> dict:
        self.count += 1
        base = os.path.join(self.tmpdir, f"job{self.count}")
        job = dict(job, result_path=base + ".result.json")
        if self.verbose:
            print(f"  [{time.strftime('%H:%M:%S')}] {label} ...", end="", flush=True)
        full_env = dict(os.environ, TMPDIR=self.tmpdir, PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        job["t_launch"] = time.time()
        with open(base + ".job.json", "w") as fh:
            json.dump(job, fh)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), base + ".job.json"], cwd=REPO,
                                  env=full_env, capture_output=True, text=True, timeout=self.timeout)
            rc, tail = proc.returncode, (proc.stdout + proc.stderr)[-3000:]
        except subprocess.TimeoutExpired as exc:
            rc, tail = None, f"timed out after {self.timeout:g} s; {str(exc.stderr or '')[-2000:]}"
        wall = time.perf_counter() - t0
        try:
            with open(job["result_path"]) as fh:
                res = json.load(fh)
        except (OSError, ValueError):
            res = {"ok": False, "error": f"worker exited with status {rc} without a result:\n{tail}"}
        res["process_wall"] = wall
        res["label"] = label
        if self.verbose:
            if res.get("ok"):
                loops = [r["loop"] for r in res["runs"]]
                print(f" {wall:.1f} s (loop median {statistics.median(loops):.3f} s over {len(loops)})", flush=True)
            else:
                print(f" FAILED after {wall:.1f} s", flush=True)
                print("    " + str(res.get("error", "")).strip().replace("\n", "\n    "), flush=True)
        return res


def run_rounds(runner: Runner, specs: list, rounds: int) -> dict:
    """Runs each (label, job, env) of ``specs`` once per round, ``rounds`` rounds, the order
    reversed every other round: a shared machine's slow spells (minutes long) then fall on every
    simulator alike, and each round gives a ratio of its own. Returns label -> the first round's
    result (its compile time, first result, memory and spike file), its ``runs`` joined over the
    rounds and ``rounds`` = the loop times of each round. A job that fails in any round fails."""
    merged = {}
    for r in range(rounds):
        for label, job, env in (specs if r % 2 == 0 else specs[::-1]):
            if r > 0 and not merged[label].get("ok"):
                continue
            tag = label if rounds == 1 else f"{label} (round {r + 1}/{rounds})"
            res = runner.run(tag, job if r == 0 else dict(job, spikes_out=None), env)
            res["label"] = label
            if r == 0:
                merged[label] = res
                res["rounds"] = []
            base = merged[label]
            if not res.get("ok"):
                base.update(ok=False, error=f"round {r + 1}: {res.get('error', '')}")
                continue
            base["rounds"].append([run["loop"] for run in res["runs"]])
            if r > 0:
                base["runs"] = base["runs"] + res["runs"]
    return merged


def stats(values) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarize(res: dict) -> dict:
    """Per-job summary: medians/min/max of each timing over the runs."""
    runs = res.get("runs", [])
    out = {key: stats([r.get(key) for r in runs]) for key in ("loop", "compile", "build", "call")}
    out["first_compile"] = runs[0].get("compile") if runs else None
    return out


def fmt_stat(s, digits=3) -> str:
    if not s:
        return "-"
    if s["n"] == 1:
        return f"{s['median']:.{digits}f}"
    return f"{s['median']:.{digits}f} [{s['min']:.{digits}f}-{s['max']:.{digits}f}]"


def fmt(x, digits=3, unit="") -> str:
    return "-" if x is None else f"{x:.{digits}f}{unit}"


def note(text: str) -> None:
    print(textwrap.fill(text, width=110, subsequent_indent="  "))


def print_table(header, rows, indent="  ") -> None:
    cols = [header] + rows
    widths = [max(len(str(r[c])) for r in cols) for c in range(len(header))]
    for k, r in enumerate(cols):
        cells = [str(x).ljust(widths[c]) if c == 0 else str(x).rjust(widths[c]) for c, x in enumerate(r)]
        print(indent + "  ".join(cells).rstrip())
        if k == 0:
            print(indent + "  ".join("-" * w for w in widths))


def timing_rows(jobs: dict) -> list:
    """Table rows: label, loop, compile (first run), build, call, first result, spikes, events."""
    rows = []
    for label, res in jobs.items():
        if not res.get("ok"):
            rows.append([label, "failed", "", "", "", "", "", ""])
            continue
        s = summarize(res)
        r0 = res["runs"][0]
        rows.append([label, fmt_stat(s["loop"]), fmt(s["first_compile"], 2), fmt_stat(s["build"], 2),
                     fmt_stat(s["call"], 2), fmt(res.get("first_result"), 1), r0.get("spikes", "-"),
                     r0.get("events", "-")])
    return rows


TIMING_HEADER = ["run", "loop [s] median [min-max]", "compile [s] 1st run", "build [s]", "call [s]",
                 "1st result [s]", "spikes", "syn. events"]


def memory_rows(jobs: dict) -> list:
    rows = []
    for label, res in jobs.items():
        if not res.get("ok"):
            continue
        n = res["n_synapses"]
        extra = res["rss_peak"] - res["rss_baseline"]
        later = "-"
        if res.get("rss_peak_later_runs"):
            later = f"{res['rss_before_later_runs'] / MB:.0f} -> {res['rss_peak_later_runs'] / MB:.0f}"
        binary = res.get("binary_rss")
        bps = res["runs"][0].get("bytes_per_synapse")
        rows.append([label, f"{res['rss_baseline'] / MB:.0f}", f"{res['rss_peak'] / MB:.0f}", f"{extra / MB:.0f}",
                     f"{extra / n:.0f}" if n else "-", later, "-" if binary is None else f"{binary / MB:.1f}",
                     "-" if bps is None else f"{bps:.1f}"])
    return rows


MEMORY_HEADER = ["process", "baseline [MB]", "peak [MB]", "peak - baseline [MB]", "(per synapse [B])",
                 "runs 2..N: start -> peak [MB]", "cpp binary peak [MB]", "evsim bytes/synapse"]
MEMORY_NOTE = ("memory: ru_maxrss of each worker process; baseline = after imports and expansion, before any run; "
               "peak includes the first run's compilation; 'runs 2..N' = RSS after the first run and the peak over "
               "the later runs (VmHWM reset through /proc/self/clear_refs); cpp binary = the standalone program's "
               "own peak (os.wait4); evsim bytes/synapse = meta['bytes_per_synapse'] of the compiled network")


def ratio(num: dict | None, den: dict | None) -> dict | None:
    """num's loop median / den's, per round (each round's runs ran minutes apart at most): the
    stats of those ratios (median, min, max, n), and ``per_round``."""
    if not num or not den or not num.get("ok") or not den.get("ok"):
        return None
    per_round = [statistics.median(a) / statistics.median(b) for a, b in zip(num["rounds"], den["rounds"])
                 if statistics.median(b) > 0]
    out = stats(per_round)
    if out:
        out["per_round"] = per_round
    return out


def write_json(path: str, data: dict) -> None:
    with open(path, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
    print(f"wrote {path}")


def compare_spikes(path_a: str, path_b: str, netlist_path: str, overrides, verdict: str, label_a: str,
                   label_b: str) -> dict:
    """Compares two saved Results (backends.compare); returns the figures the scripts print."""
    sys.path.insert(0, REPO)
    import netspec
    from backends import compare
    from backends.result import Result

    net = netspec.load(netlist_path, overrides=overrides)
    a, b = Result.load(path_a), Result.load(path_b)
    rep = compare.compare(a, b, net, verdict=verdict, label_a=label_a, label_b=label_b)
    pops = {p.name: {"n_a": p.n_a, "n_b": p.n_b, "matched": p.matched, "fraction_matched": p.fraction_matched,
                     "first_divergence": p.first_divergence, "rate_a": p.rate_a, "rate_b": p.rate_b,
                     "rate_rel_diff": p.rate_rel_diff, "cv_a": p.cv_a, "cv_b": p.cv_b} for p in rep.populations}
    return {"a": label_a, "b": label_b, "verdict": rep.verdict, "passed": bool(rep.passed), "populations": pops}


def try_compare(path_a: str, path_b: str, netlist_path: str, overrides, verdict: str, label_a: str,
                label_b: str) -> dict:
    """compare_spikes, or {"a", "b", "error"} if it fails: a failed check must not lose the timings."""
    try:
        return compare_spikes(path_a, path_b, netlist_path, overrides, verdict, label_a, label_b)
    except Exception as exc:
        return {"a": label_a, "b": label_b, "error": f"{type(exc).__name__}: {exc}"}


ENGINES = {"own": "the engine compiled over the network's own models (what `evsim warmup NETLIST` prepares)",
           "all": "the engine compiled over every model (what a network runs on until its own is compiled)"}


def add_run_options(ap, per: str) -> None:
    """The options both comparison benchmarks take: --repeat (simulations per simulator and
    ``per``), --rounds, --json, --threads, --engine."""
    ap.add_argument("--repeat", type=int, default=5, help=f"simulations per simulator and {per} (default 5)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of all simulators, alternating, each giving its own ratios (default 3)")
    ap.add_argument("--json", metavar="PATH", help="write every number to this JSON file")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for evsim and for Brian2 cpp_standalone (OpenMP); default 1")
    ap.add_argument("--engine", choices=tuple(ENGINES), default="own",
                    help="evsim's compiled engine: over the network's own models (default; what `evsim warmup "
                         "NETLIST` prepares) or over every model (what a network whose own engine is not "
                         "compiled runs on)")


def check_run_options(ap, args) -> None:
    if args.repeat < 1 or args.rounds < 1 or args.threads < 1:
        ap.error("--repeat, --rounds and --threads must be at least 1")


def print_timings(title: str, out: dict) -> None:
    """The network line and the table of loop, compile, build, call and first-result times."""
    jobs = out["jobs"]
    n = next((r["n_neurons"] for r in jobs.values() if r.get("ok")), None)
    s = next((r["n_synapses"] for r in jobs.values() if r.get("ok")), None)
    print(f"\n{title}: {n} neurons, {s} synapses; times in seconds; loop = each simulator's own loop timer "
          f"(median [min-max] of {out['repeat']} x {out.get('rounds', 1)} rounds); compile = first run in the "
          f"process; 1st result = process launch to the first run's result; evsim: "
          f"{ENGINES[out.get('engine', 'own')]}; threads: evsim and cpp_standalone {out.get('threads', 1)}, the "
          f"runtime targets 1")
    print_table(TIMING_HEADER, timing_rows(jobs))


def print_comparisons(comps: list) -> None:
    if comps:
        print("\nspike check:")
        for c in comps:
            if "error" in c:
                print(f"  {c['a']} vs {c['b']}: comparison failed: {c['error']}")
            else:
                print_comparison(c)


def print_comparison(c: dict) -> None:
    test = {"spikes": "spike for spike", "stats": "rates and CVs"}[c["verdict"]]
    print(f"  {c['a']} vs {c['b']} ({test}): {'PASS' if c['passed'] else 'FAIL'}")
    for name, p in c["populations"].items():
        div = "" if p["first_divergence"] is None else f", first divergence at {p['first_divergence'] * 1e3:.1f} ms"
        print(f"    {name}: spikes {p['n_a']} vs {p['n_b']}, matched {p['fraction_matched'] * 100:.1f} %{div}; "
              f"rate {p['rate_a']:.3f} vs {p['rate_b']:.3f} Hz ({p['rate_rel_diff'] * 100:+.1f} %); "
              f"CV {fmt(p['cv_a'], 3)} vs {fmt(p['cv_b'], 3)}")


# ----------------------------------------------------------------------------- worker side
def _maxrss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024    # kB on Linux


def _reset_peak() -> bool:
    """Resets the process's peak RSS (Linux >= 4.0: VmHWM); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return _hwm() is not None
    except OSError:
        return False


def _hwm() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _run_summary(r, call: float) -> dict:
    m, tot = r.meta, r.counters.get("total", {})
    if r.backend == "event":
        return {"loop": m["wall_seconds"], "compile": m["compile_seconds"], "build": m["build_seconds"], "call": call,
                "spikes": tot.get("spikes"), "events": tot.get("synaptic_events"),
                "bytes_per_synapse": m.get("bytes_per_synapse"), "simulated": m.get("simulated")}
    return {"loop": m["run_seconds"], "compile": m["compile_seconds"], "build": m["construct_seconds"], "call": call,
            "spikes": tot.get("spikes"), "events": tot.get("synaptic_events"), "simulated": m.get("simulated"),
            "dt": m.get("dt")}


def _dir_bytes(path: str) -> int:
    """Bytes of a cpp_standalone results directory's arrays (not its run info or stdout): equal
    for two runs that recorded the same number of spikes."""
    skip = {"last_run_info.txt", "stdout.txt", "rerun_stderr.txt", "random_generator_state"}
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files if f not in skip)


#: runs a command and prints its peak RSS (kB): a small process between the worker and the binary,
#: because Linux records the RSS of the process image an exec replaces in the new image's
#: ru_maxrss, and a child forked from the worker would report the worker's RSS
_RUSAGE_WRAPPER = """
import os, resource, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
print(usage.ru_maxrss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def _rerun_binary(workdir: str) -> dict:
    """Runs a cpp_standalone project's binary again; Brian2's loop timer, wall and the binary's
    peak RSS (at least that of the small wrapper process, ``rss_floor``)."""
    results = os.path.join(workdir, "results", "")
    info = os.path.join(results, "last_run_info.txt")
    os.remove(info)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-S", "-c", _RUSAGE_WRAPPER, "./main", "--results_dir", results],
                          cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    try:
        rss, floor, rc = (int(x) for x in proc.stdout.split())
    except ValueError:
        rss = floor = rc = None
    if proc.returncode != 0 or rc != 0:
        raise RuntimeError(f"the cpp_standalone binary failed (status {rc}): {proc.stderr[-2000:]}")
    with open(info) as fh:
        loop, fraction = (float(x) for x in fh.read().split())
    return {"loop": loop, "binary_wall": wall, "completed_fraction": fraction, "rss": rss * 1024,
            "rss_floor": floor * 1024, "results_bytes": _dir_bytes(results)}


def worker(job_path: str) -> int:
    with open(job_path) as fh:
        job = json.load(fh)
    out = {"ok": False, "job": {k: v for k, v in job.items() if k != "result_path"}}
    try:
        _work(job, out)
        out["ok"] = True
    except BaseException as exc:  # reported to the parent, which prints it and goes on
        import traceback

        out["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-3000:]}"
    with open(job["result_path"], "w") as fh:
        json.dump(out, fh, default=str)
    return 0 if out["ok"] else 1


def _work(job: dict, out: dict) -> None:
    sys.path.insert(0, REPO)
    t0 = time.perf_counter()
    import numpy as np  # noqa: F401

    import backends
    import netspec

    backend = job["backend"]
    opts = {}
    kept = []
    rerun = backend == "brian2" and job.get("target") == "cpp_standalone" and bool(job.get("rerun_binary"))
    if backend == "event":
        import numba  # noqa: F401

        import simcore.runner  # noqa: F401

        opts["engine"] = job.get("engine", "own")
        opts["threads"] = job.get("threads", 1)
    else:
        import brian2  # noqa: F401

        import backends.brian2 as bb

        opts["target"] = job["target"]
        if job["target"] == "cpp_standalone":
            opts["threads"] = job.get("threads", 1)
        if rerun:
            import types

            bb.shutil = types.SimpleNamespace(rmtree=lambda path, ignore_errors=False: kept.append(path))
    out["import_seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    arrays = backends.as_expanded(netspec.load(job["netlist"], overrides=job.get("overrides", ())))
    out["expand_seconds"] = time.perf_counter() - t1
    out["n_neurons"], out["n_synapses"] = int(arrays.n_neurons), int(arrays.n_synapses)
    out["rss_baseline"] = _maxrss()
    runs = out["runs"] = []
    n_calls = 1 if rerun else job["repeat"]
    try:
        for k in range(n_calls):
            t = time.perf_counter()
            r = backends.run(arrays, backend=backend, **opts)
            call = time.perf_counter() - t
            if k == 0:
                out["first_result"] = time.time() - job["t_launch"]
                if job.get("spikes_out"):
                    r.save(job["spikes_out"])
                out["meta"] = {key: v for key, v in r.meta.items() if isinstance(v, (int, float, str, bool))}
            runs.append(_run_summary(r, call))
            del r
            if k == 0 and n_calls > 1 and _reset_peak():
                out["rss_before_later_runs"] = _hwm()
        if "rss_before_later_runs" in out:
            out["rss_peak_later_runs"] = _hwm()
        out["rss_peak_python"] = _maxrss()
        if kept:
            workdir = kept[0]
            first_bytes = _dir_bytes(os.path.join(workdir, "results"))
            binary_rss = []
            for _ in range(job["repeat"] - 1):
                again = _rerun_binary(workdir)
                binary_rss.append(again["rss"])
                out["binary_rss_floor"] = again["rss_floor"]
                if again["results_bytes"] != first_bytes:
                    raise RuntimeError(f"a rerun of the binary wrote {again['results_bytes']} bytes of results, the "
                                       f"first run {first_bytes}: not the same simulation")
                runs.append({"loop": again["loop"], "binary_wall": again["binary_wall"], "rerun": True,
                             "spikes": runs[0]["spikes"], "events": runs[0]["events"]})
            out["binary_rss"] = max(binary_rss) if binary_rss else None
    finally:
        for path in kept:
            shutil.rmtree(path, ignore_errors=True)
    out["rss_peak"] = _maxrss()


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1]))
